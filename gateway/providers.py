"""Provider table: published limits, quotas, prices and default base URLs of every provider.

The defaults below come from each provider's public documentation (see docs/integrations/).
They are overridable without code changes:

* ``FLEETLIGHT_PROVIDER_BASE_URLS`` — JSON ``{"caiso": "http://proxy/oasisapi", ...}``
* ``FLEETLIGHT_PROVIDER_LIMITS`` — JSON ``{"caiso": {"rate_per_s": 0.2, "burst": 1, "timeout_s": 60}}``;
  any numeric field of :class:`ProviderSpec` can be set
* ``FLEETLIGHT_PROVIDER_PRICES`` — JSON ``{"openweathermap:onecall": 0.0015, "entsoe": 0}``: estimated
  cost per call, keyed ``provider`` or ``provider:endpoint`` (endpoint prefix match)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProviderSpec:
    """Identity, limits and price table of one provider (rates in requests per second)."""

    name: str
    label: str
    family: str  # weather | market | maps | crm | ml | notify
    base_url: str
    # settings fields that must all be set for live mode; empty tuple + enable_flag for keyless ones
    credentials: tuple[str, ...] = ()
    enable_flag: str | None = None
    rate_per_s: float = 1.0
    burst: float = 1.0
    max_wait_s: float = 30.0  # longest the token bucket may wait before failing with RateLimited
    timeout_s: float = 20.0
    max_attempts: int = 3
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 20.0
    max_retry_after_s: float = 60.0  # a longer Retry-After is not waited for
    fail_max: int = 3  # consecutive failed logical calls that open the breaker
    reset_timeout_s: float = 60.0  # open -> half-open after this long
    daily_quota: int | None = None
    monthly_quota: int | None = None
    cost_per_call: dict[str, float] = field(default_factory=dict)  # endpoint prefix -> cost; "" default
    cost_currency: str = "USD"
    poll_interval_s: float = 900.0
    plan: str = ""

    def price(self, endpoint: str) -> float:
        """Return the estimated cost of one call to ``endpoint`` (longest matching prefix wins)."""
        best, best_len = self.cost_per_call.get("", 0.0), -1
        for prefix, cost in self.cost_per_call.items():
            if prefix and endpoint.startswith(prefix) and len(prefix) > best_len:
                best, best_len = cost, len(prefix)
        return best


DEFAULT_SPECS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec(
            name="openweathermap",
            label="OpenWeatherMap",
            family="weather",
            base_url="https://api.openweathermap.org",
            credentials=("openweathermap_api_key",),
            rate_per_s=1.0,  # free plan: 60 calls/minute
            burst=10,
            daily_quota=1000,  # One Call 3.0 "pay as you call": 1,000 free calls/day
            monthly_quota=1_000_000,  # free plan: 1,000,000 calls/month
            cost_per_call={"": 0.0, "onecall": 0.0015},  # One Call 3.0 beyond the free 1,000/day
            poll_interval_s=1800,
            plan="Free + One Call by Call",
        ),
        ProviderSpec(
            name="noaa_nws",
            label="NOAA api.weather.gov",
            family="weather",
            base_url="https://api.weather.gov",
            enable_flag="noaa_enabled",
            rate_per_s=1.0,  # no published number; NWS asks for 'reasonable' use
            burst=5,
            poll_interval_s=1800,
            plan="free, User-Agent required",
        ),
        ProviderSpec(
            name="noaa_ncei",
            label="NOAA NCEI CDO v2",
            family="weather",
            base_url="https://www.ncei.noaa.gov/cdo-web/api/v2",
            credentials=("ncei_token",),
            rate_per_s=5.0,  # 5 requests/second per token
            burst=5,
            daily_quota=10_000,  # 10,000 requests/day per token
            poll_interval_s=86400,
            plan="free token",
        ),
        ProviderSpec(
            name="ercot",
            label="ERCOT Public API",
            family="market",
            base_url="https://api.ercot.com/api/public-reports",
            credentials=("ercot_subscription_key", "ercot_username", "ercot_password"),
            rate_per_s=0.5,  # 30 requests/minute per subscription
            burst=2,
            max_wait_s=120,
            poll_interval_s=900,
            plan="free subscription",
        ),
        ProviderSpec(
            name="caiso",
            label="CAISO OASIS",
            family="market",
            base_url="https://oasis.caiso.com/oasisapi",
            enable_flag="caiso_enabled",
            rate_per_s=0.2,  # about one request per 5 seconds, else HTTP 429
            burst=1,
            max_wait_s=60,
            timeout_s=90,
            poll_interval_s=3600,
            plan="free, no key",
        ),
        ProviderSpec(
            name="entsoe",
            label="ENTSO-E Transparency",
            family="market",
            base_url="https://web-api.tp.entsoe.eu/api",
            credentials=("entsoe_token",),
            rate_per_s=400 / 60,  # 400 requests/minute per user
            burst=20,
            timeout_s=60,
            poll_interval_s=3600,
            plan="free token",
        ),
        ProviderSpec(
            name="eex",
            label="EEX Market Data API",
            family="market",
            base_url="https://webservice-eex.gvsi.com",
            credentials=("eex_username", "eex_password"),
            rate_per_s=1.0,  # not published; contract-dependent
            burst=2,
            poll_interval_s=3600,
            plan="paid subscription (flat fee, not per call)",
        ),
        # not data providers, but outbound calls all the same (issue 11, item 10): each gets a
        # rate limit, a breaker, the call log and a row on /integrations
        ProviderSpec(
            name="google_maps_tiles",
            label="Google Map Tiles API",
            family="maps",
            base_url="https://tile.googleapis.com",
            credentials=("google_maps_api_key",),
            rate_per_s=100.0,  # 6,000 queries/minute per project
            burst=50,
            max_wait_s=5,
            timeout_s=10,
            max_attempts=2,
            cost_per_call={"": 0.0006, "createSession": 0.0},  # 2D tiles beyond the free tier, per tile
            plan="pay as you go (free monthly tier)",
        ),
        ProviderSpec(
            name="openweathermap_tiles",
            label="OpenWeatherMap weather maps",
            family="maps",
            base_url="https://tile.openweathermap.org",
            credentials=("openweathermap_api_key",),
            rate_per_s=10.0,
            burst=30,
            max_wait_s=5,
            timeout_s=10,
            max_attempts=2,
            plan="Weather maps 1.0 (free plan)",
        ),
        ProviderSpec(
            name="google_maps",
            label="Google Geocoding API",
            family="maps",
            base_url="https://maps.googleapis.com",
            credentials=("google_maps_api_key",),
            rate_per_s=50.0,  # 3,000 queries/minute
            burst=10,
            max_wait_s=5,
            timeout_s=5,
            max_attempts=2,
            cost_per_call={"": 0.005},
            plan="pay as you go",
        ),
        ProviderSpec(
            name="salesforce",
            label="Salesforce OAuth",
            family="crm",
            base_url="https://login.salesforce.com",
            credentials=("salesforce_client_id",),
            rate_per_s=5.0,
            burst=5,
            timeout_s=15,
            max_attempts=2,
            plan="connected app",
        ),
        ProviderSpec(
            name="tfserving",
            label="TensorFlow Serving",
            family="ml",
            base_url="http://127.0.0.1:8501",
            credentials=("tfserving_base_url",),
            rate_per_s=50.0,
            burst=20,
            timeout_s=10,
            max_attempts=2,
            plan="self-hosted",
        ),
        ProviderSpec(
            name="vertex",
            label="Vertex AI endpoint",
            family="ml",
            base_url="https://aiplatform.googleapis.com",
            credentials=("vertex_endpoint_url",),
            rate_per_s=10.0,
            burst=10,
            timeout_s=10,
            max_attempts=2,
            plan="Vertex AI online prediction",
        ),
        # notification channels (notifications/channels.py); limits from each provider's docs
        ProviderSpec(
            name="twilio",
            label="Twilio (SMS, voice)",
            family="notify",
            base_url="https://api.twilio.com",
            credentials=("twilio_account_sid", "twilio_auth_token", "twilio_from_number"),
            rate_per_s=1.0,  # a long-code number sends 1 message segment per second (US)
            burst=5,
            timeout_s=15,
            max_attempts=2,  # the outbox retries with its own back-off (notify_backoff_*)
            cost_per_call={"": 0.0, "messages": 0.0083, "calls": 0.014},  # US SMS segment / call minute
            plan="pay as you go",
        ),
        ProviderSpec(
            name="sendgrid",
            label="SendGrid email",
            family="notify",
            base_url="https://api.sendgrid.com",
            credentials=("sendgrid_api_key",),
            rate_per_s=10.0,  # v3 Mail Send: 10,000 requests/s documented; kept modest
            burst=20,
            timeout_s=15,
            max_attempts=2,
            cost_per_call={"": 0.0, "mail.send": 0.0004},  # Essentials 50k/month at 19.95 USD
            plan="Essentials (per email)",
        ),
        ProviderSpec(
            name="slack",
            label="Slack Web API (bot)",
            family="notify",
            base_url="https://slack.com/api",
            credentials=("slack_bot_token",),
            rate_per_s=1.0,  # chat.postMessage: about 1 message per second per channel
            burst=3,
            timeout_s=10,
            max_attempts=2,
            plan="bot token",
        ),
        ProviderSpec(
            name="slack_webhook",
            label="Slack incoming webhooks",
            family="notify",
            base_url="https://hooks.slack.com",
            rate_per_s=1.0,  # 1 message per second per webhook
            burst=3,
            timeout_s=10,
            max_attempts=2,
            plan="incoming webhook URL per channel",
        ),
        ProviderSpec(
            name="msteams",
            label="Microsoft Teams Workflows",
            family="notify",
            base_url="https://prod.westus.logic.azure.com",
            rate_per_s=4.0,  # Teams webhooks: 4 requests/s per connector
            burst=4,
            timeout_s=15,
            max_attempts=2,
            plan="Workflows webhook URL per channel",
        ),
    )
}

_NUMERIC = {f.name for f in dataclasses.fields(ProviderSpec) if f.type in ("float", "int", "int | None")}


def build_specs(
    limits: dict[str, dict[str, Any]] | None = None,
    prices: dict[str, float] | None = None,
    base_urls: dict[str, str] | None = None,
) -> dict[str, ProviderSpec]:
    """Return the provider table with setting overrides applied; raises ValueError naming a bad key."""
    specs = dict(DEFAULT_SPECS)
    for name, override in (limits or {}).items():
        if name not in specs:
            raise ValueError(f"FLEETLIGHT_PROVIDER_LIMITS: unknown provider {name!r}")
        if not isinstance(override, dict):
            raise ValueError(f"FLEETLIGHT_PROVIDER_LIMITS: {name} must map to an object")
        bad = set(override) - _NUMERIC
        if bad:
            raise ValueError(f"FLEETLIGHT_PROVIDER_LIMITS: {name}: unknown field(s) {sorted(bad)}")
        specs[name] = dataclasses.replace(specs[name], **override)
    for key, cost in (prices or {}).items():
        name, _, endpoint = key.partition(":")
        if name not in specs:
            raise ValueError(f"FLEETLIGHT_PROVIDER_PRICES: unknown provider {name!r}")
        table = dict(specs[name].cost_per_call)
        table[endpoint] = float(cost)
        specs[name] = dataclasses.replace(specs[name], cost_per_call=table)
    for name, url in (base_urls or {}).items():
        if name in specs:
            specs[name] = dataclasses.replace(specs[name], base_url=str(url).rstrip("/"))
    return specs
