"""Scheduled polling of every provider (APScheduler BackgroundScheduler), results stored.

``start_polling(services)`` is called once at app start-up. Providers in live mode are polled at
their ``poll_interval_s``; market providers in offline replay are polled once shortly after
start so the recorded prices are in the store; weather in offline replay is not stored for
sites (the recordings are for other places). Polling is off when
``FLEETLIGHT_PROVIDER_POLLING_ENABLED=false`` and under pytest.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from connectors.markets.base import MARKET_PROVIDERS, market_provider
from connectors.store import store_alerts, store_prices, store_weather
from connectors.weather.base import in_us
from connectors.weather.service import alerts_with_fallback, forecast_with_fallback
from gateway import Gateway, get_gateway
from gateway.errors import EmptyPayload, ProviderError, UnsupportedRequest

log = logging.getLogger(__name__)
MAX_WEATHER_SITES = 200  # per poll, to stay inside free quotas


def _site_nodes(database: Any, market: str) -> set[str]:
    from sqlalchemy import select

    from data.models import Site

    with database.session() as session:
        rows = session.execute(select(Site.pricing_node).where(Site.market == market)).scalars().all()
    return {r for r in rows if r}


def poll_market(name: str, database: Any, gateway: Gateway | None = None,
                today: dt.date | None = None) -> int:
    """Fetch and store today's (and, for DA, tomorrow's) prices of market provider ``name``; return rows stored.

    Nodes: the provider's default hubs plus every site's pricing node in that market. Failures are
    logged (the gateway has already logged, counted and evented them) and do not raise.
    """
    gw = gateway or get_gateway()
    provider = market_provider(name, gw)
    nodes = set(provider.default_nodes) | _site_nodes(database, provider.market)
    if not nodes:
        log.info("%s: no nodes to poll (no sites in market %s)", name, provider.market)
        return 0
    local_today = today or dt.datetime.now(provider.tz).date()
    stored = 0
    for market_type in provider.market_types:
        days = [local_today, local_today + dt.timedelta(days=1)] if market_type == "DA" else [local_today]
        for day in days:
            try:
                if market_type == "RT" and hasattr(provider, "get_latest_rt"):
                    records = provider.get_latest_rt(nodes)
                else:
                    records = provider.get_prices(market_type, day, nodes)
            except (EmptyPayload, UnsupportedRequest) as exc:
                log.info("%s", exc)
                continue
            except ProviderError as exc:
                log.warning("%s: %s poll for %s failed: %s", name, market_type, day, exc)
                continue
            stored += store_prices(database, records)
            if gw.mode(name) != "live":
                break  # a replay serves the same recording whatever day is asked
    log.info("%s: stored %d price rows", name, stored)
    return stored


def poll_weather(database: Any, gateway: Gateway | None = None) -> int:
    """Fetch and store forecasts (and US alerts) for sites with coordinates; return rows stored."""
    from sqlalchemy import select

    from data.models import Site

    gw = gateway or get_gateway()
    with database.session() as session:
        sites = session.execute(select(Site.id, Site.latitude, Site.longitude)
                                .where(Site.latitude.is_not(None), Site.longitude.is_not(None))
                                .limit(MAX_WEATHER_SITES)).all()
    stored = 0
    for site_id, lat, lon in sites:
        try:
            records, used = forecast_with_fallback(lat, lon, gateway=gw)
            if gw.mode(used) == "live":
                stored += store_weather(database, site_id, records)
        except ProviderError as exc:
            log.warning("weather for site %s: %s", site_id, exc)
        if in_us(lat, lon) and gw.mode("noaa_nws") == "live":
            try:
                alerts, _ = alerts_with_fallback(lat, lon, gateway=gw)
                stored += store_alerts(database, site_id, alerts)
            except ProviderError as exc:
                log.warning("alerts for site %s: %s", site_id, exc)
    return stored


def start_polling(services: Any, *, gateway: Gateway | None = None, force: bool = False) -> Any:
    """Start the background scheduler polling every provider; return it (None when polling is off).

    The scheduler is kept in ``services.extras["polling"]``; call ``.shutdown()`` at exit.
    """
    settings = services.settings
    if services.extras.get("polling") is not None:
        return services.extras["polling"]
    if not force and (not getattr(settings, "provider_polling_enabled", True) or "PYTEST_CURRENT_TEST" in os.environ):
        log.info("provider polling disabled")
        return None
    from apscheduler.schedulers.background import BackgroundScheduler

    market_provider("ercot")  # imports and registers every market connector
    gw = gateway or get_gateway()
    database = services.db
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 600})
    now = dt.datetime.now(dt.UTC)
    for i, name in enumerate(sorted(MARKET_PROVIDERS)):
        mode = gw.mode(name)
        first = now + dt.timedelta(seconds=20 + 15 * i)
        if mode == "live":
            scheduler.add_job(poll_market, "interval", args=[name, database, gw], id=f"poll-{name}",
                              seconds=gw.spec(name).poll_interval_s, next_run_time=first)
        elif mode == "offline replay":
            scheduler.add_job(poll_market, "date", args=[name, database, gw], id=f"replay-{name}", run_date=first)
    if any(gw.mode(n) == "live" for n in ("openweathermap", "noaa_nws")):
        scheduler.add_job(poll_weather, "interval", args=[database, gw], id="poll-weather",
                          seconds=gw.spec("openweathermap").poll_interval_s,
                          next_run_time=now + dt.timedelta(seconds=30))
    scheduler.start()
    services.extras["polling"] = scheduler
    log.info("provider polling started: %s", ", ".join(j.id for j in scheduler.get_jobs()))
    return scheduler
