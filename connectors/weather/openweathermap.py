"""OpenWeatherMap: current weather, 5-day/3-hour forecast and One Call 3.0.

API pages: https://openweathermap.org/current, https://openweathermap.org/forecast5,
https://openweathermap.org/api/one-call-3. Auth: ``appid`` query parameter
(settings.openweathermap_api_key). We always request ``units=metric``; recorded payloads made
without ``units`` are in "standard" units (Kelvin), so every parser takes ``units``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.base import as_float, load_json, make_payload_error, payload_guard, require
from connectors.records import AlertRecord, WeatherObs, utc_from_unix
from connectors.weather.base import WeatherProvider, check_coords

NAME = "openweathermap"
OpenWeatherMapPayloadError = make_payload_error(NAME, "OpenWeatherMapPayloadError")

UNITS = ("standard", "metric", "imperial")


def _temp_c(value: Any, units: str) -> float | None:
    v = as_float(value)
    if v is None:
        return None
    if units == "standard":
        return round(v - 273.15, 2)
    if units == "imperial":
        return round((v - 32.0) * 5.0 / 9.0, 2)
    return v


def _wind_ms(value: Any, units: str) -> float | None:
    v = as_float(value)
    if v is None:
        return None
    return round(v * 0.44704, 3) if units == "imperial" else v


def _check_units(units: str) -> None:
    if units not in UNITS:
        raise OpenWeatherMapPayloadError(f"unknown units {units!r} (expected one of {UNITS})")


def _check_cod(data: Any, what: str) -> None:
    if isinstance(data, dict) and "cod" in data and str(data["cod"]) not in ("200", "0"):
        raise OpenWeatherMapPayloadError(f"{what}: error answer cod={data['cod']}: {str(data.get('message'))[:150]}")


def _precip(entry: dict[str, Any], key: str) -> float | None:
    total = None
    for kind in ("rain", "snow"):
        part = entry.get(kind)
        if isinstance(part, dict) and key in part:
            total = (total or 0.0) + (as_float(part[key]) or 0.0)
        elif isinstance(part, (int, float)) and not isinstance(part, bool) and key == "":
            total = (total or 0.0) + float(part)
    return total


@payload_guard(OpenWeatherMapPayloadError, "current weather")
def parse_current(body: bytes | str, units: str = "metric") -> list[WeatherObs]:
    """Return the one observation of a /data/2.5/weather answer (UTC ts = the ``dt`` field)."""
    _check_units(units)
    data = load_json(body, OpenWeatherMapPayloadError, "current weather")
    _check_cod(data, "current weather")
    main = require(data, "main", OpenWeatherMapPayloadError, "current weather")
    coord = data.get("coord") or {}
    wind = data.get("wind") or {}
    return [
        WeatherObs(
            source=NAME,
            kind="observation",
            ts=utc_from_unix(require(data, "dt", OpenWeatherMapPayloadError, "current weather")),
            temperature_c=_temp_c(require(main, "temp", OpenWeatherMapPayloadError, "current weather main"), units),
            cloud_cover_pct=as_float((data.get("clouds") or {}).get("all")),
            wind_speed_ms=_wind_ms(wind.get("speed"), units),
            wind_direction_deg=as_float(wind.get("deg")),
            precipitation_mm=_precip(data, "1h"),
            pressure_hpa=as_float(main.get("pressure")),
            latitude=as_float(coord.get("lat")),
            longitude=as_float(coord.get("lon")),
        )
    ]


@payload_guard(OpenWeatherMapPayloadError, "5-day forecast")
def parse_forecast(body: bytes | str, units: str = "metric", issued_at: dt.datetime | None = None) -> list[WeatherObs]:
    """Return the 3-hourly forecast of a /data/2.5/forecast answer, one record per 3-hour interval start.

    ``issued_at`` defaults to 3 h before the first forecast step (the API does not state it).
    Precipitation is the 3-hour total in mm.
    """
    _check_units(units)
    data = load_json(body, OpenWeatherMapPayloadError, "5-day forecast")
    _check_cod(data, "5-day forecast")
    items = require(data, "list", OpenWeatherMapPayloadError, "5-day forecast")
    if not isinstance(items, list):
        raise OpenWeatherMapPayloadError("5-day forecast: 'list' is not an array")
    if not items:
        raise make_empty("5-day forecast: no forecast steps")
    coord = ((data.get("city") or {}).get("coord")) or {}
    lat, lon = as_float(coord.get("lat")), as_float(coord.get("lon"))
    out: list[WeatherObs] = []
    for item in items:
        ts = utc_from_unix(require(item, "dt", OpenWeatherMapPayloadError, "forecast step"))
        main = require(item, "main", OpenWeatherMapPayloadError, "forecast step")
        wind = item.get("wind") or {}
        out.append(WeatherObs(
            source=NAME, kind="forecast", ts=ts, issued_at=None,
            temperature_c=_temp_c(require(main, "temp", OpenWeatherMapPayloadError, "forecast step main"), units),
            cloud_cover_pct=as_float((item.get("clouds") or {}).get("all")),
            wind_speed_ms=_wind_ms(wind.get("speed"), units),
            wind_direction_deg=as_float(wind.get("deg")),
            precipitation_mm=_precip(item, "3h"),
            pressure_hpa=as_float(main.get("pressure")),
            latitude=lat, longitude=lon,
        ))
    issued = issued_at or (min(o.ts for o in out) - dt.timedelta(hours=3))
    return [_with_issued(o, issued) for o in out]


def _with_issued(obs: WeatherObs, issued: dt.datetime) -> WeatherObs:
    from dataclasses import replace

    return replace(obs, issued_at=issued)


def make_empty(problem: str):
    """Return an EmptyPayload error of this provider."""
    from gateway.errors import EmptyPayload

    return EmptyPayload(NAME, problem)


@dataclass(frozen=True)
class OneCall:
    """The parts of a One Call 3.0 answer: current observation, hourly forecast and alerts."""

    current: list[WeatherObs]
    hourly: list[WeatherObs]
    alerts: list[AlertRecord]


def _onecall_point(entry: dict[str, Any], units: str, kind: str, lat: float | None, lon: float | None,
                   issued: dt.datetime | None) -> WeatherObs:
    temp = entry.get("temp")
    if isinstance(temp, dict):  # daily entries carry a temp object; use the day value
        temp = temp.get("day")
    return WeatherObs(
        source=NAME, kind=kind,
        ts=utc_from_unix(require(entry, "dt", OpenWeatherMapPayloadError, "one call entry")),
        issued_at=issued,
        temperature_c=_temp_c(temp, units),
        cloud_cover_pct=as_float(entry.get("clouds")),
        wind_speed_ms=_wind_ms(entry.get("wind_speed"), units),
        wind_direction_deg=as_float(entry.get("wind_deg")),
        precipitation_mm=_precip(entry, "1h"),
        pressure_hpa=as_float(entry.get("pressure")),
        latitude=lat, longitude=lon,
    )


@payload_guard(OpenWeatherMapPayloadError, "one call")
def parse_onecall(body: bytes | str, units: str = "metric") -> OneCall:
    """Return current, hourly (forecast, issued at the ``current.dt``) and alerts of a One Call answer.

    Also reads the ``/onecall/timemachine`` form (``data`` array of observations).
    """
    _check_units(units)
    data = load_json(body, OpenWeatherMapPayloadError, "one call")
    _check_cod(data, "one call")
    if not isinstance(data, dict):
        raise OpenWeatherMapPayloadError("one call: expected an object")
    lat, lon = as_float(data.get("lat")), as_float(data.get("lon"))
    if "data" in data:  # timemachine
        entries = data["data"]
        if not isinstance(entries, list):
            raise OpenWeatherMapPayloadError("one call timemachine: 'data' is not an array")
        return OneCall([_onecall_point(e, units, "observation", lat, lon, None) for e in entries], [], [])
    if "current" not in data and "hourly" not in data:
        raise OpenWeatherMapPayloadError("one call: missing fields 'current' and 'hourly' (schema changed?)")
    current = [_onecall_point(data["current"], units, "observation", lat, lon, None)] if data.get("current") else []
    issued = current[0].ts if current else None
    hourly_raw = data.get("hourly") or []
    if not isinstance(hourly_raw, list):
        raise OpenWeatherMapPayloadError("one call: 'hourly' is not an array")
    if issued is None and hourly_raw:
        issued = utc_from_unix(require(hourly_raw[0], "dt", OpenWeatherMapPayloadError, "hourly"))
    hourly = [_onecall_point(e, units, "forecast", lat, lon, issued) for e in hourly_raw]
    alerts = []
    for a in data.get("alerts") or []:
        start = utc_from_unix(require(a, "start", OpenWeatherMapPayloadError, "alert"))
        event = str(require(a, "event", OpenWeatherMapPayloadError, "alert"))
        sender = str(a.get("sender_name") or "")
        alerts.append(AlertRecord(
            source=NAME,
            external_id=f"{sender}|{event}|{int(start.timestamp())}"[:200],
            event=event[:200], severity="", headline=f"{event} ({sender})" if sender else event,
            onset=start, ends=utc_from_unix(a["end"]) if a.get("end") is not None else None,
        ))
    return OneCall(current, hourly, alerts)


RECORDED_UNITS_HEADER = "x-fleetlight-recorded-units"


def _units_of(response: httpx.Response) -> str:
    """Return the units of a response: "metric" (what we request) unless a replayed recording says otherwise."""
    return response.headers.get(RECORDED_UNITS_HEADER, "metric")


class OpenWeatherMap(WeatherProvider):
    """OpenWeatherMap connector (global)."""

    name = NAME
    label = "OpenWeatherMap"
    region = "global"
    payload_error = OpenWeatherMapPayloadError

    def _params(self, lat: float, lon: float, **extra: Any) -> dict[str, Any]:
        check_coords(self.name, lat, lon)
        params = {"lat": f"{lat:.4f}", "lon": f"{lon:.4f}", "units": "metric", **extra}
        key = self.gateway.secret("openweathermap_api_key")
        if key:
            params["appid"] = key
        return params

    def get_current(self, lat: float, lon: float) -> list[WeatherObs]:
        """Return the current observation (metric)."""
        got = self.gateway.fetch(self.name, "GET", "/data/2.5/weather", endpoint="weather",
                                 params=self._params(lat, lon), parse=lambda r: parse_current(r.content, _units_of(r)))
        return got.value

    def get_forecast(self, lat: float, lon: float) -> list[WeatherObs]:
        """Return the 5-day / 3-hour forecast (40 steps, metric)."""
        got = self.gateway.fetch(self.name, "GET", "/data/2.5/forecast", endpoint="forecast",
                                 params=self._params(lat, lon), parse=lambda r: parse_forecast(r.content, _units_of(r)))
        return got.value

    def get_onecall(self, lat: float, lon: float) -> OneCall:
        """Return the One Call 3.0 answer (current, 48 hourly steps, alerts); billed per call."""
        got = self.gateway.fetch(self.name, "GET", "/data/3.0/onecall", endpoint="onecall",
                                 params=self._params(lat, lon, exclude="minutely"),
                                 parse=lambda r: parse_onecall(r.content, _units_of(r)))
        return got.value

    def get_alerts(self, lat: float, lon: float) -> list[AlertRecord]:
        """Return the alerts of the One Call answer."""
        return self.get_onecall(lat, lon).alerts


def replay(request: httpx.Request) -> httpx.Response | None:
    """Offline replay: answer from connectors/recorded/openweathermap/ (recordings are in Kelvin units)."""
    from connectors.recorded import serve

    path = request.url.path
    files = {  # file, units the recording was made with
        "/data/2.5/weather": ("current_weather_lat_lon_lisbon_2026.json", "metric"),
        "/data/2.5/forecast": ("forecast_5day_3hour_london_2025.json", "standard"),
        "/data/3.0/onecall": ("onecall_lat_lon_2023_recorded_on_v2_5.json", "standard"),
    }
    if path not in files:
        return None
    name, units = files[path]
    return serve(request, NAME, name, "application/json", {RECORDED_UNITS_HEADER: units})
