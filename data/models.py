"""SQLAlchemy 2.x models: the whole schema of Fleetlight.

Conventions
-----------
* Every timestamp column is :class:`UTCDateTime`: tz-aware UTC in Python, stored as UTC.
* Interval data (telemetry rollups, prices, forecasts, weather) is labelled by **interval start**.
* Power is stored in kW at asset level and MW at site level; units are in the column names.
* The ``events`` table is append-only: the migration installs triggers that refuse UPDATE/DELETE.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timestamp that must be tz-aware on the way in and comes back tz-aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must carry a time zone")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """Return the current time as a tz-aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every Fleetlight table."""

    type_annotation_map = {dict: JSON, list: JSON}


class SiteKind(str, enum.Enum):
    solar = "solar"
    wind = "wind"
    storage = "storage"
    hybrid = "hybrid"
    substation = "substation"


class AssetKind(str, enum.Enum):
    inverter = "inverter"
    turbine = "turbine"
    battery = "battery"
    meter = "meter"
    transformer = "transformer"


class Role(str, enum.Enum):
    viewer = "viewer"
    wall = "wall"
    analyst = "analyst"
    operator = "operator"
    manager = "manager"
    admin = "admin"


class AlertState(str, enum.Enum):
    """open -> acknowledged -> resolved; ``suppressed``: raised but hidden (flapping, a parent outage,
    a maintenance window or a silence; the reason is in ``alerts.suppressed_reason``)."""

    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"
    suppressed = "suppressed"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=32, validate_strings=True)


# --- portfolio structure -------------------------------------------------------------------


class Portfolio(Base):
    __tablename__ = "portfolios"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    sites: Mapped[list[Site]] = relationship(back_populates="portfolio")


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    portfolio_id: Mapped[str] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SiteKind] = mapped_column(_enum(SiteKind, "site_kind"))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    capacity_mw: Mapped[float] = mapped_column(Float)
    market: Mapped[str] = mapped_column(String(32), index=True)
    pricing_node: Mapped[str] = mapped_column(String(64), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    country: Mapped[str] = mapped_column(String(2), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    # "measured" for real sites, "derived" for demo sites whose output is modelled from real series
    data_origin: Mapped[str] = mapped_column(String(16), default="measured")
    data_source: Mapped[str] = mapped_column(Text, default="")
    # which real series the simulator replays for this site, and its scale factor
    profile_key: Mapped[str] = mapped_column(String(64), default="")
    commissioned_on: Mapped[dt.date | None] = mapped_column()
    attributes: Mapped[dict] = mapped_column(default=dict)

    portfolio: Mapped[Portfolio] = relationship(back_populates="sites")
    assets: Mapped[list[Asset]] = relationship(back_populates="site", cascade="all, delete-orphan")


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AssetKind] = mapped_column(_enum(AssetKind, "asset_kind"))
    capacity_kw: Mapped[float] = mapped_column(Float)
    manufacturer: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[dict] = mapped_column(default=dict)

    site: Mapped[Site] = relationship(back_populates="assets")


# --- telemetry -----------------------------------------------------------------------------


class TelemetryPoint(Base):
    """One raw measurement; (asset, metric, ts) is unique so re-sent points are stored once."""

    __tablename__ = "telemetry"

    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    value: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_telemetry_ts", "ts"),)


class TelemetryRollup(Base):
    """Aggregate of raw telemetry per asset, metric and bucket (15min, 1h, 1d; interval start)."""

    __tablename__ = "telemetry_rollups"

    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    resolution: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket_start: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    sum: Mapped[float] = mapped_column(Float)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    last_ts: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_value: Mapped[float] = mapped_column(Float)
    # power_kw only: trapezoid energy of the segments STARTING in the bucket (domain.energy)
    energy_kwh: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")

    __table_args__ = (Index("ix_rollups_res_bucket", "resolution", "bucket_start"),)


class AssetLatest(Base):
    """Latest value per asset and metric, kept at ingest so live views read one small table."""

    __tablename__ = "asset_latest"

    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    value: Mapped[float] = mapped_column(Float)


class DeadLetter(Base):
    """A message or row that failed validation or processing, kept with its reason."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(64))  # e.g. api.telemetry, bus.telemetry
    topic: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    replayed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # a replay that fails again counts here, on the same row (``reason`` stays the first failure)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# --- weather, markets, forecasts ------------------------------------------------------------


class WeatherRecord(Base):
    """An observation (issued_at is None) or a forecast for a site at an interval start."""

    __tablename__ = "weather"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(12))  # observation | forecast
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    temperature_c: Mapped[float | None] = mapped_column(Float)
    cloud_cover_pct: Mapped[float | None] = mapped_column(Float)
    wind_speed_ms: Mapped[float | None] = mapped_column(Float)
    wind_direction_deg: Mapped[float | None] = mapped_column(Float)
    ghi_wm2: Mapped[float | None] = mapped_column(Float)
    precipitation_mm: Mapped[float | None] = mapped_column(Float)
    pressure_hpa: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint("site_id", "source", "kind", "ts", "issued_at", name="uq_weather"),
        Index("ix_weather_site_ts", "site_id", "ts"),
    )


