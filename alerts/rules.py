"""Alert rules as data: one validated definition per kind, stored in ``alert_rules`` and versioned in
the append-only event log (every create, edit and disable is an ``alert_rule.*`` event carrying
the rule's full definition and its new version).

Kinds and what their parameters mean (units in the names):

* ``threshold``: a telemetry ``metric`` crossing ``raise_level`` (``direction`` above or below)
  raises after the condition held for ``raise_after_min`` minutes; it clears once the value is
  back past ``clear_level`` (hysteresis) for ``clear_after_min`` quiet minutes; ``group`` "site"
  makes one alert per site, active while any of its assets meets the condition.
* ``underperformance``: the anomaly detector (:func:`forecasting.anomaly.find_underperformance`)
  on a site's 15-min output against its expected output from measured weather
  (:func:`data.expected_history.expected_output_history`); PV sites are judged in daylight only
  (the detector ignores intervals whose expectation is below ``min_expected_pct`` of capacity).
* ``comm_loss``: no telemetry from an asset (or any asset of a site) for ``stale_after_min``;
  PV assets only while the sun is up.
* ``price_spike`` / ``negative_price``: a market price of a node above ``above_per_mwh`` /
  below zero (``below_per_mwh``, default 0), per (market, node, market type).
* ``severe_weather``: a stored NOAA alert for the site at or above ``min_severity``, and (``unrated``)
  those without a severity, such as OpenWeatherMap's.
* ``integration``: a provider failing (gateway ``integration.failed``), cleared by its recovery.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from sqlalchemy import select

from bus.eventlog import record_event
from data.db import Database
from data.models import AlertRule, Site, utcnow

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
NOAA_SEVERITIES: tuple[str, ...] = ("Minor", "Moderate", "Severe", "Extreme")


class RuleError(ValueError):
    """A rule definition is invalid or the rule does not exist; ``status`` is the HTTP code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    severity: Severity = "warning"
    enabled: bool = True
    site_id: str | None = Field(None, max_length=64, description="one site; None: every site")


class ThresholdRule(_Base):
    kind: Literal["threshold"]
    metric: str = Field(min_length=1, max_length=32, description="telemetry metric, e.g. power_kw, temperature_c")
    direction: Literal["above", "below"] = "above"
    raise_level: float = Field(allow_inf_nan=False)
    clear_level: float = Field(allow_inf_nan=False)
    raise_after_min: float = Field(0.0, ge=0, le=1440, description="condition must hold this long to raise")
    clear_after_min: float = Field(0.0, ge=0, le=1440, description="quiet this long before it clears")
    asset_id: str | None = Field(None, max_length=80, description="one asset; None: every asset in scope")
    group: Literal["asset", "site"] = Field("asset", description="asset: one alert per asset; site: one alert per "
                                                                  "site while any of its assets meets the condition")

    @model_validator(mode="after")
    def _hysteresis(self) -> ThresholdRule:
        if self.direction == "above" and self.clear_level > self.raise_level:
            raise ValueError(f"clear_level {self.clear_level} must not be above raise_level {self.raise_level} "
                             "for direction 'above' (hysteresis)")
        if self.direction == "below" and self.clear_level < self.raise_level:
            raise ValueError(f"clear_level {self.clear_level} must not be below raise_level {self.raise_level} "
                             "for direction 'below' (hysteresis)")
        return self


class UnderperformanceRule(_Base):
    kind: Literal["underperformance"]
    window: int = Field(8, ge=2, le=96, description="15-min intervals averaged by the detector")
    k: float = Field(4.0, gt=0, le=20, description="standard errors below zero to flag")
    min_shortfall_pct: float = Field(5.0, gt=0, le=100, description="smallest flagged shortfall, % of capacity")
    min_expected_pct: float = Field(5.0, ge=0, le=100, description="intervals expected below this % of capacity "
                                                                    "are ignored (night for PV)")
    lookback_hours: int = Field(72, ge=12, le=24 * 14, description="history the detector reads")


class CommLossRule(_Base):
    kind: Literal["comm_loss"]
    stale_after_min: float = Field(30.0, ge=1, le=7 * 1440)
    scope: Literal["asset", "site"] = Field("asset", description="asset: each silent asset; site: every asset of a "
                                                                  "site silent (parent of its assets' alerts)")


