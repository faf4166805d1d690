"""NOAA National Weather Service API (api.weather.gov): points, hourly forecast, alerts, observations.

API: https://www.weather.gov/documentation/services-web-api. No key; every request must carry a
User-Agent identifying the application and a contact (settings.noaa_user_agent) or NWS answers
403. Coverage: US states and territories only. Alerts come as GeoJSON (``features[].properties``)
or, with ``Accept: application/ld+json``, as JSON-LD (``@graph``); both are read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.base import as_float, as_int, as_str, load_json, make_payload_error, payload_guard, require
from connectors.errors import FieldError
from connectors.records import AlertRecord, WeatherObs, utc_from_iso
from connectors.weather.base import WeatherProvider, check_coords, in_us
from connectors.weather.units import convert
from gateway.errors import UnsupportedRequest

NAME = "noaa_nws"
NwsPayloadError = make_payload_error(NAME, "NwsPayloadError")

COMPASS = {d: i * 22.5 for i, d in enumerate(
    "N NNE NE ENE E ESE SE SSE S SSW SW WSW W WNW NW NNW".split())}
# NWS sky-cover wording (https://www.weather.gov/bgm/forecast_terms): mid-point of each category, %
SKY_TERMS = (
    ("mostly cloudy", 75.0), ("partly cloudy", 50.0), ("partly sunny", 50.0), ("mostly sunny", 25.0),
    ("mostly clear", 25.0), ("overcast", 100.0), ("cloudy", 94.0), ("sunny", 6.0), ("clear", 6.0),
    ("fair", 12.0),
)
_SPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)(?:\s*to\s*(\d+(?:\.\d+)?))?\s*([A-Za-z/]+)?")
# units of the forecast wording "5 to 10 mph" (the QuantitativeValue form goes through units.convert)
UNIT_FACTORS = {"mph": 0.44704, "km/h": 1 / 3.6, "kt": 0.514444, "m/s": 1.0}


@dataclass(frozen=True)
class NwsPoint:
    """Grid metadata of a point: forecast office, grid cell, hourly forecast URL and zones."""

    grid_id: str
    grid_x: int
    grid_y: int
    forecast_hourly: str
    forecast_zone: str
    county: str
    time_zone: str
    observation_stations: str


@payload_guard(NwsPayloadError, "points")
def parse_points(body: bytes | str) -> NwsPoint:
    """Return the grid metadata of a /points/{lat},{lon} answer."""
    data = load_json(body, NwsPayloadError, "points")
    props = require(data, "properties", NwsPayloadError, "points")
    get = lambda k: require(props, k, NwsPayloadError, "points")  # noqa: E731
    return NwsPoint(
        grid_id=as_str(get("gridId"), "properties.gridId"), grid_x=as_int(get("gridX"), "properties.gridX"),
        grid_y=as_int(get("gridY"), "properties.gridY"),
        forecast_hourly=as_str(get("forecastHourly"), "properties.forecastHourly"),
        forecast_zone=str(props.get("forecastZone") or ""), county=str(props.get("county") or ""),
        time_zone=str(props.get("timeZone") or ""),
        observation_stations=str(props.get("observationStations") or ""),
    )


def quantity(item: Any, quantity_kind: str, field: str) -> float | None:
    """Return a QuantitativeValue ``{"value": v, "unitCode": "wmoUnit:..."}`` in canonical units.

    ``value`` null gives None; a range (``minValue``/``maxValue`` without ``value``) gives its
    mid-point; the unit comes from ``unitCode`` (connectors.weather.units), an unknown one is refused.
    """
    if item is None:
        return None
    if not isinstance(item, dict):
        raise FieldError(f"{field}: expected a QuantitativeValue object, got {type(item).__name__} {str(item)[:40]!r}")
    value = as_float(item.get("value"), f"{field}.value")
    if value is None and item.get("maxValue") is not None:
        low = as_float(item.get("minValue"), f"{field}.minValue")
        high = as_float(item.get("maxValue"), f"{field}.maxValue")
        value = high if low is None or high is None else (low + high) / 2
    if value is None:
        return None
    return convert(value, item.get("unitCode"), quantity_kind, field)


def _temperature_c(period: dict[str, Any]) -> float | None:
    temp = period.get("temperature")
    if isinstance(temp, dict):  # QuantitativeValue form (newer answers)
        value = quantity(temp, "temperature", "temperature")
        return None if value is None else round(value, 2)
    value = as_float(temp, "temperature")
    if value is None:
        return None
    unit = period.get("temperatureUnit")
    if unit not in ("F", "C"):
        raise FieldError(f"temperatureUnit: expected 'F' or 'C', got {str(unit)[:20]!r}")
    return round((value - 32) * 5 / 9, 2) if unit == "F" else value


def _wind_speed_ms(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dict):  # QuantitativeValue, possibly with minValue/maxValue
        number = quantity(value, "speed", "windSpeed")
        return None if number is None else round(number, 3)
    if not isinstance(value, str):
        raise FieldError(f"windSpeed: expected text such as '5 to 10 mph', got {type(value).__name__} {value!r}")
    m = _SPEED.search(value)
    if not m:
        raise FieldError(f"windSpeed: unreadable {value[:40]!r}")
    unit = (m.group(3) or "").lower()
    if unit not in UNIT_FACTORS:
        raise FieldError(f"windSpeed: unknown unit {m.group(3)!r} in {value[:40]!r} (known: {', '.join(UNIT_FACTORS)})")
    low, high = float(m.group(1)), float(m.group(2) or m.group(1))
    factor = UNIT_FACTORS[unit]
    return round((low + high) / 2 * factor, 3)


def cloud_cover_from_text(text: str | None) -> float | None:
    """Return the sky cover (%) an NWS short forecast implies, or None when it names no sky condition."""
    if not text:
        return None
    lower = text.lower()
    for term, pct in SKY_TERMS:
        if term in lower:
            return pct
    return None


@payload_guard(NwsPayloadError, "hourly forecast")
def parse_hourly_forecast(body: bytes | str) -> list[WeatherObs]:
    """Return the hourly forecast periods (UTC start) issued at the answer's updateTime/generatedAt.

    Temperature °F is converted to °C, wind "5 to 10 mph" to the mid value in m/s, compass wind
    direction to degrees, and the short forecast wording to a sky cover percentage.
    """
    data = load_json(body, NwsPayloadError, "hourly forecast")
    props = require(data, "properties", NwsPayloadError, "hourly forecast")
    periods = require(props, "periods", NwsPayloadError, "hourly forecast")
    if not isinstance(periods, list):
        raise NwsPayloadError("hourly forecast: 'periods' is not an array")
    if not periods:
        from gateway.errors import EmptyPayload

        raise EmptyPayload(NAME, "hourly forecast: no periods")
    issued_raw = props.get("updateTime") or props.get("generatedAt") or props.get("updated")
    issued = utc_from_iso(issued_raw, "properties.updateTime") if issued_raw else None
    coords = ((data.get("geometry") or {}).get("coordinates")) if isinstance(data.get("geometry"), dict) else None
    lat = lon = None
    if coords and isinstance(coords, list) and coords and isinstance(coords[0], list):
        ring = coords[0]
        if ring and isinstance(ring[0], list):
            lons = [as_float(p[0], "geometry.coordinates[0][][0]") if isinstance(p, list) and len(p) > 1 else None
                    for p in ring]
            lats = [as_float(p[1], "geometry.coordinates[0][][1]") if isinstance(p, list) and len(p) > 1 else None
                    for p in ring]
            if None in lons or None in lats:
                raise FieldError("geometry.coordinates: a polygon corner is not [lon, lat]")
            lon = round(sum(v for v in lons if v is not None) / len(ring), 4)
            lat = round(sum(v for v in lats if v is not None) / len(ring), 4)
    out = []
    for p in periods:
        if not isinstance(p, dict):
            raise FieldError(f"periods[]: expected an object, got {type(p).__name__}")
        start = utc_from_iso(require(p, "startTime", NwsPayloadError, "forecast period"), "startTime")
        direction = p.get("windDirection")
        if isinstance(direction, dict):
            wind_dir = quantity(direction, "angle", "windDirection")
        elif direction in (None, ""):
            wind_dir = None
        else:
            if not isinstance(direction, str) or direction.upper() not in COMPASS:
                raise FieldError(f"windDirection: unknown compass point {str(direction)[:20]!r}")
            wind_dir = COMPASS[direction.upper()]
        short = p.get("shortForecast")
        if short is not None and not isinstance(short, str):
            raise FieldError(f"shortForecast: expected a string, got {type(short).__name__}")
        out.append(WeatherObs(
            source=NAME, kind="forecast", ts=start, issued_at=issued or start,
            temperature_c=_temperature_c(p),
            cloud_cover_pct=cloud_cover_from_text(short),
            wind_speed_ms=_wind_speed_ms(p.get("windSpeed")),
            wind_direction_deg=wind_dir, latitude=lat, longitude=lon,
        ))
    return out


@payload_guard(NwsPayloadError, "observation")
def parse_observation(body: bytes | str) -> list[WeatherObs]:
    """Return the observations of /stations/{id}/observations/latest (one Feature) or /observations (a collection).

    Both the GeoJSON form (``properties``, ``geometry.coordinates``) and the JSON-LD form (fields at
    the top level, ``geometry`` a WKT ``POINT(lon lat)``) are read. Each quantity is converted by its own unitCode: temperature to °C, wind speed to m/s,
    pressure to hPa, last-hour precipitation to mm, wind direction in degrees; a unitCode not in
    connectors.weather.units is refused by name, a number sent as a string too. Collections come
    back sorted by time.
    """
    data = load_json(body, NwsPayloadError, "observation")
    if isinstance(data, dict) and "features" in data and "properties" not in data:
        features = data["features"]
        if not isinstance(features, list):
            raise NwsPayloadError("observations: 'features' is not an array")
        out = [_observation(f, f"features[{i}].") for i, f in enumerate(features)]
        return sorted(out, key=lambda o: o.ts)
    return [_observation(data, "")]


_WKT_POINT = re.compile(r"^\s*POINT\s*\(\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*\)\s*$", re.I)


def _point(geometry: Any, field: str) -> tuple[float | None, float | None]:
    """Return (lon, lat) of a GeoJSON Point (``coordinates``) or a JSON-LD WKT literal ``POINT(lon lat)``."""
    if geometry is None:
        return None, None
    if isinstance(geometry, str):  # application/ld+json answers carry geometry as a WKT literal
        m = _WKT_POINT.match(geometry)
        if not m:
            raise FieldError(f"{field}: expected a WKT 'POINT(lon lat)', got {geometry[:40]!r}")
        return float(m.group(1)), float(m.group(2))
    if not isinstance(geometry, dict):
        raise FieldError(f"{field}: expected a GeoJSON object or WKT string, got {type(geometry).__name__}")
    coords = geometry.get("coordinates")
    if coords is None:
        return None, None
    if not isinstance(coords, list) or len(coords) < 2:
        raise FieldError(f"{field}.coordinates: expected [lon, lat], got {str(coords)[:40]!r}")
    return as_float(coords[0], f"{field}.coordinates[0]"), as_float(coords[1], f"{field}.coordinates[1]")


def _observation(data: Any, at: str) -> WeatherObs:
    if isinstance(data, dict) and "properties" not in data and "@type" in data:
        props = data  # JSON-LD form (Accept: application/ld+json): the fields sit at the top level
    else:
        props = require(data, "properties", NwsPayloadError, f"observation {at}".strip())
    if not isinstance(props, dict):
        raise FieldError(f"{at}properties: expected an object, got {type(props).__name__}")

    def qv(key: str, kind: str, digits: int) -> float | None:
        value = quantity(props.get(key), kind, f"{at}properties.{key}")
        return None if value is None else round(value, digits)

    lon, lat = _point(data.get("geometry"), f"{at}geometry")
    station_url = props.get("station")
    station = as_str(station_url, f"{at}properties.station").rsplit("/", 1)[-1] if station_url is not None else None
    text = props.get("textDescription")
    if text is not None and not isinstance(text, str):
        raise FieldError(f"{at}properties.textDescription: expected a string, got {type(text).__name__}")
    stamp = require(props, "timestamp", NwsPayloadError, f"observation {at}".strip())
    try:
        return _observation_record(props, at, stamp, text, lat, lon, station, qv)
    except FieldError as exc:
        raise FieldError(f"{at}{exc}" if at else str(exc)) from None


def _observation_record(props: dict[str, Any], at: str, stamp: Any, text: str | None, lat: float | None,
                        lon: float | None, station: str | None, qv: Any) -> WeatherObs:
    return WeatherObs(
        source=NAME, kind="observation", ts=utc_from_iso(stamp, f"{at}properties.timestamp"),
        temperature_c=qv("temperature", "temperature", 2),
        cloud_cover_pct=cloud_cover_from_text(text),
        wind_speed_ms=qv("windSpeed", "speed", 3),
        wind_direction_deg=qv("windDirection", "angle", 1),
        precipitation_mm=qv("precipitationLastHour", "length", 2),
        pressure_hpa=qv("barometricPressure", "pressure", 2),
        latitude=lat, longitude=lon, station=station or None,
    )


@payload_guard(NwsPayloadError, "alerts")
def parse_alerts(body: bytes | str) -> list[AlertRecord]:
    """Return the alerts of an /alerts/active answer in GeoJSON (features) or JSON-LD (@graph) form."""
    data = load_json(body, NwsPayloadError, "alerts")
    if not isinstance(data, dict):
        raise NwsPayloadError("alerts: expected an object")
    if "@graph" in data:
        items = data["@graph"]
    elif "features" in data:
        if not isinstance(data["features"], list):
            raise NwsPayloadError(f"alerts: 'features' is not an array (got {type(data['features']).__name__})")
        items = [require(f, "properties", NwsPayloadError, "alert feature") for f in data["features"]]
    else:
        raise NwsPayloadError("alerts: neither 'features' (GeoJSON) nor '@graph' (JSON-LD) present")
    if not isinstance(items, list):
        raise NwsPayloadError("alerts: alert list is not an array")
    out = []
    for i, a in enumerate(items):
        ident = as_str(require(a, "id", NwsPayloadError, "alert"), f"alert[{i}].id")
        event = as_str(require(a, "event", NwsPayloadError, "alert"), f"alert[{i}].event")
        ends = a.get("ends") or a.get("expires")
        out.append(AlertRecord(
            source=NAME, external_id=ident[:200], event=event[:200],
            severity=_opt_str(a, "severity", i), headline=_opt_str(a, "headline", i) or event,
            onset=utc_from_iso(a["onset"], f"alert[{i}].onset") if a.get("onset") else (
                utc_from_iso(a["effective"], f"alert[{i}].effective") if a.get("effective") else None),
            ends=utc_from_iso(ends, f"alert[{i}].ends") if ends else None,
            zones=_zones(a.get("affectedZones"), i),
        ))
    return out


def _opt_str(alert: dict[str, Any], key: str, i: int) -> str:
    value = alert.get(key)
    if value is None:
        return ""
    return as_str(value, f"alert[{i}].{key}", required=False)


def _zones(value: Any, i: int) -> tuple[str, ...]:
    """Return the zone ids of ``affectedZones`` (an array of zone URLs); a bare string is refused, not split."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise FieldError(f"alert[{i}].affectedZones: expected an array of zone URLs, got {type(value).__name__} "
                         f"{str(value)[:40]!r}")
    return tuple(as_str(z, f"alert[{i}].affectedZones[{j}]").rsplit("/", 1)[-1] for j, z in enumerate(value))


