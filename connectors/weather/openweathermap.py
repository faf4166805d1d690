"""OpenWeatherMap: current weather, 5-day/3-hour forecast and One Call 3.0.

Shapes read: /data/2.5/weather, /data/2.5/forecast (3-hour steps) and the pro
/data/2.5/forecast/hourly (1-hour steps, ``rain.1h``), /data/3.0/onecall and its
``/timemachine`` answers (3.0 ``data`` array, 2.5 ``current`` + past ``hourly``), which are
observations. Daily forecasts (/forecast/daily, /forecast/climate) are not called and are
refused by name rather than misread.

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
from connectors.errors import FieldError
from connectors.records import AlertRecord, WeatherObs, utc_from_unix
from connectors.weather.base import WeatherProvider, check_coords

NAME = "openweathermap"
OpenWeatherMapPayloadError = make_payload_error(NAME, "OpenWeatherMapPayloadError")

UNITS = ("standard", "metric", "imperial")


def _temp_c(value: Any, units: str, field: str = "temp") -> float | None:
    v = as_float(value, field)
    if v is None:
        return None
    if units == "standard":
        return round(v - 273.15, 2)
    if units == "imperial":
        return round((v - 32.0) * 5.0 / 9.0, 2)
    return v


def _wind_ms(value: Any, units: str, field: str = "wind.speed") -> float | None:
    v = as_float(value, field)
    if v is None:
        return None
    return round(v * 0.44704, 3) if units == "imperial" else v


def _check_units(units: str) -> None:
    if units not in UNITS:
        raise OpenWeatherMapPayloadError(f"unknown units {units!r} (expected one of {UNITS})")


def _check_cod(data: Any, what: str) -> None:
    if isinstance(data, dict) and "cod" in data and str(data["cod"]) not in ("200", "0"):
        raise OpenWeatherMapPayloadError(f"{what}: error answer cod={data['cod']}: {str(data.get('message'))[:150]}")


def _precip(entry: dict[str, Any], key: str, other: str | None = None) -> float | None:
    """Return rain + snow over ``key`` ("1h"/"3h") in mm; a total over ``other`` is refused (wrong step)."""
    total = None
    for kind in ("rain", "snow"):
        part = entry.get(kind)
        if part is None:
            continue
        if not isinstance(part, dict):
            raise FieldError(f"{kind}: expected an object such as {{\"{key}\": 0.5}}, got {type(part).__name__}")
        if other is not None and other in part and key not in part:
            raise FieldError(f"{kind}.{other}: a {other} total in {key} steps (shape not of this endpoint)")
        if key in part:
            total = (total or 0.0) + (as_float(part[key], f"{kind}.{key}") or 0.0)
    return total


@payload_guard(OpenWeatherMapPayloadError, "current weather")
def parse_current(body: bytes | str, units: str = "metric") -> list[WeatherObs]:
    """Return the one observation of a /data/2.5/weather answer (UTC ts = the ``dt`` field)."""
    _check_units(units)
    data = load_json(body, OpenWeatherMapPayloadError, "current weather")
    _check_cod(data, "current weather")
    main = _obj(require(data, "main", OpenWeatherMapPayloadError, "current weather"), "main")
    coord = _obj(data.get("coord"), "coord")
    wind = _obj(data.get("wind"), "wind")
    return [
        WeatherObs(
            source=NAME,
            kind="observation",
            ts=utc_from_unix(require(data, "dt", OpenWeatherMapPayloadError, "current weather"), "dt"),
            temperature_c=_temp_c(require(main, "temp", OpenWeatherMapPayloadError, "current weather main"), units,
                                  "main.temp"),
            cloud_cover_pct=as_float(_obj(data.get("clouds"), "clouds").get("all"), "clouds.all"),
            wind_speed_ms=_wind_ms(wind.get("speed"), units),
            wind_direction_deg=as_float(wind.get("deg"), "wind.deg"),
            precipitation_mm=_precip(data, "1h"),
            pressure_hpa=as_float(main.get("pressure"), "main.pressure"),
            latitude=as_float(coord.get("lat"), "coord.lat"),
            longitude=as_float(coord.get("lon"), "coord.lon"),
        )
    ]


def _obj(value: Any, field: str) -> dict[str, Any]:
    """Return ``value`` when it is an object, {} for null/missing; raises FieldError naming ``field`` otherwise."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError(f"{field}: expected an object, got {type(value).__name__} {str(value)[:40]!r}")
    return value


