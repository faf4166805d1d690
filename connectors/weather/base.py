"""Base class and registry of weather connectors.

Vocabulary (every method returns canonical records, UTC, interval start):

* ``get_current(lat, lon) -> list[WeatherObs]``            latest observation (kind "observation")
* ``get_forecast(lat, lon) -> list[WeatherObs]``           forecast (kind "forecast", issued_at set)
* ``get_alerts(lat, lon) -> list[AlertRecord]``            active severe-weather alerts
* ``get_history(lat, lon, start, end, station=None) -> list[WeatherObs]``  daily observations

A connector that does not offer a request raises :class:`gateway.errors.UnsupportedRequest`.
"""
from __future__ import annotations

import datetime as dt
from typing import ClassVar

from connectors.base import Connector
from connectors.records import AlertRecord, WeatherObs
from gateway import Gateway
from gateway.errors import ConfigurationError

WEATHER_PROVIDERS: dict[str, type[WeatherProvider]] = {}

US_BOUNDS = ((18.0, 72.0), (-180.0, -64.0))  # lat, lon box holding the US states and territories


def in_us(lat: float, lon: float) -> bool:
    """Return True when (lat, lon) is inside the rough bounding box NOAA covers."""
    (lat0, lat1), (lon0, lon1) = US_BOUNDS
    return lat0 <= lat <= lat1 and lon0 <= lon <= lon1


def check_coords(provider: str, lat: float, lon: float) -> None:
    """Raise ConfigurationError naming the provider when lat/lon are not valid coordinates."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ConfigurationError(provider, f"invalid coordinates lat={lat} lon={lon}")


class WeatherProvider(Connector):
    """A weather connector; subclasses set ``name``, ``label``, ``region`` and override the vocabulary."""

    region: ClassVar[str] = "global"  # global | us

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            WEATHER_PROVIDERS[cls.name] = cls

    def covers(self, lat: float, lon: float) -> bool:
        """Return True when this provider has data for the location."""
        return self.region == "global" or in_us(lat, lon)

    def get_current(self, lat: float, lon: float) -> list[WeatherObs]:
        """Return the latest observation at the location."""
        raise self.unsupported("current conditions")

    def get_forecast(self, lat: float, lon: float) -> list[WeatherObs]:
        """Return the forecast for the location."""
        raise self.unsupported("forecasts")

    def get_alerts(self, lat: float, lon: float) -> list[AlertRecord]:
        """Return active severe-weather alerts for the location."""
        raise self.unsupported("alerts")

    def get_history(
        self, lat: float, lon: float, start: dt.date, end: dt.date, station: str | None = None
    ) -> list[WeatherObs]:
        """Return daily observations from ``start`` to ``end`` inclusive."""
        raise self.unsupported("historical daily data")


def weather_provider(name: str, gateway: Gateway | None = None) -> WeatherProvider:
    """Return an instance of the registered weather connector ``name``."""
    import connectors.weather.noaa_ncei
    import connectors.weather.noaa_nws
    import connectors.weather.openweathermap  # noqa: F401

    try:
        return WEATHER_PROVIDERS[name](gateway)
    except KeyError:
        raise ConfigurationError(name, f"unknown weather provider (known: {sorted(WEATHER_PROVIDERS)})") from None