class NoaaNws(WeatherProvider):
    """NOAA api.weather.gov connector (US only)."""

    name = NAME
    label = "NOAA api.weather.gov"
    region = "us"
    payload_error = NwsPayloadError

    def _headers(self, accept: str = "application/geo+json") -> dict[str, str]:
        ua = str(getattr(self.gateway.settings, "noaa_user_agent", "") or "")
        if not ua.strip():
            from gateway.errors import ConfigurationError

            raise ConfigurationError(self.name, "FLEETLIGHT_NOAA_USER_AGENT is empty; NWS requires an "
                                                "identifying User-Agent with a contact")
        return {"User-Agent": ua, "Accept": accept}

    def _check(self, lat: float, lon: float) -> None:
        check_coords(self.name, lat, lon)
        if not in_us(lat, lon):
            raise UnsupportedRequest(self.name, f"no NWS coverage outside the US (lat={lat}, lon={lon})")

    def get_point(self, lat: float, lon: float) -> NwsPoint:
        """Return the grid metadata of a US point."""
        self._check(lat, lon)
        return self.gateway.fetch(self.name, "GET", f"/points/{lat:.4f},{lon:.4f}", endpoint="points",
                                  headers=self._headers(), parse=lambda r: parse_points(r.content)).value

    def get_forecast(self, lat: float, lon: float) -> list[WeatherObs]:
        """Return the hourly forecast (about 156 hours) for a US point."""
        point = self.get_point(lat, lon)
        path = f"/gridpoints/{point.grid_id}/{point.grid_x},{point.grid_y}/forecast/hourly"
        return self.gateway.fetch(self.name, "GET", path, endpoint="gridpoints/forecast/hourly",
                                  headers=self._headers(),
                                  parse=lambda r: parse_hourly_forecast(r.content)).value

    def get_current(self, lat: float, lon: float) -> list[WeatherObs]:
        """Return the latest observation of the first station serving the point."""
        point = self.get_point(lat, lon)
        stations_path = httpx.URL(point.observation_stations).path  # keep the (overridable) base URL
        stations = self.gateway.fetch(self.name, "GET", stations_path, endpoint="stations",
                                      headers=self._headers(), parse=lambda r: _first_station(r.content)).value
        return self.gateway.fetch(self.name, "GET", f"/stations/{stations}/observations/latest",
                                  endpoint="stations/observations/latest", headers=self._headers(),
                                  parse=lambda r: parse_observation(r.content)).value

    def get_alerts(self, lat: float, lon: float) -> list[AlertRecord]:
        """Return active alerts for a US point."""
        self._check(lat, lon)
        return self.gateway.fetch(self.name, "GET", "/alerts/active", endpoint="alerts/active",
                                  params={"point": f"{lat:.4f},{lon:.4f}"},
                                  headers=self._headers("application/ld+json"),
                                  parse=lambda r: parse_alerts(r.content)).value

    def get_zone_alerts(self, zone_id: str) -> list[AlertRecord]:
        """Return active alerts for an NWS zone id such as ``ORZ006``."""
        if not re.fullmatch(r"[A-Z]{2}[CZ]\d{3}", zone_id or ""):
            from gateway.errors import ConfigurationError

            raise ConfigurationError(self.name, f"invalid NWS zone id {zone_id!r} (expected e.g. ORZ006)")
        return self.gateway.fetch(self.name, "GET", f"/alerts/active/zone/{zone_id}", endpoint="alerts/active/zone",
                                  headers=self._headers(), parse=lambda r: parse_alerts(r.content)).value