def _step(items: list[Any]) -> dt.timedelta:
    """Return the forecast step of a /forecast list: 3 hours (/forecast) or 1 hour (pro /forecast/hourly)."""
    stamps = [utc_from_unix(require(i, "dt", OpenWeatherMapPayloadError, "forecast step"), f"list[{n}].dt")
              for n, i in enumerate(items)]
    gaps = {b - a for a, b in zip(stamps, stamps[1:], strict=False)}
    if not gaps:  # a single step: the precipitation key says which endpoint, else the 3-hour default
        one = items[0]
        hourly = any(isinstance(one.get(k), dict) and "1h" in one[k] for k in ("rain", "snow"))
        return dt.timedelta(hours=1 if hourly else 3)
    if len(gaps) == 1 and gaps <= {dt.timedelta(hours=1), dt.timedelta(hours=3)}:
        return gaps.pop()
    raise FieldError(f"list[].dt: steps are not evenly 1 or 3 hours apart (gaps {sorted(str(g) for g in gaps)[:3]})")


@payload_guard(OpenWeatherMapPayloadError, "forecast")
def parse_forecast(body: bytes | str, units: str = "metric", issued_at: dt.datetime | None = None) -> list[WeatherObs]:
    """Return the forecast of a /data/2.5/forecast (3-hour) or pro /forecast/hourly (1-hour) answer.

    The step is read from the ``dt`` spacing; precipitation is the total over the step in mm
    (``rain.3h``/``snow.3h`` or ``rain.1h``/``snow.1h``). ``issued_at`` defaults to one step before
    the first forecast step (the API does not state it). Daily forecasts are refused by name.
    """
    _check_units(units)
    data = load_json(body, OpenWeatherMapPayloadError, "forecast")
    _check_cod(data, "forecast")
    items = require(data, "list", OpenWeatherMapPayloadError, "forecast")
    if not isinstance(items, list):
        raise OpenWeatherMapPayloadError("forecast: 'list' is not an array")
    if not items:
        raise make_empty("forecast: no forecast steps")
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise FieldError(f"list[{n}]: expected an object, got {type(item).__name__}")
        if "main" not in item and isinstance(item.get("temp"), dict):
            raise OpenWeatherMapPayloadError("forecast: this is a daily forecast answer (/forecast/daily or "
                                             "/forecast/climate: 'temp' objects, no 'main'), which is not called")
    step = _step(items)
    key, other = ("1h", "3h") if step == dt.timedelta(hours=1) else ("3h", "1h")
    coord = _obj(_obj(data.get("city"), "city").get("coord"), "city.coord")
    lat, lon = as_float(coord.get("lat"), "city.coord.lat"), as_float(coord.get("lon"), "city.coord.lon")
    out: list[WeatherObs] = []
    for n, item in enumerate(items):
        ts = utc_from_unix(item["dt"], f"list[{n}].dt")
        main = _obj(require(item, "main", OpenWeatherMapPayloadError, "forecast step"), f"list[{n}].main")
        wind = _obj(item.get("wind"), f"list[{n}].wind")
        out.append(WeatherObs(
            source=NAME, kind="forecast", ts=ts, issued_at=None,
            temperature_c=_temp_c(require(main, "temp", OpenWeatherMapPayloadError, "forecast step main"), units,
                                  f"list[{n}].main.temp"),
            cloud_cover_pct=as_float(_obj(item.get("clouds"), "clouds").get("all"), f"list[{n}].clouds.all"),
            wind_speed_ms=_wind_ms(wind.get("speed"), units, f"list[{n}].wind.speed"),
            wind_direction_deg=as_float(wind.get("deg"), f"list[{n}].wind.deg"),
            precipitation_mm=_precip(item, key, other),
            pressure_hpa=as_float(main.get("pressure"), f"list[{n}].main.pressure"),
            latitude=lat, longitude=lon,
        ))
    issued = issued_at or (min(o.ts for o in out) - step)
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
    """The parts of a One Call 3.0 answer: observations (the current one, or the past hours of a
    timemachine answer), the hourly forecast and the alerts."""

    current: list[WeatherObs]
    hourly: list[WeatherObs]
    alerts: list[AlertRecord]


def _onecall_point(entry: Any, units: str, kind: str, lat: float | None, lon: float | None,
                   issued: dt.datetime | None, at: str) -> WeatherObs:
    entry = _obj(entry, at)
    temp = entry.get("temp")
    if isinstance(temp, dict):  # daily entries carry a temp object; use the day value
        temp = temp.get("day")
    return WeatherObs(
        source=NAME, kind=kind,
        ts=utc_from_unix(require(entry, "dt", OpenWeatherMapPayloadError, "one call entry"), f"{at}.dt"),
        issued_at=issued,
        temperature_c=_temp_c(temp, units, f"{at}.temp"),
        cloud_cover_pct=as_float(entry.get("clouds"), f"{at}.clouds"),
        wind_speed_ms=_wind_ms(entry.get("wind_speed"), units, f"{at}.wind_speed"),
        wind_direction_deg=as_float(entry.get("wind_deg"), f"{at}.wind_deg"),
        precipitation_mm=_precip(entry, "1h"),
        pressure_hpa=as_float(entry.get("pressure"), f"{at}.pressure"),
        latitude=lat, longitude=lon,
    )


