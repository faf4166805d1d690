"""NOAA NCEI Climate Data Online web services v2: historical daily observations (GHCND).

API: https://www.ncdc.noaa.gov/cdo-web/webservices/v2 (now served under
https://www.ncei.noaa.gov/cdo-web/api/v2). Auth: header ``token`` (settings.ncei_token).
Limits: 5 requests/second, 10,000 requests/day per token, 1000 results per request.
Values: with ``units=metric`` (what we request) °C, mm and m/s; without ``units`` the raw GHCND
values are tenths (°C/10, mm/10, m/s/10) — parsers take ``units``. An empty result is ``{}``.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import httpx

from connectors.base import as_float, as_str, load_json, make_payload_error, payload_guard, require
from connectors.errors import FieldError
from connectors.records import UTC, WeatherObs
from connectors.weather.base import WeatherProvider, check_coords

NAME = "noaa_ncei"
NceiPayloadError = make_payload_error(NAME, "NceiPayloadError")

# GHCND datatype -> (WeatherObs field, raw scale to metric)
GHCND = {
    "TAVG": ("temperature_c", 0.1),
    "TMAX": ("_tmax", 0.1),
    "TMIN": ("_tmin", 0.1),
    "PRCP": ("precipitation_mm", 0.1),
    "AWND": ("wind_speed_ms", 0.1),
    "WDF2": ("wind_direction_deg", 1.0),
    "ACSH": ("cloud_cover_pct", 10.0),  # average cloudiness sunrise-sunset, tenths -> %
}


@payload_guard(NceiPayloadError, "CDO data")
def parse_daily(body: bytes | str, units: str = "metric") -> list[WeatherObs]:
    """Return one daily observation per (station, date) of a /data?datasetid=GHCND answer.

    ``ts`` is the date at 00:00 UTC (GHCND days are local station days; the label is the date).
    Temperature is TAVG, else the mean of TMAX and TMIN. Unknown datatypes (e.g. normals, GSOM
    monthly datatypes) are skipped, and a day left with no value (a lone TMAX) gives no record.
    A value whose GHCND quality flag is set (``attributes`` "MFLAG,QFLAG,SFLAG,TIME", QFLAG not
    blank) failed NOAA's quality checks and is not used. ``{}`` (no data) returns an empty list.
    Values must be JSON numbers (strings are refused with
    the row named), dates ISO dates; a datatype repeated for one station and day is refused.
    """
    if units not in ("metric", "raw"):
        raise NceiPayloadError(f"unknown units {units!r} (expected 'metric' or 'raw')")
    data = load_json(body, NceiPayloadError, "CDO data")
    if not isinstance(data, dict):
        raise NceiPayloadError("CDO data: expected an object")
    if not data:
        return []
    results = require(data, "results", NceiPayloadError, "CDO data")
    if not isinstance(results, list):
        raise NceiPayloadError("CDO data: 'results' is not an array")
    days: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for n, row in enumerate(results):
        at = f"results[{n}]"
        datatype = as_str(require(row, "datatype", NceiPayloadError, "CDO result"), f"{at}.datatype").upper()
        date = as_str(require(row, "date", NceiPayloadError, "CDO result"), f"{at}.date")[:10]
        station = as_str(require(row, "station", NceiPayloadError, "CDO result"), f"{at}.station")
        value = as_float(require(row, "value", NceiPayloadError, "CDO result"), f"{at}.value")
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            raise FieldError(f"{at}.date: {date!r} is not a date (YYYY-MM-DD...)") from None
        if datatype not in GHCND or value is None:
            continue
        attributes = row.get("attributes")
        if attributes is not None and not isinstance(attributes, str):
            raise FieldError(f"{at}.attributes: expected a string such as ',,7,1800', got {type(attributes).__name__}")
        flags = (attributes or "").split(",")
        if len(flags) >= 2 and flags[1].strip():  # GHCND QFLAG set: the value failed a NOAA quality check
            continue
        field, scale = GHCND[datatype]
        if field in days[(station, date)]:
            raise FieldError(f"{at}: {datatype} of {station} on {date} appears twice")
        days[(station, date)][field] = value * scale if units == "raw" else value
    out = []
    for (station, date), values in sorted(days.items()):
        day = dt.datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=UTC)
        tmax, tmin = values.pop("_tmax", None), values.pop("_tmin", None)
        if "temperature_c" not in values and tmax is not None and tmin is not None:
            values["temperature_c"] = (tmax + tmin) / 2
        if not values:  # e.g. a lone TMAX (a GSOM monthly summary): nothing this record can hold
            continue
        out.append(WeatherObs(source=NAME, kind="observation", ts=day, station=station,
                              **{k: round(v, 3) for k, v in values.items()}))
    return out


class NoaaNcei(WeatherProvider):
    """NOAA NCEI CDO v2 connector: daily history for a GHCND station."""

    name = NAME
    label = "NOAA NCEI CDO v2"
    region = "global"
    payload_error = NceiPayloadError

    def get_history(
        self, lat: float, lon: float, start: dt.date, end: dt.date, station: str | None = None
    ) -> list[WeatherObs]:
        """Return daily GHCND observations of ``station`` (e.g. ``GHCND:USC00200230``) for start..end."""
        check_coords(self.name, lat, lon)
        if not station:
            raise self.unsupported("history without a GHCND station id (set the site's weather station)")
        if end < start or (end - start).days > 365:
            from gateway.errors import ConfigurationError

            raise ConfigurationError(self.name, f"date range {start}..{end} must be ordered and under a year")
        params: dict[str, Any] = {
            "datasetid": "GHCND", "stationid": station, "startdate": start.isoformat(),
            "enddate": end.isoformat(), "units": "metric", "limit": 1000,
            "datatypeid": ",".join(GHCND),
        }
        headers = {"token": self.gateway.secret("ncei_token") or ""}
        return self.gateway.fetch(self.name, "GET", "/data", endpoint="data", params=params, headers=headers,
                                  parse=lambda r: parse_daily(r.content, r.headers.get(
                                      "x-fleetlight-recorded-units", "metric"))).value


def replay(request: httpx.Request) -> httpx.Response | None:
    """Offline replay: the recorded GHCND PRCP answer (made without ``units``, hence raw tenths)."""
    from connectors.recorded import serve

    if request.url.path.endswith("/data"):
        return serve(request, NAME, "cdo_v2_data_GHCND_PRCP_USC00200230_2013-09.json", "application/json",
                     {"x-fleetlight-recorded-units": "raw"})
    return None
