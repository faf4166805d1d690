"""Weather with a secondary provider: OpenWeatherMap and NOAA stand in for each other in the US.

Order: live providers before offline-replay ones, the preferred one first; each provider
already falls back to its own last good answer inside the gateway, so the secondary is asked
only when the primary has neither a live nor a cached answer.
"""
from __future__ import annotations

import logging

from connectors.records import AlertRecord, WeatherObs
from connectors.weather.base import WeatherProvider, weather_provider
from gateway import Gateway, get_gateway
from gateway.errors import ProviderError, UnsupportedRequest

log = logging.getLogger(__name__)
PAIR = ("openweathermap", "noaa_nws")


def _candidates(lat: float, lon: float, gateway: Gateway, primary: str) -> list[WeatherProvider]:
    names = [primary] + [n for n in PAIR if n != primary]
    providers = [weather_provider(n, gateway) for n in names]
    providers = [p for p in providers if p.covers(lat, lon) and gateway.mode(p.name) != "not configured"]
    return sorted(providers, key=lambda p: gateway.mode(p.name) != "live")  # stable: keeps preference


def forecast_with_fallback(lat: float, lon: float, *, primary: str = "openweathermap",
                           gateway: Gateway | None = None) -> tuple[list[WeatherObs], str]:
    """Return (forecast records, provider used); raises the last ProviderError when every provider failed."""
    gw = gateway or get_gateway()
    last: ProviderError | None = None
    for provider in _candidates(lat, lon, gw, primary):
        try:
            return provider.get_forecast(lat, lon), provider.name
        except UnsupportedRequest as exc:
            last = exc
        except ProviderError as exc:
            log.warning("%s; trying the secondary weather provider", exc)
            last = exc
    raise last or UnsupportedRequest(primary, f"no weather provider covers lat={lat} lon={lon}")


def alerts_with_fallback(lat: float, lon: float, *, primary: str = "noaa_nws",
                         gateway: Gateway | None = None) -> tuple[list[AlertRecord], str]:
    """Return (active alerts, provider used) from NOAA in the US, else OpenWeatherMap One Call."""
    gw = gateway or get_gateway()
    last: ProviderError | None = None
    for provider in _candidates(lat, lon, gw, primary):
        try:
            return provider.get_alerts(lat, lon), provider.name
        except ProviderError as exc:
            log.warning("%s; trying the secondary weather provider", exc)
            last = exc
    raise last or UnsupportedRequest(primary, f"no alert provider covers lat={lat} lon={lon}")