def _observations(entries: list[Any], units: str, lat: float | None, lon: float | None, at: str) -> list[WeatherObs]:
    """Return the observations of past entries, one per time (the later entry wins), sorted."""
    by_ts = {o.ts: o for o in (_onecall_point(e, units, "observation", lat, lon, None, f"{at}[{n}]")
                               for n, e in enumerate(entries))}
    return [by_ts[t] for t in sorted(by_ts)]


@payload_guard(OpenWeatherMapPayloadError, "one call")
def parse_onecall(body: bytes | str, units: str = "metric") -> OneCall:
    """Return current, hourly (forecast, issued at the ``current.dt``) and alerts of a One Call answer.

    A ``/onecall/timemachine`` answer holds past hours only: observations, never forecasts. Its
    3.0 form (``data`` array) and its 2.5 form (``current`` plus ``hourly`` steps that start before
    the current hour) both come back in ``current`` as observations (one per time), ``hourly`` empty.
    """
    _check_units(units)
    data = load_json(body, OpenWeatherMapPayloadError, "one call")
    _check_cod(data, "one call")
    if not isinstance(data, dict):
        raise OpenWeatherMapPayloadError("one call: expected an object")
    if "current" not in data and "date" in data and isinstance(data.get("temperature"), dict):
        raise OpenWeatherMapPayloadError("one call: this is a /onecall/day_summary answer (daily aggregation), "
                                         "which is not called")
    lat, lon = as_float(data.get("lat"), "lat"), as_float(data.get("lon"), "lon")
    if "data" in data:  # 3.0 timemachine
        entries = data["data"]
        if not isinstance(entries, list):
            raise OpenWeatherMapPayloadError("one call timemachine: 'data' is not an array")
        return OneCall(_observations(entries, units, lat, lon, "data"), [], [])
    if "current" not in data and "hourly" not in data:
        raise OpenWeatherMapPayloadError("one call: missing fields 'current' and 'hourly' (schema changed?)")
    current = [_onecall_point(data["current"], units, "observation", lat, lon, None, "current")] \
        if data.get("current") else []
    issued = current[0].ts if current else None
    hourly_raw = data.get("hourly") or []
    if not isinstance(hourly_raw, list):
        raise OpenWeatherMapPayloadError("one call: 'hourly' is not an array")
    if issued is None and hourly_raw:
        issued = utc_from_unix(require(hourly_raw[0], "dt", OpenWeatherMapPayloadError, "hourly"), "hourly[0].dt")
    hourly = [_onecall_point(e, units, "forecast", lat, lon, issued, f"hourly[{n}]") for n, e in enumerate(hourly_raw)]
    if current and hourly and hourly[0].ts < current[0].ts.replace(minute=0, second=0, microsecond=0):
        # 2.5 timemachine: the hours of the asked day, already past -> observations
        return OneCall(_observations([data["current"], *hourly_raw], units, lat, lon, "timemachine"), [], [])
    alerts = []
    raw_alerts = data.get("alerts") or []
    if not isinstance(raw_alerts, list):
        raise FieldError(f"alerts: expected an array, got {type(raw_alerts).__name__}")
    for n, a in enumerate(raw_alerts):
        start = utc_from_unix(require(a, "start", OpenWeatherMapPayloadError, "alert"), f"alerts[{n}].start")
        event = require(a, "event", OpenWeatherMapPayloadError, "alert")
        if not isinstance(event, str) or not event.strip():
            raise FieldError(f"alerts[{n}].event: expected a non-empty string, got {str(event)[:40]!r}")
        sender = a.get("sender_name") or ""
        if not isinstance(sender, str):
            raise FieldError(f"alerts[{n}].sender_name: expected a string, got {type(sender).__name__}")
        alerts.append(AlertRecord(
            source=NAME,
            external_id=f"{sender}|{event}|{int(start.timestamp())}"[:200],
            event=event[:200], severity="", headline=f"{event} ({sender})" if sender else event,
            onset=start,
            ends=utc_from_unix(a["end"], f"alerts[{n}].end") if a.get("end") is not None else None,
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
