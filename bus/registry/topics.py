"""The message schemas of every bus topic, one pydantic model per (topic, version).

A published version is frozen: its JSON Schema is committed under ``bus/registry/snapshots`` and
``tests/bus/test_registry.py`` fails if the model drifts from it. To change a message, add a new
version (a new model registered with ``version=N+1``); :func:`bus.registry.check_compatible`
refuses it if it would break producers or consumers of the previous version.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, WithJsonSchema, model_validator

# finiteness checked by pydantic-core on the float branch (a constraint on the whole union ran a
# Python check per element: ~3 ms per 5,000-point message); floats first so that a bad value's
# first error names the number check; the JSON Schema stays the published anyOf [integer, number]
FiniteNumber = Annotated[Annotated[StrictFloat, Field(allow_inf_nan=False)] | StrictInt,
                         WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "number"}]})]


class TelemetryV1(BaseModel):
    """telemetry.v1: validated telemetry points on their way to the store worker, in columns.

    Point i is (asset_id[i], metric[i], ts_ms[i], value[i]): ts_ms is the measurement instant in
    milliseconds since the Unix epoch (UTC); value is in the metric's unit (ingest/metrics.py).
    The four columns have the same length.
    """

    model_config = ConfigDict(extra="forbid", title="telemetry.v1")

    v: Literal[1] = Field(description="message version")
    source: StrictStr = Field(max_length=120, description="producer, e.g. api:<token>, simulator")
    asset_id: list[StrictStr] = Field(description="asset id of each point")
    metric: list[StrictStr] = Field(description="metric name of each point (ingest/metrics.py)")
    ts_ms: list[StrictInt] = Field(description="instant of each point, epoch milliseconds UTC")
    value: list[FiniteNumber] = Field(description="value of each point in the metric's unit")

    @model_validator(mode="after")
    def _same_length(self) -> TelemetryV1:
        lengths = {len(self.asset_id), len(self.metric), len(self.ts_ms), len(self.value)}
        if len(lengths) != 1:
            raise ValueError("columns asset_id, metric, ts_ms and value differ in length")
        return self


class PriceTick(BaseModel):
    """One market price for [interval_start, interval_end) in currency per MWh."""

    model_config = ConfigDict(extra="forbid")

    market: StrictStr = Field(max_length=16)
    node: StrictStr = Field(max_length=64)
    market_type: Literal["DA", "RT"]
    interval_start: StrictStr = Field(description="ISO 8601 UTC, interval start")
    interval_end: StrictStr = Field(description="ISO 8601 UTC, interval end (exclusive)")
    price: FiniteNumber = Field(description="currency per MWh")
    currency: StrictStr = Field(min_length=3, max_length=3)


class PricesV1(BaseModel):
    """prices.v1: market prices published by a market connector or the price feed."""

    model_config = ConfigDict(extra="forbid", title="prices.v1")

    v: Literal[1]
    source: StrictStr = Field(max_length=64)
    prices: list[PriceTick]


class EventV1(BaseModel):
    """events.v1: one entry of the append-only audit log (alerts, work orders, settings, users)."""

    model_config = ConfigDict(extra="forbid", title="events.v1")

    v: Literal[1]
    ts: StrictStr = Field(description="ISO 8601 UTC instant of the change")
    actor: StrictStr = Field(max_length=100, description="user name, 'system' or 'token:<name>'")
    kind: StrictStr = Field(max_length=64, description="e.g. alert.acknowledged, dead_letter.replayed")
    entity_type: StrictStr = Field("", max_length=32)
    entity_id: StrictStr = Field("", max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict)


class AlertChangedV1(BaseModel):
    """alert.changed: one alert state change (raised, suppressed, acknowledged, resolved, re-opened).

    Published by :mod:`alerts.lifecycle` after the change is committed, exactly one message per
    change; the notifications consume it. ``state`` is the state after the change: a ``suppressed``
    alert (flapping, parent outage, maintenance window, silence; ``suppressed_reason`` says which)
    must reach no person; the same alert later published as ``open`` is the moment it does.
    ``change`` names what happened; ``ts`` is when (ISO 8601 UTC); ``actor`` is "system" for the
    rule evaluator or the user / token that acknowledged or resolved it.
    """

    model_config = ConfigDict(extra="forbid", title="alert.changed")

    v: Literal[1] = Field(description="message version")
    alert_id: StrictInt = Field(description="alerts.id")
    rule_id: StrictInt | None = Field(description="alert_rules.id of the rule that raised it (None: built-in)")
    site_id: StrictStr | None = Field(max_length=64)
    asset_id: StrictStr | None = Field(max_length=80)
    severity: Literal["info", "warning", "critical"]
    state: Literal["open", "acknowledged", "resolved", "suppressed"]
    change: Literal["raised", "suppressed", "unsuppressed", "acknowledged", "resolved", "escalated"] = Field(
        description="what happened: raised (new, open), suppressed (new or existing, hidden), unsuppressed "
                    "(hidden alert now open), acknowledged, resolved, escalated (severity raised)")
    title: StrictStr = Field(max_length=300)
    message: StrictStr = Field(max_length=4000)
    dedup_key: StrictStr = Field(max_length=200)
    suppressed_reason: StrictStr | None = Field(None, max_length=500)
    comment: StrictStr = Field("", max_length=500, description="the operator's comment on ack/resolve")
    ts: StrictStr = Field(description="ISO 8601 UTC instant of the change")
    actor: StrictStr = Field(max_length=100, description="'system', a user name or 'token:<name>'")


class NotificationV1(BaseModel):
    """notification.v1: a notification of the outbox is due to be sent (notifications/outbox.py).

    The row in ``notifications`` is the truth; the message only says "send row N now". A sender
    claims the row before it calls the provider, so a message delivered twice sends once.
    """

    model_config = ConfigDict(extra="forbid", title="notification.v1")

    v: Literal[1]
    notification_id: StrictInt
    attempt: StrictInt = Field(ge=1, description="the attempt this message asks for (1 = first)")
    published_at: StrictStr = Field(description="ISO 8601 UTC instant the relay published it")


class WebhookV1(BaseModel):
    """webhooks.<provider> v1: a signature-verified provider callback (api/webhooks.py)."""

    model_config = ConfigDict(extra="forbid", title="webhooks")

    v: Literal[1]
    provider: StrictStr = Field(max_length=20)
    received_at: StrictStr = Field(description="ISO 8601 UTC")
    content_type: StrictStr = Field(max_length=100)
    data: Any = Field(description="form fields as an object, or the parsed JSON body")


# topic -> (version, model, merge fields): merge fields name the lists that may be concatenated
# across messages of the topic so a consumer can store several messages in one transaction.
TOPICS: list[tuple[str, int, type[BaseModel], tuple[str, ...]]] = [
    ("telemetry.v1", 1, TelemetryV1, ("asset_id", "metric", "ts_ms", "value")),
    ("prices.v1", 1, PricesV1, ("prices",)),
    ("events.v1", 1, EventV1, ()),
    ("alert.changed", 1, AlertChangedV1, ()),
    ("notification.v1", 1, NotificationV1, ()),
    ("webhooks.twilio", 1, WebhookV1, ()),
    ("webhooks.sendgrid", 1, WebhookV1, ()),
    ("webhooks.slack", 1, WebhookV1, ()),
]