class PriceSpikeRule(_Base):
    kind: Literal["price_spike"]
    market: str = Field(min_length=1, max_length=16)
    node: str | None = Field(None, max_length=64, description="None: every node of the market")
    market_type: Literal["DA", "RT"] | None = None
    above_per_mwh: float = Field(allow_inf_nan=False)


class NegativePriceRule(_Base):
    kind: Literal["negative_price"]
    market: str = Field(min_length=1, max_length=16)
    node: str | None = Field(None, max_length=64)
    market_type: Literal["DA", "RT"] | None = None
    below_per_mwh: float = Field(0.0, le=0, allow_inf_nan=False)


class SevereWeatherRule(_Base):
    kind: Literal["severe_weather"]
    min_severity: Literal["Minor", "Moderate", "Severe", "Extreme"] = "Severe"
    unrated: bool = Field(True, description="also alerts that carry no severity (OpenWeatherMap gives none)")


class IntegrationRule(_Base):
    kind: Literal["integration"]
    provider: str | None = Field(None, max_length=32, description="None: every provider")


RuleDefinition = Annotated[
    ThresholdRule | UnderperformanceRule | CommLossRule | PriceSpikeRule | NegativePriceRule | SevereWeatherRule
    | IntegrationRule,
    Field(discriminator="kind"),
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(RuleDefinition)
KINDS: tuple[str, ...] = ("threshold", "underperformance", "comm_loss", "price_spike", "negative_price",
                          "severe_weather", "integration")

# a starting definition per kind (the rules editor's template)
TEMPLATES: dict[str, dict[str, Any]] = {
    "threshold": {"kind": "threshold", "name": "Inverter temperature high", "severity": "warning",
                  "metric": "temperature_c", "direction": "above", "raise_level": 70, "clear_level": 65,
                  "raise_after_min": 10, "clear_after_min": 15},
    "underperformance": {"kind": "underperformance", "name": "Underperformance vs expected", "severity": "warning",
                         "window": 8, "k": 4.0, "min_shortfall_pct": 5.0, "min_expected_pct": 5.0,
                         "lookback_hours": 72},
    "comm_loss": {"kind": "comm_loss", "name": "Communication lost", "severity": "critical",
                  "stale_after_min": 30, "scope": "asset"},
    "price_spike": {"kind": "price_spike", "name": "ERCOT price spike", "severity": "warning", "market": "ERCOT",
                    "above_per_mwh": 1000},
    "negative_price": {"kind": "negative_price", "name": "Negative price", "severity": "info", "market": "ERCOT",
                       "below_per_mwh": 0},
    "severe_weather": {"kind": "severe_weather", "name": "Severe weather", "severity": "warning",
                       "min_severity": "Severe"},
    "integration": {"kind": "integration", "name": "Integration failing", "severity": "warning"},
}


def parse_definition(body: Any) -> Any:
    """Return the validated rule definition of ``body``; raise RuleError(422) naming each bad field."""
    try:
        return _ADAPTER.validate_python(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {str(e['msg']).removeprefix('Value error, ')}" for e in exc.errors())
        raise RuleError(422, f"invalid rule: {problems}") from None


def rule_json(rule: AlertRule) -> dict[str, Any]:
    """Return a stored rule as a JSON-ready dict (its definition plus id, version and times)."""
    return {**rule.definition, "id": rule.id, "version": rule.version, "enabled": rule.enabled,
            "created_at": rule.created_at.isoformat(), "updated_at": rule.updated_at.isoformat(),
            "updated_by": rule.updated_by}


def definition_of(rule: AlertRule) -> Any:
    """Return the validated definition object of a stored rule."""
    return _ADAPTER.validate_python({**rule.definition, "enabled": rule.enabled})


def _check_site(session: Any, site_id: str | None) -> None:
    if site_id is not None and session.get(Site, site_id) is None:
        raise RuleError(422, f"invalid rule: site_id: no site {site_id!r}")


def create_rule(db: Database, body: Any, actor: str) -> dict[str, Any]:
    """Validate and store a new rule (version 1); append ``alert_rule.created``; return it."""
    definition = parse_definition(body)
    data = definition.model_dump(mode="json")
    with db.session() as session:
        _check_site(session, definition.site_id)
        now = utcnow()
        rule = AlertRule(name=definition.name, kind=definition.kind, severity=definition.severity,
                         enabled=definition.enabled, site_id=definition.site_id, definition=data, version=1,
                         created_at=now, updated_at=now, updated_by=actor[:100])
        session.add(rule)
        session.flush()
        record_event(session, actor, "alert_rule.created", "alert_rule", str(rule.id),
                     {"version": 1, "definition": data})
        return rule_json(rule)


def update_rule(db: Database, rule_id: int, body: Any, actor: str) -> dict[str, Any]:
    """Replace a rule's definition (same kind), bump its version, append ``alert_rule.updated``."""
    definition = parse_definition(body)
    data = definition.model_dump(mode="json")
    with db.session() as session:
        rule = session.get(AlertRule, rule_id, with_for_update=True)
        if rule is None:
            raise RuleError(404, f"no alert rule with id {rule_id}")
        if definition.kind != rule.kind:
            raise RuleError(422, f"invalid rule: kind: a {rule.kind} rule cannot become {definition.kind}; "
                                 "create a new rule")
        _check_site(session, definition.site_id)
        rule.name, rule.severity, rule.enabled, rule.site_id = (definition.name, definition.severity,
                                                                 definition.enabled, definition.site_id)
        rule.definition, rule.version = data, rule.version + 1
        rule.updated_at, rule.updated_by = utcnow(), actor[:100]
        kind = "alert_rule.updated" if definition.enabled else "alert_rule.disabled"
        record_event(session, actor, kind, "alert_rule", str(rule.id), {"version": rule.version, "definition": data})
        session.flush()
        return rule_json(rule)


def set_enabled(db: Database, rule_id: int, enabled: bool, actor: str) -> dict[str, Any]:
    """Enable or disable a rule (a new version); append ``alert_rule.enabled`` / ``.disabled``."""
    with db.session() as session:
        rule = session.get(AlertRule, rule_id, with_for_update=True)
        if rule is None:
            raise RuleError(404, f"no alert rule with id {rule_id}")
        data = {**rule.definition, "enabled": enabled}
        rule.enabled, rule.definition, rule.version = enabled, data, rule.version + 1
        rule.updated_at, rule.updated_by = utcnow(), actor[:100]
        record_event(session, actor, "alert_rule.enabled" if enabled else "alert_rule.disabled", "alert_rule",
                     str(rule.id), {"version": rule.version, "definition": data})
        session.flush()
        return rule_json(rule)


def list_rules(db: Database, enabled_only: bool = False) -> list[dict[str, Any]]:
    """Return every rule (oldest first) as JSON-ready dicts."""
    stmt = select(AlertRule).order_by(AlertRule.id)
    if enabled_only:
        stmt = stmt.where(AlertRule.enabled.is_(True))
    with db.read_session() as session:
        return [rule_json(r) for r in session.execute(stmt).scalars()]


def rule_history(db: Database, rule_id: int) -> list[dict[str, Any]]:
    """Return every version of a rule from the event log: [{version, kind, actor, ts, definition}]."""
    from data.models import Event

    with db.read_session() as session:
        rows = session.execute(select(Event).where(Event.entity_type == "alert_rule", Event.entity_id == str(rule_id))
                               .order_by(Event.id)).scalars().all()
        return [{"version": e.payload.get("version"), "kind": e.kind, "actor": e.actor, "ts": e.ts.isoformat(),
                 "definition": e.payload.get("definition")} for e in rows]


def ensure_default_rules(db: Database) -> int:
    """Create the built-in rules (underperformance, communication loss, integration, severe weather)
    when no rule exists yet, so a fresh install raises the alerts the README promises; return how many."""
    with db.read_session() as session:
        if session.execute(select(AlertRule.id).limit(1)).first() is not None:
            return 0
    made = 0
    for kind in ("underperformance", "comm_loss", "integration", "severe_weather"):
        create_rule(db, TEMPLATES[kind], "system")
        made += 1
    return made


def as_utc(value: dt.datetime) -> dt.datetime:
    """Return ``value`` as tz-aware UTC (naive values are taken as UTC, as SQLite returns them)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