class WeatherAlert(Base):
    """A severe-weather alert (NOAA NWS or OpenWeatherMap) affecting a site."""

    __tablename__ = "weather_alerts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(32), default="")
    headline: Mapped[str] = mapped_column(Text, default="")
    onset: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ends: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("source", "external_id", "site_id", name="uq_weather_alert"),)


class MarketPrice(Base):
    """A settlement price for one market, node and market type over [interval_start, interval_end)."""

    __tablename__ = "market_prices"

    market: Mapped[str] = mapped_column(String(16), primary_key=True)  # ERCOT, CAISO, EPEX-DE-LU ...
    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    market_type: Mapped[str] = mapped_column(String(8), primary_key=True)  # DA | RT
    interval_start: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    interval_end: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    price: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))
    unit: Mapped[str] = mapped_column(String(16), default="MWh")
    source: Mapped[str] = mapped_column(String(32), default="")

    __table_args__ = (Index("ix_prices_start", "interval_start"),)


class ModelVersion(Base):
    """A trained forecast model in the registry."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    model_name: Mapped[str] = mapped_column(String(32))  # prophet | xgboost | persistence | climatology
    version: Mapped[str] = mapped_column(String(64))
    trained_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    train_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    train_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    features: Mapped[list] = mapped_column(default=list)
    metrics: Mapped[dict] = mapped_column(default=dict)
    artifact: Mapped[bytes | None] = mapped_column(LargeBinary)
    serving: Mapped[str] = mapped_column(String(32), default="local")  # local | tfserving | vertex
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("site_id", "model_name", "version", name="uq_model_version"),)


class GenerationForecast(Base):
    """A generation forecast for a site: quantiles in MW for the interval starting at target_start."""

    __tablename__ = "generation_forecasts"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    target_start: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    horizon_min: Mapped[int] = mapped_column(Integer)
    p10_mw: Mapped[float | None] = mapped_column(Float)
    p50_mw: Mapped[float] = mapped_column(Float)
    p90_mw: Mapped[float | None] = mapped_column(Float)
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))


# --- operations -----------------------------------------------------------------------------


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[str | None] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))  # info | warning | critical
    state: Mapped[AlertState] = mapped_column(_enum(AlertState, "alert_state"), default=AlertState.open)
    title: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dedup_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    # since revision 0006: the rule that raised it, who resolved it, the operators' comments,
    # why it is suppressed (state ``suppressed``), how often its condition came back while it was active
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"), index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    ack_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    resolve_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    suppressed_reason: Mapped[str | None] = mapped_column(Text)
    occurrences: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AlertRule(Base):
    """A rule as data: ``kind`` and its parameters (``definition``, validated by alerts.rules).

    Every create, edit and disable appends an ``alert_rule.*`` event with the full definition
    and the new ``version``, so the events table holds each version of every rule.
    """

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(16))  # info | warning | critical
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    definition: Mapped[dict] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100), default="system")


class AlertSilence(Base):
    """A maintenance window or a silence: alerts matching it (site, asset, rule; empty = any) raised
    between ``starts_at`` and ``ends_at`` are suppressed with ``reason``."""

    __tablename__ = "alert_silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # maintenance | silence
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[str | None] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """One message to one person on one channel, kept as the outbox row (notifications/outbox.py).

    ``status``: pending (due at ``next_attempt_at``) -> queued (published on the bus) -> sending
    (claimed by a sender) -> sent -> delivered (provider receipt), or back to pending with a later
    ``next_attempt_at`` after a transient failure, or failed (permanent, ``error`` says why; the
    next channel of the person gets ``fallback_of_id`` = this row), or cancelled (the alert was
    acknowledged or resolved before it went out).
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # sms | voice | email | slack | slack_webhook | teams
    recipient: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    provider_message_id: Mapped[str | None] = mapped_column(String(100), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    contact_method_id: Mapped[int | None] = mapped_column(ForeignKey("contact_methods.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default="open")  # the alert state it tells: open | acknowledged | resolved
    stage: Mapped[int] = mapped_column(Integer, default=0)  # escalation stage that sent it
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivery_status: Mapped[str | None] = mapped_column(String(64))  # the provider's last word (delivered, bounce ...)
    fallback_of_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))


class NotificationAttempt(Base):
    """One call to a provider for a notification (or one delivery receipt about it), with its outcome."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    outcome: Mapped[str] = mapped_column(String(16))  # sent | retry | failed | receipt
    status_code: Mapped[int | None] = mapped_column(Integer)
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(Text)


class ContactMethod(Base):
    """A way to reach a user: tried in ``priority`` order, the next one when one fails for good."""

    __tablename__ = "contact_methods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # sms | voice | email | slack | slack_webhook | teams
    address: Mapped[str] = mapped_column(String(500))  # E.164 number, e-mail, Slack channel id, webhook URL
    label: Mapped[str] = mapped_column(String(100), default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    slack_user_id: Mapped[str | None] = mapped_column(String(32))  # Slack member id for button acknowledgements
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationPreference(Base):
    """A user's quiet hours (local wall-clock minutes in ``timezone``) and what still breaks through."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    quiet_start_min: Mapped[int | None] = mapped_column(Integer)  # minutes after local midnight; None: no quiet hours
    quiet_end_min: Mapped[int | None] = mapped_column(Integer)
    quiet_bypass_severity: Mapped[str] = mapped_column(String(16), default="critical")  # this and above still page
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OnCallSchedule(Base):
    """A rotation: ``members`` (user ids) take shifts of ``shift_hours`` in turn from ``rotation_start``."""

    __tablename__ = "oncall_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    rotation_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    shift_hours: Mapped[float] = mapped_column(Float, default=168.0)
    members: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OnCallOverride(Base):
    """``user_id`` is on call for ``schedule_id`` over [starts_at, ends_at) instead of the rotation."""

    __tablename__ = "oncall_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("oncall_schedules.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")


class EscalationPolicy(Base):
    """Who is paged for which alerts, stage after stage until someone acknowledges.

    ``stages``: ``[{"delay_min": 0, "targets": [{"type": "schedule"|"user", "id": 1}]}, ...]``:
    each stage starts its ``delay_min`` after the one before (the first after the alert opened);
    ``repeat`` runs the stages again that many times.
    The first policy by ``priority`` whose ``min_severity`` and ``site_ids`` (empty: all) match wins.
    """

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    min_severity: Mapped[str] = mapped_column(String(16), default="info")
    site_ids: Mapped[list] = mapped_column(default=list)
    stages: Mapped[list] = mapped_column(default=list)
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertEscalation(Base):
    """Where an open alert is in its escalation policy (one row per alert)."""

    __tablename__ = "alert_escalations"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("escalation_policies.id", ondelete="SET NULL"))
    stage: Mapped[int] = mapped_column(Integer, default=0)  # the last stage run
    round: Mapped[int] = mapped_column(Integer, default=0)
    next_stage_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | stopped | exhausted
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    alert_snapshot: Mapped[dict] = mapped_column(default=dict)  # the alert.changed payload that opened it


