"""Property tests: whatever a provider sends, a parser gives a correct result or its own named error.

Each parser is fed mangled copies of real recordings (tests/fixtures, provenance in SOURCES.md):
truncated, replaced by an HTML error page or an empty body, a field removed, a value of the wrong
type, a number made non-finite, bytes corrupted in place. The outcome must be either

* a provider error of that parser's provider, whose message names the provider and does not
  read like a bare Python exception (no "KeyError: ...", "'str' object has no attribute ..."), or
* a result whose every record is whole: tz-aware UTC times, finite numbers, non-empty names —
  never a half-parsed row.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import io
import json
import math
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.markets import caiso, eex, entsoe, ercot
from connectors.records import AlertRecord, PriceRecord, WeatherObs
from connectors.weather import noaa_ncei, noaa_nws
from connectors.weather import openweathermap as owm
from gateway.errors import ProviderError
from tests.support.provider_server import HTML_ERROR, oasis_error_xml

FX = Path(__file__).resolve().parents[1] / "fixtures"


def parse_daily_peg(body: bytes) -> Any:
    """EEX getDaily as the connector calls it for the PEG day-ahead symbol (the answer names no symbol)."""
    return eex.parse_daily(body, "#E.PEG_GND1")


def parse_daily_eua(body: bytes) -> Any:
    """EEX getDaily as the connector calls it for the EUA futures symbol."""
    return eex.parse_daily(body, "/E.SEME[0]")

BARE = re.compile(r"\b(AttributeError|KeyError|TypeError|IndexError|ValueError|ZeroDivisionError|OverflowError|"
                  r"UnicodeDecodeError|RecursionError|OSError)\b|object has no attribute|object is not (iterable|"
                  r"subscriptable)")

JSON_PARSERS: list[tuple[str, Callable[..., Any], str]] = [
    ("openweathermap", owm.parse_current, "openweathermap/current_weather_lat_lon_2020.json"),
    ("openweathermap", owm.parse_current, "openweathermap/current_weather_moscow_imperial_2020.json"),
    ("openweathermap", owm.parse_forecast, "openweathermap/forecast_5day_3hour_london_2025.json"),
    ("openweathermap", owm.parse_forecast, "openweathermap/forecast_hourly_pro_arctic_82.86_135.0_2024.json"),
    ("openweathermap", owm.parse_onecall, "openweathermap/onecall_lat_lon_2023_recorded_on_v2_5.json"),
    ("openweathermap", owm.parse_onecall, "openweathermap/onecall_timemachine_2020_recorded_on_v2_5.json"),
    ("openweathermap", owm.parse_onecall, "openweathermap/onecall_3_0_timemachine_2024.json"),
    ("noaa_nws", noaa_nws.parse_points, "noaa_nws/points_30_-85.json"),
    ("noaa_nws", noaa_nws.parse_hourly_forecast, "noaa_nws/gridpoints_TAE_58_65_forecast_2019.json"),
    ("noaa_nws", noaa_nws.parse_hourly_forecast, "noaa_nws/gridpoints_forecast_hourly_si_units.json"),
    ("noaa_nws", noaa_nws.parse_alerts, "noaa_nws/alerts_active_zone.json"),
    ("noaa_nws", noaa_nws.parse_alerts, "noaa_nws/alerts_active_point_46.9_-116.9_2025-02-08_jsonld.json"),
    ("noaa_nws", noaa_nws.parse_observation, "noaa_nws/stations_KFLL_observations_latest.json"),
    ("noaa_nws", noaa_nws.parse_observation, "noaa_nws/stations_KFLL_observations_alternate_units_degF_kmh.json"),
    ("noaa_nws", noaa_nws.parse_observation, "noaa_nws/stations_KSUA_observations_latest_jsonld_2021-11-07.json"),
    ("noaa_ncei", noaa_ncei.parse_daily, "noaa_ncei_cdo/cdo_v2_data_GHCND_PRCP_USC00200230_2013-09.json"),
    ("noaa_ncei", noaa_ncei.parse_daily, "noaa_ncei_cdo/cdo_v2_data_GSOM_AE000041196_2013-10.json"),
    ("ercot", ercot.parse_archive_listing, "ercot/public_api_archive_listing_np3-911-er_2024-11-05.json"),
    ("eex", parse_daily_peg, "eex/getDaily_PEG_GND1_2025-10-24.json"),
    ("eex", parse_daily_peg, "eex/getDaily_PEG_GND1_2025-10-27.json"),
    ("eex", parse_daily_eua, "eex/getDaily_SEME0_2025-10-27.json"),
    ("eex", eex.parse_daily, "eex/getDaily_SEME0_2025-10-27.json"),  # without a symbol: always a named error
]
TEXT_PARSERS: list[tuple[str, Callable[..., Any], str, int | None]] = [  # (..., keep only the first N lines)
    ("ercot", ercot.parse_rt_spp, "ercot/rt_spp_np6-905-cd_2024-03-29_he1_int4_full.csv", None),
    ("ercot", ercot.parse_rt_spp, "ercot/rt_spp_np6-905-cd_2026-09-29_he12_int1_trimmed_sample.csv", None),
    ("ercot", ercot.parse_dam_spp, "ercot/dam_spp_np4-190-cd_2017-02-14.csv", 400),
    ("ercot", ercot.parse_dam_spp, "ercot/dam_spp_np4-190-cd_2026-09-29_he1-2_trimmed_sample.csv", None),
    ("entsoe", entsoe.parse_a44, "entsoe/day_ahead_prices_A44_DE-LU_2021-01-01.xml", None),
]
ALL = [(p, fn) for p, fn, _ in JSON_PARSERS] + [(p, fn) for p, fn, _, _ in TEXT_PARSERS] + [("caiso", caiso.parse_oasis_zip)]
ALL_IDS = [f"{p}.{fn.__name__}" for p, fn in ALL]
JSON_IDS = [f"{p}.{fn.__name__}:{Path(f).stem[:40]}" for p, fn, f in JSON_PARSERS]
TEXT_IDS = [f"{p}.{fn.__name__}:{Path(f).stem[:40]}" for p, fn, f, _ in TEXT_PARSERS]

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


def _raw(rel: str, lines: int | None = None) -> bytes:
    data = (FX / rel).read_bytes()
    if lines is not None:
        data = b"\n".join(data.split(b"\n")[:lines]) + b"\n"
    return data


def _utc(value: dt.datetime | None) -> bool:
    return value is None or (value.tzinfo is not None and value.utcoffset() == dt.timedelta(0))


def assert_whole(value: Any) -> None:
    """Fail unless every record in ``value`` is complete and sane (no half-parsed row)."""
    if isinstance(value, (list, tuple)):
        for item in value:
            assert_whole(item)
        return
    if isinstance(value, PriceRecord):
        assert value.node and math.isfinite(value.price), value
        assert _utc(value.interval_start) and _utc(value.interval_end) and value.interval_start < value.interval_end
        assert value.market_type in ("DA", "RT") and value.currency
    elif isinstance(value, WeatherObs):
        assert value.kind in ("observation", "forecast") and _utc(value.ts) and _utc(value.issued_at), value
        assert (value.issued_at is None) == (value.kind == "observation"), value
        for f in ("temperature_c", "cloud_cover_pct", "wind_speed_ms", "wind_direction_deg", "ghi_wm2",
                  "precipitation_mm", "pressure_hpa", "latitude", "longitude"):
            v = getattr(value, f)
            assert v is None or (isinstance(v, float | int) and not isinstance(v, bool) and math.isfinite(v)), (f, v)
    elif isinstance(value, AlertRecord):
        assert value.external_id and value.event and _utc(value.onset) and _utc(value.ends), value
        assert all(isinstance(z, str) and z for z in value.zones), value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            assert_whole(getattr(value, f.name))


def check(provider: str, fn: Callable[..., Any], payload: bytes) -> None:
    """Assert ``fn(payload)`` gives a whole result or a named error of ``provider``."""
    try:
        result = fn(payload)
    except ProviderError as exc:  # BadPayload/EmptyPayload, and for CAISO ProviderBusy/RequestRejected
        assert exc.provider == provider, f"error names {exc.provider}, expected {provider}"
        assert str(exc).startswith(provider)
        assert not BARE.search(str(exc)), f"bare exception text in {exc}"
        return
    assert_whole(result)


# --- mangling of JSON recordings -----------------------------------------------------------

def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:6]):  # a few elements of each array are enough
            out += _paths(v, (*prefix, i))
    return out


def _set(obj: Any, path: tuple, value: Any, delete: bool = False) -> Any:
    obj = copy.deepcopy(obj)
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return obj


WRONG = st.sampled_from([None, True, False, 0, -1, 10**30, "10", "", "x", [], {}, [1, 2], {"value": "1"}])
NON_FINITE = st.sampled_from(["1e400", "-1e400", "NaN", "Infinity"])


@pytest.mark.parametrize("provider,fn,fixture", JSON_PARSERS, ids=JSON_IDS)
@SETTINGS
@given(data=st.data())
def test_json_recordings_mangled(provider, fn, fixture, data):
    raw = _raw(fixture)
    doc = json.loads(raw)
    paths = _paths(doc)
    path = data.draw(st.sampled_from(paths))
    check(provider, fn, json.dumps(_set(doc, path, None, delete=True)).encode())  # missing field
    check(provider, fn, json.dumps(_set(doc, path, data.draw(WRONG))).encode())  # wrong type
    numbers = [p for p in paths if isinstance(_get(doc, p), (int, float)) and not isinstance(_get(doc, p), bool)]
    if numbers:  # a number made non-finite, written as JSON numbers/literals the way a proxy might
        target = data.draw(st.sampled_from(numbers))
        marker = "__NONFINITE__"
        text = json.dumps(_set(doc, target, marker)).replace(f'"{marker}"', data.draw(NON_FINITE))
        check(provider, fn, text.encode())
    check(provider, fn, raw[: data.draw(st.integers(0, len(raw) - 1))])  # truncated


def _get(obj: Any, path: tuple) -> Any:
    for key in path:
        obj = obj[key]
    return obj


# --- mangling of CSV/XML recordings --------------------------------------------------------

FIELD_TOKENS = st.sampled_from(["", " ", "x", "-1", "0", "25", "99999", "1e400", "inf", "NaN", "Y", "24:30",
                                "02/30/2024", "2021-13-01T00:00Z", "PT0M", "P1D", "<a/>", "\"", "true"])


@pytest.mark.parametrize("provider,fn,fixture,lines", TEXT_PARSERS, ids=TEXT_IDS)
@SETTINGS
@given(data=st.data())
def test_text_recordings_mangled(provider, fn, fixture, lines, data):
    raw = _raw(fixture, lines)
    text = raw.decode("utf-8")
    pattern = r">([^<>]*)<" if fixture.endswith(".xml") else r"(?:^|,)([^,\n]*)"
    fields = list(re.finditer(pattern, text, flags=re.M))
    m = data.draw(st.sampled_from(fields[:4000]))
    check(provider, fn, (text[: m.start(1)] + data.draw(FIELD_TOKENS) + text[m.end(1):]).encode())  # one field
    cut = data.draw(st.integers(0, len(raw) - 1))
    check(provider, fn, raw[:cut])  # truncated
    pos = data.draw(st.integers(0, len(raw) - 1))
    junk = data.draw(st.binary(min_size=1, max_size=8))
    check(provider, fn, raw[:pos] + junk + raw[pos + len(junk):])  # corrupted in place


# --- what every parser must survive --------------------------------------------------------

@pytest.mark.parametrize("provider,fn", ALL, ids=ALL_IDS)
def test_html_page_and_empty_body(provider, fn):
    for body in (HTML_ERROR, b"", b"   \n", b"null", b"[]", b"{}"):
        check(provider, fn, body)


@pytest.mark.parametrize("provider,fn", ALL, ids=ALL_IDS)
@SETTINGS
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes(provider, fn, data):
    check(provider, fn, data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(["main", "list", "dt", "temp", "properties", "periods", "results", "archives", "@graph",
                         "features", "items", "close", "value", "date", "datatype", "station", "startTime",
                         "event", "id", "cod", "current", "hourly", "data", "gridId", "gridX", "gridY",
                         "forecastHourly", "docId", "tradedatetimegmt", "timestamp", "alerts", "unitCode",
                         "affectedZones", "rain", "1h", "3h"]) | st.text(max_size=8),
        children, max_size=6),
    max_leaves=25,
)


@pytest.mark.parametrize("provider,fn", [(p, fn) for p, fn, _ in JSON_PARSERS],
                         ids=[f"{p}.{fn.__name__}" for p, fn, _ in JSON_PARSERS])
@SETTINGS
@given(value=json_values)
def test_arbitrary_json(provider, fn, value):
    check(provider, fn, json.dumps(value).encode())


@pytest.mark.parametrize("csv_parser", [ercot.parse_dam_spp, ercot.parse_rt_spp])
@SETTINGS
@given(rows=st.lists(st.lists(st.text(alphabet="0123456789/:,. YNAB_-\"", max_size=12), min_size=0, max_size=8),
                     max_size=6))
def test_ercot_csv_like_text(csv_parser, rows):
    header = ("DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag" if csv_parser is ercot.parse_dam_spp
              else "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,"
                   "SettlementPointPrice,DSTFlag")
    check("ercot", csv_parser, (header + "\n" + "\n".join(",".join(r) for r in rows)).encode())


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buf.getvalue()


def _caiso_rows(lines: int = 60) -> tuple[str, list[str]]:
    with zipfile.ZipFile(FX / "caiso_oasis/SingleZip_PRC_LMP_DAM_ALL_APNODES_20200101.zip") as zf, \
            zf.open(zf.namelist()[0]) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8")
        header = text.readline().rstrip("\n")
        return header, [text.readline().rstrip("\n") for _ in range(lines)]


CAISO_HEADER, CAISO_ROWS = _caiso_rows()


@SETTINGS
@given(data=st.data())
def test_caiso_recording_mangled(data):
    """Real OASIS rows (the first of the recorded day) with one field mangled, inside a fresh zip."""
    rows = list(CAISO_ROWS)
    i = data.draw(st.integers(0, len(rows) - 1))
    cells = rows[i].split(",")
    j = data.draw(st.integers(0, len(cells) - 1))
    cells[j] = data.draw(FIELD_TOKENS)
    rows[i] = ",".join(cells)
    body = ("\n".join([CAISO_HEADER, *rows]) + "\n").encode()
    check("caiso", caiso.parse_oasis_zip, _zip({"PRC_LMP_DAM_v1.csv": body}))
    check("caiso", caiso.parse_oasis_zip, _zip({"PRC_LMP_DAM_v1.csv": body[: data.draw(st.integers(0, len(body)))]}))
    code = data.draw(st.sampled_from(["1000", "1015", "1002", "1001", "9999"]))
    name = data.draw(st.sampled_from(["INVALID_REQUEST.xml", "PRC_LMP_DAM_v1.xml", "report.xml"]))
    check("caiso", caiso.parse_oasis_zip, _zip({name: oasis_error_xml(code)}))


CAISO_XML = "caiso_oasis/20130309_20130311_ENE_LOSS_DAM_20190803_22_07_54_v1.xml"


@SETTINGS
@given(data=st.data())
def test_caiso_xml_recording_mangled(data):
    """The real OASISReport XML answer with one element's text mangled, truncated or corrupted, in a zip."""
    raw = _raw(CAISO_XML)
    text = raw.decode("utf-8")
    fields = list(re.finditer(r">([^<>]*)<", text))
    m = data.draw(st.sampled_from(fields))
    name = data.draw(st.sampled_from([Path(CAISO_XML).name, "PRC_LMP_DAM_v1.xml"]))
    mangled = (text[: m.start(1)] + data.draw(FIELD_TOKENS | st.sampled_from(["PRC_LMP", "LMP_PRC"])) + text[m.end(1):])
    check("caiso", caiso.parse_oasis_zip, _zip({name: mangled.encode()}))
    check("caiso", caiso.parse_oasis_zip, _zip({name: raw[: data.draw(st.integers(0, len(raw) - 1))]}))
    pos = data.draw(st.integers(0, len(raw) - 1))
    junk = data.draw(st.binary(min_size=1, max_size=8))
    check("caiso", caiso.parse_oasis_zip, _zip({name: raw[:pos] + junk + raw[pos + len(junk):]}))


@SETTINGS
@given(members=st.dictionaries(st.sampled_from(["a.csv", "b.xml", "INVALID_REQUEST.xml", "x.txt"]),
                               st.binary(max_size=300), max_size=3))
def test_caiso_arbitrary_zips(members):
    check("caiso", caiso.parse_oasis_zip, _zip(members))
