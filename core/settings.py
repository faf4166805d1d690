"""The one typed settings object of Fleetlight.

Every setting comes from an environment variable prefixed ``FLEETLIGHT_`` or from a ``.env``
file in the working directory. ``.env.example`` lists every key with where to obtain it. A bad
value stops start-up with a message naming the variable (see :func:`load_settings`).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(RuntimeError):
    """Raised when a setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    """Typed configuration; field ``x`` is read from ``FLEETLIGHT_X``."""

    model_config = SettingsConfigDict(
        env_prefix="FLEETLIGHT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
    )

    # --- server -----------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(8050, ge=1, le=65535)
    debug: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # text: one line per record; json: one JSON object per record (with the request id), for log shippers
    log_format: Literal["text", "json"] = "text"
    # folder shared by every process of one deployment for Prometheus metrics (unset: this process only)
    metrics_multiproc_dir: Path | None = None
    secret_key: SecretStr | None = None
    instance_dir: Path = REPO_ROOT / "instance"

    # --- store ------------------------------------------------------------------------------
    database_url: str = ""
    db_echo: bool = False

    # --- live path --------------------------------------------------------------------------
    bus_backend: Literal["inprocess", "rabbitmq"] = "inprocess"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    redis_url: str = ""
    live_push_interval_ms: int = Field(50, ge=20, le=5000)
    simulator_enabled: bool = True
    simulator_interval_s: float = Field(10.0, gt=0.1, le=3600)
    simulator_max_assets: int = Field(5000, ge=1, le=200_000)

    raw_retention_days: float = Field(3.0, gt=0, le=3650)
    # YAML file of SCADA adapters (MQTT brokers, Modbus TCP devices; docs/scada.md); unset: none
    scada_config: Path | None = None
    # rollups kept this many days per resolution; 0 keeps them for ever (a coarser one never shorter)
    retention_15min_days: float = Field(730.0, ge=0, le=36500)
    retention_1h_days: float = Field(0.0, ge=0, le=36500)
    retention_1d_days: float = Field(0.0, ge=0, le=36500)

    # --- fleet rules (domain/): thresholds every layer reads from here -------------------------
    stale_after_s: int = Field(900, ge=10, le=7 * 86400)  # a site with no power point for longer is 'stale'
    offline_after_s: int = Field(6 * 3600, ge=60, le=30 * 86400)  # no point for longer: 'offline'
    producing_min_fraction: float = Field(0.01, ge=0.0, lt=1.0)  # output/capacity at or above: 'producing'
    # a performance ratio needs an expectation of at least this share of capacity (low sun, calm: '—')
    performance_min_expected_fraction: float = Field(0.05, ge=0.0, lt=1.0)
    # longest gap between two power points the energy integral bridges (hourly back-fill = 3,600 s)
    energy_max_gap_s: int = Field(3900, ge=10, le=86400)

    # --- ingest limits ----------------------------------------------------------------------
    ingest_max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    ingest_max_points: int = Field(50_000, ge=1)
    ingest_max_future_s: int = Field(300, ge=0)
    ingest_max_age_days: int = Field(3650, ge=1)

    # --- demo data --------------------------------------------------------------------------
    demo_data_dir: Path = REPO_ROOT / "demo_data"
    seed_on_start: bool = True
    seed_assets: int = Field(400, ge=10, le=100_000)

    # --- providers (no key: offline replay of recorded data) --------------------------------
    openweathermap_api_key: SecretStr | None = None
    noaa_user_agent: str = "Fleetlight/1.0 (ops@example.com)"
    ncei_token: SecretStr | None = None
    ercot_subscription_key: SecretStr | None = None
    ercot_username: str | None = None
    ercot_password: SecretStr | None = None
    caiso_enabled: bool = False
    entsoe_token: SecretStr | None = None
    eex_username: str | None = None
    eex_password: SecretStr | None = None
    google_maps_api_key: SecretStr | None = None
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tile_attribution: str = "&copy; OpenStreetMap contributors"
    provider_base_urls: dict[str, str] = Field(default_factory=dict)

    # --- forecasting (model serving and retraining) -------------------------------------------
    forecast_serving: dict[str, str] = Field(default_factory=dict)  # model name -> local|tfserving|vertex
    tfserving_base_url: str = "http://127.0.0.1:8501"
    vertex_endpoint_url: str = ""
    vertex_access_token: SecretStr | None = None
    forecast_retrain_hours: float = Field(24.0, gt=0, le=24 * 31)
    # integration gateway (gateway/providers.py documents the JSON shapes)
    noaa_enabled: bool = False
    provider_limits: dict[str, dict[str, float]] = Field(default_factory=dict)
    provider_prices: dict[str, float] = Field(default_factory=dict)
    provider_polling_enabled: bool = True

    # --- security (security/README.md) --------------------------------------------------------
    # comma-separated Fernet keys, first = primary; unset: a key generated into the instance folder
    encryption_keys: SecretStr | None = None
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    session_absolute_hours: float = Field(12, gt=0, le=24 * 30)
    login_max_failures: int = Field(5, ge=1, le=100)
    login_lockout_minutes: int = Field(15, ge=1, le=24 * 60)
    login_rate_limit: str = "10/minute;50/hour"
    api_rate_limit: str = "1200/minute"
    force_https: bool = False  # served only over TLS: Secure cookies and HSTS on every response
    proxy_hops: int = Field(0, ge=0, le=5)  # reverse proxies trusted for X-Forwarded-For/-Proto
    csp_extra_sources: dict[str, list[str]] = Field(default_factory=dict)  # {"img-src": ["https://..."]}
    # origins besides the app's own that may open the live channel (Socket.IO), comma-separated
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    salesforce_client_id: str | None = None
    salesforce_client_secret: SecretStr | None = None
    salesforce_login_url: str = "https://login.salesforce.com"
    webhook_max_age_s: int = Field(300, ge=10, le=3600)

    # --- notifications and on-call (notifications/, docs/notifications.md) --------------------
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None  # E.164 sender of SMS and calls, e.g. +15017122661
    sendgrid_api_key: SecretStr | None = None
    sendgrid_from_email: str = "fleetlight@example.com"
    sendgrid_webhook_public_key: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    # public https base of this app, for the Twilio callbacks (status, <Gather> keypad); empty: none
    public_base_url: str = ""
    notify_max_attempts: int = Field(8, ge=1, le=50)
    notify_backoff_initial_s: float = Field(5.0, gt=0, le=3600)
    notify_backoff_max_s: float = Field(600.0, gt=0, le=86400)

    @field_validator("csp_extra_sources", mode="before")
    @classmethod
    def _parse_csp_extra(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            return json.loads(value) if value else {}
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: object) -> object:
        items = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value
        if isinstance(items, (list, tuple)):
            from urllib.parse import urlsplit

            for item in items:
                parts = urlsplit(str(item))
                if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
                    raise ValueError(f"{item!r} is not an origin like https://wall.example.com (scheme://host[:port])")
            return [str(i).rstrip("/") for i in items]
        return items

    @field_validator("provider_base_urls", "provider_limits", "provider_prices", mode="before")
    @classmethod
    def _parse_base_urls(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            return json.loads(value) if value else {}
        return value

    @model_validator(mode="after")
    def _retention_grows_with_resolution(self) -> Settings:
        kept = [("FLEETLIGHT_RAW_RETENTION_DAYS", self.raw_retention_days),
                ("FLEETLIGHT_RETENTION_15MIN_DAYS", self.retention_15min_days),
                ("FLEETLIGHT_RETENTION_1H_DAYS", self.retention_1h_days),
                ("FLEETLIGHT_RETENTION_1D_DAYS", self.retention_1d_days)]
        for (finer, finer_days), (coarser, coarser_days) in zip(kept, kept[1:], strict=False):
            if finer_days == 0 and coarser_days != 0:
                raise ValueError(f"{coarser}={coarser_days:g} would drop data that {finer}=0 keeps for ever")
            if coarser_days and finer_days and coarser_days < finer_days:
                raise ValueError(f"{coarser}={coarser_days:g} is shorter than {finer}={finer_days:g}: a coarser "
                                 "resolution must be kept at least as long as a finer one")
        return self

    def rollup_retention_days(self) -> dict[str, float]:
        """Return {resolution: days kept} of the rollups that are pruned (a resolution kept for ever is absent)."""
        days = {"15min": self.retention_15min_days, "1h": self.retention_1h_days, "1d": self.retention_1d_days}
        return {resolution: d for resolution, d in days.items() if d > 0}

    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to a SQLite file in the instance folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.instance_dir / 'fleetlight.db').as_posix()}"

    def resolved_secret_key(self) -> str:
        """Return the Flask secret key; without one set, a random key kept in the instance folder."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        key_file = self.instance_dir / "secret_key"
        if not key_file.exists():
            import secrets

            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        name = "FLEETLIGHT_" + "_".join(str(p) for p in item["loc"]).upper()
        lines.append(f"{name}: {item['msg']} (got {item.get('input')!r})")
    return "invalid setting: " + "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Return a fresh Settings from the environment, raising SettingsError naming a bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
    except (json.JSONDecodeError, PydanticSettingsError) as exc:
        import re

        match = re.search(r'field "([a-z_0-9]+)"', str(exc))
        name = "FLEETLIGHT_" + match.group(1).upper() if match else "a FLEETLIGHT_ variable"
        raise SettingsError(f"invalid setting: {name}: not valid JSON ({exc})") from None


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return load_settings()
