"""Scheduled polling of every provider (jobs on the process's APScheduler scheduler), results stored.

``add_polling_jobs(scheduler, db, gateway)`` is called by the provider polling component
(``bootstrap.components.ProviderPolling``) when a serving process starts. Providers in live mode
are polled at their ``poll_interval_s``; market providers in offline replay are polled once
shortly after start so the recorded prices are in the store; weather in offline replay is not
stored for sites (the recordings are for other places). Polling is off when
``FLEETLIGHT_PROVIDER_POLLING_ENABLED=false`` (the test settings set it so).
"""
from __future__ import annotations

import datetime as dt
import logging
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


_POLLED_WEATHER = ("openweathermap", "noaa_nws")


def _every(seconds: float) -> str:
    return f"every {seconds / 3600:g} h" if seconds >= 3600 else f"every {seconds / 60:g} min"


def polling_note(gateway: Gateway, name: str, enabled: bool) -> str:
    """Return how this process calls provider ``name``, by the rules of :func:`add_polling_jobs`
    (e.g. 'polled every 15 min', 'recorded data read once after start', 'called on request')."""
    if not enabled:
        return "polling off (FLEETLIGHT_PROVIDER_POLLING_ENABLED=false); called on request"
    mode = gateway.mode(name)
    if name in MARKET_PROVIDERS:
        if mode == "live":
            return f"polled {_every(gateway.spec(name).poll_interval_s)}"
        if mode == "offline replay":
            return "recorded data read once after start"
        return "not polled"
    if name in _POLLED_WEATHER and any(gateway.mode(n) == "live" for n in _POLLED_WEATHER):
        return f"polled {_every(gateway.spec('openweathermap').poll_interval_s)}"
    return "called on request"


def add_polling_jobs(scheduler: Any, database: Any, gateway: Gateway) -> list[str]:
    """Add the polling jobs of every provider to ``scheduler`` (the process's one scheduler); return their ids.

    Providers in live mode are polled every ``poll_interval_s`` (first poll staggered from 20 s
    after start); market providers in offline replay once, shortly after start.
    """
    market_provider("ercot")  # imports and registers every market connector
    now = dt.datetime.now(dt.UTC)
    ids: list[str] = []
    for i, name in enumerate(sorted(MARKET_PROVIDERS)):
        mode = gateway.mode(name)
        first = now + dt.timedelta(seconds=20 + 15 * i)
        if mode == "live":
            ids.append(scheduler.add_job(poll_market, "interval", args=[name, database, gateway], id=f"poll-{name}",
                                         seconds=gateway.spec(name).poll_interval_s, next_run_time=first,
                                         misfire_grace_time=600, replace_existing=True).id)
        elif mode == "offline replay":
            ids.append(scheduler.add_job(poll_market, "date", args=[name, database, gateway], id=f"replay-{name}",
                                         run_date=first, misfire_grace_time=600, replace_existing=True).id)
    if any(gateway.mode(n) == "live" for n in _POLLED_WEATHER):
        ids.append(scheduler.add_job(poll_weather, "interval", args=[database, gateway], id="poll-weather",
                                     seconds=gateway.spec("openweathermap").poll_interval_s,
                                     next_run_time=now + dt.timedelta(seconds=30), misfire_grace_time=600,
                                     replace_existing=True).id)
    log.info("provider polling scheduled: %s", ", ".join(ids) or "nothing to poll")
    return ids