class WorkOrder(Base):
    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"), index=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[str | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"))
    system: Mapped[str] = mapped_column(String(16))  # salesforce | sap_pm
    external_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32), default="pending")
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class IntegrationCall(Base):
    """One outbound call through the gateway, with its outcome and estimated cost."""

    __tablename__ = "integration_calls"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(32))
    endpoint: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    latency_ms: Mapped[float] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # ok | error | fallback | rejected
    bytes_received: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    breaker_state: Mapped[str] = mapped_column(String(16), default="closed")
    cost_estimate: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_calls_provider_started", "provider", "started_at"),)


class Event(Base):
    """Append-only audit log of every state change (alerts, work orders, settings, user actions)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))  # user name, "system", "token:<name>"
    kind: Mapped[str] = mapped_column(String(64), index=True)  # e.g. alert.acknowledged, user.signed_in
    entity_type: Mapped[str] = mapped_column(String(32), default="")
    entity_id: Mapped[str] = mapped_column(String(100), default="")
    payload: Mapped[dict] = mapped_column(default=dict)


# --- security -------------------------------------------------------------------------------


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.viewer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # portfolio ids this user may see; empty means all
    portfolio_scope: Mapped[list] = mapped_column(default=list)


class ApiToken(Base):
    """A machine or wall-display token, stored as a hash, scoped and revocable."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list] = mapped_column(default=list)  # e.g. ["telemetry:write"]
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.viewer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SecretRecord(Base):
    """A provider key, webhook secret or OAuth token, encrypted at rest."""

    __tablename__ = "secrets"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthSession(Base):
    """A signed-in browser session (a person or a wall screen), revocable server-side.

    The session cookie carries a random key; the row is keyed by its SHA-256, so the table alone
    cannot be turned back into cookies. A row ended (sign-out, password change, disabled user,
    timeout) refuses that cookie from then on, in every process and after a restart.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))


class WebhookReceipt(Base):
    """A signed webhook request already accepted, kept until ``expires_at`` to refuse replays."""

    __tablename__ = "webhook_receipts"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # provider:sha256 of the signed content
    provider: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
