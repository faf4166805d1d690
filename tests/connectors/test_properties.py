"""Property tests: whatever a provider sends, a parser raises only its own connector error."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.markets import caiso, eex, entsoe, ercot
from connectors.weather import noaa_ncei, noaa_nws
from connectors.weather import openweathermap as owm
from gateway.errors import BadPayload

FX = Path(__file__).resolve().parents[1] / "fixtures"

PARSERS = [
    ("openweathermap", owm.parse_current, "openweathermap/current_weather_lat_lon_2020.json"),
    ("openweathermap", owm.parse_forecast, "openweathermap/forecast_5day_3hour_london_2025.json"),
    ("openweathermap", owm.parse_onecall, "openweathermap/onecall_lat_lon_2023_recorded_on_v2_5.json"),
    ("noaa_nws", noaa_nws.parse_points, "noaa_nws/points_30_-85.json"),
    ("noaa_nws", noaa_nws.parse_hourly_forecast, "noaa_nws/gridpoints_TAE_58_65_forecast_2019.json"),
    ("noaa_nws", noaa_nws.parse_alerts, "noaa_nws/alerts_active_zone.json"),
    ("noaa_nws", noaa_nws.parse_observation, "noaa_nws/stations_KFLL_observations_latest.json"),
    ("noaa_ncei", noaa_ncei.parse_daily, "noaa_ncei_cdo/cdo_v2_data_GHCND_PRCP_USC00200230_2013-09.json"),
    ("ercot", ercot.parse_dam_spp, "ercot/rt_spp_np6-905-cd_2026-09-29_he12_int1_trimmed_sample.csv"),
    ("ercot", ercot.parse_rt_spp, "ercot/rt_spp_np6-905-cd_2026-09-29_he12_int1_trimmed_sample.csv"),
    ("ercot", ercot.parse_archive_listing, "ercot/public_api_archive_listing_np3-911-er_2024-11-05.json"),
    ("entsoe", entsoe.parse_a44, "entsoe/day_ahead_prices_A44_DE-LU_2021-01-01.xml"),
    ("eex", eex.parse_daily, None),
]
IDS = [f"{p}.{fn.__name__}" for p, fn, _ in PARSERS]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(["main", "list", "dt", "temp", "properties", "periods", "results", "archives", "@graph",
                         "features", "items", "close", "value", "date", "datatype", "station", "startTime",
                         "event", "id", "cod", "current", "hourly", "data", "gridId", "gridX", "gridY",
                         "forecastHourly", "docId", "tradedatetimegmt", "timestamp", "alerts"]) | st.text(max_size=8),
        children, max_size=6),
    max_leaves=25,
)


def check(provider: str, fn, payload) -> None:
    try:
        fn(payload)
    except BadPayload as exc:  # the connector's own error (incl. EmptyPayload)
        assert exc.provider == provider, f"error names {exc.provider}, expected {provider}"
        assert str(exc).startswith(provider)


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("provider,fn,_", PARSERS, ids=IDS)
@SETTINGS
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes(provider, fn, _, data):
    check(provider, fn, data)


@pytest.mark.parametrize("provider,fn,_", PARSERS, ids=IDS)
@SETTINGS
@given(value=json_values)
def test_arbitrary_json(provider, fn, _, value):
    check(provider, fn, json.dumps(value).encode())


@pytest.mark.parametrize("provider,fn,fixture", [p for p in PARSERS if p[2]], ids=[i for i, p in zip(IDS, PARSERS, strict=False) if p[2]])
@SETTINGS
@given(data=st.data())
def test_mutated_recordings(provider, fn, fixture, data):
    raw = (FX / fixture).read_bytes()
    cut = data.draw(st.integers(0, len(raw)))
    pos = data.draw(st.integers(0, max(0, len(raw) - 1)))
    junk = data.draw(st.binary(min_size=1, max_size=8))
    check(provider, fn, raw[:cut])  # truncated
    check(provider, fn, raw[:pos] + junk + raw[pos + len(junk):])  # corrupted in place


@pytest.mark.parametrize("csv_parser", [ercot.parse_dam_spp, ercot.parse_rt_spp])
@SETTINGS
@given(rows=st.lists(st.lists(st.text(alphabet="0123456789/:,. YNAB_-\"", max_size=12), min_size=0, max_size=8),
                     max_size=6))
def test_ercot_csv_like_text(csv_parser, rows):
    header = ("DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag" if csv_parser is ercot.parse_dam_spp
              else "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,"
                   "SettlementPointPrice,DSTFlag")
    check("ercot", csv_parser, (header + "\n" + "\n".join(",".join(r) for r in rows)).encode())


@SETTINGS
@given(members=st.dictionaries(st.sampled_from(["a.csv", "b.xml", "INVALID_REQUEST.xml", "x.txt"]),
                               st.binary(max_size=300), max_size=3))
def test_caiso_arbitrary_zips(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    check("caiso", caiso.parse_oasis_zip, buf.getvalue())


@SETTINGS
@given(data=st.binary(max_size=400))
def test_caiso_arbitrary_bytes(data):
    check("caiso", caiso.parse_oasis_zip, data)