@payload_guard(NwsPayloadError, "stations")
def _first_station(body: bytes) -> str:
    data = load_json(body, NwsPayloadError, "stations")
    features = require(data, "features", NwsPayloadError, "stations")
    if not features:
        from gateway.errors import EmptyPayload

        raise EmptyPayload(NAME, "stations: no observation station for this point")
    return str(require(features[0]["properties"], "stationIdentifier", NwsPayloadError, "station"))


def replay(request: httpx.Request) -> httpx.Response | None:
    """Offline replay from connectors/recorded/noaa_nws/ (Tallahassee grid TAE/58,65; Spokane alert)."""
    from connectors.recorded import serve

    path = request.url.path
    if path.startswith("/points/"):
        return serve(request, NAME, "points_30_-85.json", "application/geo+json")
    if path.endswith("/forecast/hourly"):
        return serve(request, NAME, "gridpoints_TAE_58_65_forecast_hourly_2019.json", "application/geo+json")
    if path.startswith("/alerts/active"):
        return serve(request, NAME, "alerts_active_point_46.9_-116.9_2025-02-08_jsonld.json", "application/ld+json")
    if path.endswith("/observations/latest"):
        return serve(request, NAME, "stations_KFLL_observations_latest.json", "application/geo+json")
    if path.endswith("/stations"):
        body = b'{"features":[{"properties":{"stationIdentifier":"KFLL"}}]}'  # replay stub: station list
        return httpx.Response(200, content=body, headers={"content-type": "application/geo+json"}, request=request)
    return None
