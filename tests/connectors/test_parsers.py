"""Pure parsers on the recorded payloads in tests/fixtures (canonical records, UTC, interval start)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from connectors.markets import caiso, entsoe, ercot
from connectors.weather import noaa_ncei, noaa_nws
from connectors.weather import openweathermap as owm
from gateway.errors import EmptyPayload

FX = Path(__file__).resolve().parents[1] / "fixtures"
UTC = dt.UTC


def fx(rel: str) -> bytes:
    return (FX / rel).read_bytes()


def test_owm_current_in_kelvin_and_metric():
    [obs] = owm.parse_current(fx("openweathermap/current_weather_lat_lon_2020.json"), units="standard")
    assert obs.ts == dt.datetime(2020, 4, 28, 4, 37, 45, tzinfo=UTC) and obs.kind == "observation"
    assert obs.temperature_c == pytest.approx(282.08 - 273.15)
    assert (obs.cloud_cover_pct, obs.wind_speed_ms, obs.wind_direction_deg, obs.precipitation_mm) == (75, 5.7, 90, 1.52)
    [lisbon] = owm.parse_current(fx("openweathermap/current_weather_lat_lon_lisbon_2026.json"), units="metric")
    assert lisbon.temperature_c == 22.55 and lisbon.pressure_hpa == 1016 and lisbon.latitude == 38.7223


def test_owm_forecast_40_steps_of_3_hours():
    out = owm.parse_forecast(fx("openweathermap/forecast_5day_3hour_london_2025.json"), units="standard")
    assert len(out) == 40 and all(o.kind == "forecast" for o in out)
    assert out[0].ts == dt.datetime(2025, 3, 20, 21, tzinfo=UTC)
    assert {b.ts - a.ts for a, b in zip(out, out[1:], strict=False)} == {dt.timedelta(hours=3)}
    assert out[0].issued_at == dt.datetime(2025, 3, 20, 18, tzinfo=UTC)
    assert out[0].temperature_c == pytest.approx(14.87) and out[0].cloud_cover_pct == 33


def test_owm_onecall_current_hourly_alerts_and_timemachine():
    oc = owm.parse_onecall(fx("openweathermap/onecall_lat_lon_2023_recorded_on_v2_5.json"), units="standard")
    assert len(oc.current) == 1 and len(oc.hourly) == 48
    assert all(h.issued_at == oc.current[0].ts for h in oc.hourly)
    [alert] = oc.alerts
    assert alert.event == "Air Quality Alert" and alert.onset == dt.datetime.fromtimestamp(1703871060, UTC)
    tm = owm.parse_onecall(fx("openweathermap/onecall_3_0_timemachine_2024.json"), units="standard")
    assert len(tm.current) == 1 and tm.current[0].ts == dt.datetime.fromtimestamp(1589173200, UTC)


def test_owm_error_bodies_are_named_errors():
    with pytest.raises(owm.OpenWeatherMapPayloadError, match="cod=401"):
        owm.parse_current(fx("openweathermap/error_401_invalid_api_key_2020.json"))
    with pytest.raises(owm.OpenWeatherMapPayloadError, match="requested time is out of allowed range"):
        owm.parse_onecall(fx("openweathermap/onecall_timemachine_error_400_2020_recorded_on_v2_5.json"))
    with pytest.raises(owm.OpenWeatherMapPayloadError, match="invalid or truncated JSON"):
        owm.parse_current(fx("openweathermap/error_429_as_quoted_in_issue.txt"))


def test_nws_points_hourly_and_units():
    point = noaa_nws.parse_points(fx("noaa_nws/points_30_-85.json"))
    assert (point.grid_id, point.grid_x, point.grid_y) == ("TAE", 58, 65)
    out = noaa_nws.parse_hourly_forecast(fx("noaa_nws/gridpoints_TAE_58_65_forecast_hourly_2019.json"))
    assert len(out) == 156
    first = out[0]
    assert first.ts == dt.datetime(2019, 10, 15, 0, tzinfo=UTC)  # 20:00-04:00
    assert first.issued_at == dt.datetime(2019, 10, 14, 23, 16, 24, tzinfo=UTC)
    assert first.temperature_c == pytest.approx((78 - 32) * 5 / 9, abs=0.01)
    assert first.wind_direction_deg == 180 and first.cloud_cover_pct == 50  # "S", "Partly Cloudy"


@pytest.mark.parametrize("text,expected", [("10 mph", 4.47), ("5 to 10 mph", 3.353), ("18 km/h", 5.0)])
def test_nws_wind_speed_wording(text, expected):
    assert noaa_nws._wind_speed_ms(text) == pytest.approx(expected, abs=0.01)


def test_nws_alerts_geojson_jsonld_and_empty():
    [zone] = noaa_nws.parse_alerts(fx("noaa_nws/alerts_active_zone.json"))
    assert zone.event == "Flood Watch" and zone.severity == "Severe" and "ORZ006" in zone.zones
    assert zone.onset == dt.datetime(2019, 12, 20, 21, 34, tzinfo=UTC)
    [point] = noaa_nws.parse_alerts(fx("noaa_nws/alerts_active_point_46.9_-116.9_2025-02-08_jsonld.json"))
    assert point.event == "Winter Weather Advisory" and point.ends == dt.datetime(2025, 2, 9, 9, tzinfo=UTC)
    assert noaa_nws.parse_alerts(fx("noaa_nws/alerts_active_point_45.6_-122.6_no_alerts_2025-02-07_jsonld.json")) == []


def test_nws_latest_observation():
    [obs] = noaa_nws.parse_observation(fx("noaa_nws/stations_KFLL_observations_latest.json"))
    assert obs.station == "KFLL" and obs.temperature_c == 22.8 and obs.pressure_hpa == 1018.6
    assert obs.wind_speed_ms == pytest.approx(2.1)


def test_ncei_daily_raw_tenths_and_normals_skipped():
    out = noaa_ncei.parse_daily(fx("noaa_ncei_cdo/cdo_v2_data_GHCND_PRCP_USC00200230_2013-09.json"), units="raw")
    assert len(out) == 28 and out[0].ts == dt.datetime(2013, 9, 3, tzinfo=UTC) and out[0].station == "GHCND:USC00200230"
    assert noaa_ncei.parse_daily(fx("noaa_ncei_cdo/cdo_v2_data_NORMAL_DLY_dly-tmax-normal_2010-05.json"), "raw") == []
    assert noaa_ncei.parse_daily(b"{}") == []


def test_ercot_dam_full_day():
    out = ercot.parse_dam_spp(fx("ercot/dam_spp_np4-190-cd_2017-02-14.csv"))
    assert len(out) == 15000 and len({r.node for r in out}) == 625
    houston = [r for r in out if r.node == "HB_HOUSTON"]
    assert len(houston) == 24 and houston[0].price == 17.75  # " 17.75" with ERCOT's leading space
    assert houston[0].interval_start == dt.datetime(2017, 2, 14, 6, tzinfo=UTC)  # HE 01:00 CST
    assert houston[-1].interval_end == dt.datetime(2017, 2, 15, 6, tzinfo=UTC)  # HE 24:00 ends at midnight
    assert {r.market_type for r in out} == {"DA"} and {r.currency for r in out} == {"USD"}


def test_ercot_rt_posting_types():
    out = ercot.parse_rt_spp(fx("ercot/rt_spp_np6-905-cd_2026-09-29_he12_int1_trimmed_sample.csv"))
    assert len(out) == 28
    assert {r.interval_start for r in out} == {dt.datetime(2026, 9, 29, 16, tzinfo=UTC)}  # HE12 int1, CDT
    by_node = {r.node: r.price for r in out}
    assert by_node["LZ_AEN"] == 21.72 and by_node["LZ_AEN:EW"] == 21.71 and by_node["HB_HOUSTON"] == 29


def test_ercot_archive_listing():
    [doc] = ercot.parse_archive_listing(fx("ercot/public_api_archive_listing_np3-911-er_2024-11-05.json"))
    assert doc.doc_id == 1049861718 and doc.friendly_name == "2_Day_AS_Disclosure"


def test_caiso_all_nodes_day_file():
    out = caiso.parse_oasis_zip(fx("caiso_oasis/SingleZip_PRC_LMP_DAM_ALL_APNODES_20200101.zip"))
    assert len(out) == 162848 // 4  # one LMP row per node and hour; MCE/MCC/MCL dropped
    starts = {r.interval_start for r in out}
    # the recording spans the UTC day 2020-01-02 (OPR_DT 2020-01-01 HE17 .. 2020-01-02 HE16)
    assert len(starts) == 24 and min(starts) == dt.datetime(2020, 1, 2, 0, tzinfo=UTC)
    first = next(r for r in out if r.node == "AFPR_1_TOT_GEN-APND" and r.interval_start.hour == 5)
    assert first.price == pytest.approx(34.04259) and first.interval_end - first.interval_start == dt.timedelta(hours=1)


def test_entsoe_a44_resolutions_and_a03_gap():
    out = entsoe.parse_a44(fx("entsoe/day_ahead_prices_A44_DE-LU_2021-01-01.xml"))
    hourly = sorted((r for r in out if r.node == "DE-LU"), key=lambda r: r.interval_start)
    quarter = [r for r in out if r.node == "DE-LU/PT15M"]
    assert len(hourly) == 48 and len(quarter) == 192
    day2 = [r for r in hourly if r.interval_start >= dt.datetime(2021, 1, 1, 23, tzinfo=UTC)]
    assert len(day2) == 24  # 23 points in the document; position 11 filled (A03)
    assert day2[10].price == day2[9].price and day2[10].interval_start == dt.datetime(2021, 1, 2, 9, tzinfo=UTC)
    assert hourly[0].price == 50.87 and hourly[0].currency == "EUR" and hourly[0].unit == "MWh"


def test_empty_answers_are_empty_payload_errors():
    with pytest.raises(EmptyPayload, match="ercot"):
        ercot.parse_dam_spp(b"DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag\n")
    with pytest.raises(EmptyPayload, match="no forecast steps"):
        owm.parse_forecast(b'{"cod":"200","list":[]}')


def test_ercot_rt_full_posting_every_point_type():
    """A full NP6-905-CD posting: DC ties come as LZ_DC and LZ_DCEW under one name (two series)."""
    out = ercot.parse_rt_spp(fx("ercot/rt_spp_np6-905-cd_2024-03-29_he1_int4_full.csv"))
    assert len(out) == 908 and len({r.node for r in out}) == 908
    # HE1 interval 4 of 03/29/2024 (CDT) is 00:45-01:00 local = 05:45Z
    assert {r.interval_start for r in out} == {dt.datetime(2024, 3, 29, 5, 45, tzinfo=UTC)}
    by_node = {r.node: r.price for r in out}
    assert by_node["DC_E"] == 2.95 and by_node["DC_E:EW"] == 2.95 and by_node["DC_L"] == -9.75
    assert {n for n in by_node if n.startswith("DC_")} == {f"DC_{t}{s}" for t in "ELNR" for s in ("", ":EW")}
    assert by_node["HB_HUBAVG"] == 1.39 and by_node["AMOCO_PUN1"] == 4.1 and by_node["BASTEN_CC1"] == 3.78


def test_ercot_rt_unknown_point_type_is_named():
    header = "DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,SettlementPointPrice,DSTFlag"
    with pytest.raises(ercot.ErcotPayloadError, match="SettlementPointType 'XX' of DC_E"):
        ercot.parse_rt_spp(f"{header}\n03/29/2024,1,4,DC_E,XX,2.95,N\n".encode())


def test_nws_observation_units_from_unitcode():
    """Each quantity is read in its own unitCode: 10 degF is -12.2 degC, 10 km/h is 2.78 m/s."""
    [f] = noaa_nws.parse_observation(fx("noaa_nws/stations_KFLL_observations_alternate_units_degF_kmh.json"))
    assert f.temperature_c == pytest.approx(-12.22, abs=0.01) and f.wind_speed_ms == pytest.approx(2.778, abs=0.001)
    assert f.pressure_hpa == 1000.0 and f.wind_direction_deg == 10 and f.station == "KFLL"
    [si] = noaa_nws.parse_observation(fx("noaa_nws/stations_KFLL_observations_wmounit_m_s-1.json"))
    assert si.temperature_c == 10 and si.wind_speed_ms == 10 and si.pressure_hpa == 1000.0
    # upstream's two-observation case holds an impossible one (-100 degC, 1000 m/s, 77 Pa): refused by name
    with pytest.raises(noaa_nws.NwsPayloadError, match=r"features\[\d\]\.temperature_c: -100\.0 outside the possible"):
        noaa_nws.parse_observation(fx("noaa_nws/stations_KFLL_observations_multiple_unsorted.json"))


def test_nws_observation_refuses_unknown_unit_and_strings():
    raw = fx("noaa_nws/stations_KFLL_observations_latest.json").decode()
    bad_wind = raw.replace('"wmoUnit:km_h-1"', '"wmoUnit:furlong_fortnight-1"', 1)
    with pytest.raises(noaa_nws.NwsPayloadError, match="windSpeed: unknown unitCode 'wmoUnit:furlong_fortnight-1'"):
        noaa_nws.parse_observation(bad_wind.encode())
    wrong_kind = raw.replace('"wmoUnit:degC"', '"wmoUnit:Pa"', 1)
    with pytest.raises(noaa_nws.NwsPayloadError, match="temperature: unitCode 'wmoUnit:Pa' measures pressure"):
        noaa_nws.parse_observation(wrong_kind.encode())
    with pytest.raises(noaa_nws.NwsPayloadError, match=r"properties\.elevation|expected a JSON number, got a string"):
        noaa_nws.parse_observation(fx("noaa_nws/stations_KFLL_observations_values_as_strings.json"))


def test_nws_hourly_forecast_si_units():
    out = noaa_nws.parse_hourly_forecast(fx("noaa_nws/gridpoints_forecast_hourly_si_units.json"))
    assert out[0].temperature_c == 25.5 and out[0].ts == dt.datetime(2019, 10, 15, 0, tzinfo=UTC)


def test_nws_alert_zones_must_be_an_array():
    raw = fx("noaa_nws/alerts_active_zone.json").decode()
    import json

    data = json.loads(raw)
    data["features"][0]["properties"]["affectedZones"] = "https://api.weather.gov/zones/forecast/ORZ006"
    with pytest.raises(noaa_nws.NwsPayloadError, match=r"affectedZones: expected an array of zone URLs, got str"):
        noaa_nws.parse_alerts(json.dumps(data).encode())
    two = noaa_nws.parse_alerts(fx("noaa_nws/alerts_active_zone_second.json"))
    assert len(two) >= 1 and all(z.isalnum() for a in two for z in a.zones)


def test_owm_pro_hourly_forecast_keeps_1h_precipitation():
    """The pro /forecast/hourly answer: 96 one-hour steps; rain.1h is the step's precipitation."""
    for name, first_rain in (("arctic_82.86_135.0", 0.24), ("antarctic_-70.87_-75.11", 1.3)):
        out = owm.parse_forecast(fx(f"openweathermap/forecast_hourly_pro_{name}_2024.json"), units="standard")
        assert len(out) == 96 and {b.ts - a.ts for a, b in zip(out, out[1:], strict=False)} == {dt.timedelta(hours=1)}
        assert out[0].issued_at == out[0].ts - dt.timedelta(hours=1)
        assert next(o.precipitation_mm for o in out if o.precipitation_mm) == first_rain


def test_owm_timemachine_answers_are_observations():
    """A 2.5 timemachine answer (current + the past hours of the asked day) holds no forecast."""
    tm = owm.parse_onecall(fx("openweathermap/onecall_timemachine_2020_recorded_on_v2_5.json"), units="standard")
    assert tm.hourly == [] and len(tm.current) == 24  # current.dt equals one of the 24 hours: one per time
    assert {o.kind for o in tm.current} == {"observation"} and {o.issued_at for o in tm.current} == {None}
    assert tm.current[0].ts == dt.datetime(2020, 5, 11, 0, tzinfo=UTC)
    three = owm.parse_onecall(fx("openweathermap/onecall_3_0_timemachine_2024.json"), units="standard")
    assert [o.kind for o in three.current] == ["observation"] and three.hourly == []


def test_owm_shapes_not_called_are_refused_by_name():
    with pytest.raises(owm.OpenWeatherMapPayloadError, match=r"daily forecast answer \(/forecast/daily or /forecast/climate"):
        owm.parse_forecast(fx("openweathermap/forecast_climate_30day_pro_phoenix_2024.json"))
    import json

    data = json.loads(fx("openweathermap/forecast_5day_3hour_london_2025.json"))
    data["list"][0]["rain"] = {"1h": 0.5}
    with pytest.raises(owm.OpenWeatherMapPayloadError, match=r"rain\.1h: a 1h total in 3h steps"):
        owm.parse_forecast(json.dumps(data).encode())


def test_owm_current_imperial_and_numbers_as_strings():
    [moscow] = owm.parse_current(fx("openweathermap/current_weather_moscow_imperial_2020.json"), units="imperial")
    import json

    data = json.loads(fx("openweathermap/current_weather_moscow_imperial_2020.json"))
    assert moscow.temperature_c == pytest.approx((data["main"]["temp"] - 32) * 5 / 9, abs=0.01)
    data["main"]["temp"] = str(data["main"]["temp"])
    with pytest.raises(owm.OpenWeatherMapPayloadError, match=r"main\.temp: expected a JSON number, got a string"):
        owm.parse_current(json.dumps(data).encode(), units="imperial")
    data["main"]["temp"], data["dt"] = 50.0, True
    with pytest.raises(owm.OpenWeatherMapPayloadError, match=r"dt: expected a Unix timestamp \(JSON number\), got bool"):
        owm.parse_current(json.dumps(data).encode(), units="imperial")


def _caiso_zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _caiso_head(lines: int = 40) -> tuple[str, list[str]]:
    """The header and the first LMP rows of the recorded all-APNodes CSV (real rows, cut short)."""
    import io
    import zipfile

    with zipfile.ZipFile(FX / "caiso_oasis/SingleZip_PRC_LMP_DAM_ALL_APNODES_20200101.zip") as zf:
        name = zf.namelist()[0]
        with zf.open(name) as fh:
            text = io.TextIOWrapper(fh, encoding="utf-8")
            header = text.readline().rstrip("\n")
            rows = []
            while len(rows) < lines:
                line = text.readline().rstrip("\n")
                if ",LMP," in line:
                    rows.append(line)
    return header, rows


def test_caiso_error_code_in_any_member():
    from gateway.errors import ProviderBusy, RequestRejected
    from tests.support.provider_server import oasis_error_xml

    with pytest.raises(RequestRejected, match=r"OASIS error 1002: Invalid date format.*member 20200101_x_v1\.xml"):
        caiso.parse_oasis_zip(_caiso_zip({"20200101_x_v1.xml": oasis_error_xml("1002")}))
    with pytest.raises(ProviderBusy, match="OASIS error 1015"):
        caiso.parse_oasis_zip(_caiso_zip({"PRC_LMP.xml": oasis_error_xml("1015")}))
    with pytest.raises(EmptyPayload, match="OASIS error 1000: No data returned"):
        caiso.parse_oasis_zip(_caiso_zip({"INVALID_REQUEST.xml": oasis_error_xml("1000")}))
    csv_error = b"ERR_CODE,ERR_DESC\n1001,Invalid request\n"
    with pytest.raises(RequestRejected, match="OASIS error 1001: Invalid request"):
        caiso.parse_oasis_zip(_caiso_zip({"PRC_LMP.csv": csv_error}))


@pytest.mark.parametrize("value", ["inf", "-inf", "NaN", "1e400"])
def test_caiso_non_finite_price_is_refused_with_the_line(value):
    header, rows = _caiso_head()
    cols = header.split(",")
    cells = rows[3].split(",")
    cells[cols.index("MW")] = value
    rows[3] = ",".join(cells)
    body = _caiso_zip({"PRC_LMP.csv": ("\n".join([header, *rows]) + "\n").encode()})
    with pytest.raises(caiso.CaisoPayloadError, match=rf"line 5 MW price: '{value}' is not finite"):
        caiso.parse_oasis_zip(body)


def test_caiso_empty_node_and_duplicate_rows():
    header, rows = _caiso_head()
    cols = header.split(",")
    good = caiso.parse_oasis_zip(_caiso_zip({"a.csv": ("\n".join([header, *rows]) + "\n").encode()}))
    assert len(good) == 40
    again = caiso.parse_oasis_zip(_caiso_zip({"a.csv": ("\n".join([header, *rows, rows[0]]) + "\n").encode()}))
    assert again == good  # an exact repeat is dropped (documented rule)
    clash = rows[0].split(",")
    clash[cols.index("MW")] = "99.5"
    with pytest.raises(caiso.CaisoPayloadError, match=r"line 42: .* has two prices for"):
        caiso.parse_oasis_zip(_caiso_zip({"a.csv": ("\n".join([header, *rows, ",".join(clash)]) + "\n").encode()}))
    blank = rows[1].split(",")
    blank[cols.index("NODE")] = ""
    with pytest.raises(caiso.CaisoPayloadError, match="line 3: empty NODE"):
        caiso.parse_oasis_zip(_caiso_zip({"a.csv": ("\n".join([header, rows[0], ",".join(blank)]) + "\n").encode()}))


def _a44_cut_after(points: int) -> bytes:
    """The recorded A44 document with its first hourly period cut after ``points`` points (XML kept well formed)."""
    import re

    text = fx("entsoe/day_ahead_prices_A44_DE-LU_2021-01-01.xml").decode()
    start = text.index("<resolution>PT60M</resolution>")
    end = text.index("</Period>", start)
    period = text[start:end]
    kept = "".join(re.findall(r"\s*<Point>.*?</Point>", period, flags=re.S)[:points])
    return (text[:start] + "<resolution>PT60M</resolution>" + kept + "\n          " + text[end:]).encode()


def test_entsoe_cut_period_is_flagged_not_filled(caplog):
    """A period cut after 4 of 24 points keeps 4 hours and is flagged; it is never filled to a full day."""
    doc = entsoe.parse_a44_document(_a44_cut_after(4))
    day1 = [r for r in doc.records if r.node == "DE-LU" and r.interval_start < dt.datetime(2021, 1, 1, 23, tzinfo=UTC)]
    assert len(day1) == 4
    assert doc.incomplete == ("period 2020-12-31T23:00Z..2021-01-01T23:00Z of DE-LU (A03) ends at position 4 of 24: "
                              "last position missing, positions 5..24 not filled (document cut short?)",)
    with caplog.at_level("WARNING", logger="connectors.markets.entsoe"):
        entsoe.parse_a44(_a44_cut_after(4))
    assert "ends at position 4 of 24" in caplog.text
    assert entsoe.parse_a44_document(fx("entsoe/day_ahead_prices_A44_DE-LU_2021-01-01.xml")).incomplete == ()


@pytest.mark.parametrize("value", ["INF", "1e400", "-Infinity", "NaN"])
def test_entsoe_non_finite_price_is_refused(value):
    text = fx("entsoe/day_ahead_prices_A44_DE-LU_2021-01-01.xml").decode()
    body = text.replace("<price.amount>50.87</price.amount>", f"<price.amount>{value}</price.amount>", 1).encode()
    with pytest.raises(entsoe.EntsoePayloadError, match=rf"price.amount at position 1: '{value}' is not finite"):
        entsoe.parse_a44(body)


def test_entsoe_a01_missing_position_is_refused():
    text = _a44_cut_after(24).decode().replace("<curveType>A03</curveType>", "<curveType>A01</curveType>")
    # the recorded day 2 omits position 11 (legal in A03): as an A01 curve it is a hole
    with pytest.raises(entsoe.EntsoePayloadError, match=r"A01 curve of DE-LU lacks positions \[11\]"):
        entsoe.parse_a44(text.encode())


def test_ncei_strict_values_and_gsom_not_misread():
    import json

    assert noaa_ncei.parse_daily(fx("noaa_ncei_cdo/cdo_v2_data_GSOM_AE000041196_2013-10.json")) == []
    data = json.loads(fx("noaa_ncei_cdo/cdo_v2_data_GHCND_PRCP_USC00200230_2013-09.json"))
    data["results"][2]["value"] = "0"
    with pytest.raises(noaa_ncei.NceiPayloadError, match=r"results\[2\]\.value: expected a JSON number, got a string"):
        noaa_ncei.parse_daily(json.dumps(data).encode(), "raw")
    data["results"][2]["value"] = 1e400  # json.dumps writes Infinity
    with pytest.raises(noaa_ncei.NceiPayloadError, match=r"results\[2\]\.value: non-finite number"):
        noaa_ncei.parse_daily(json.dumps(data).encode(), "raw")
    data["results"][2] = dict(data["results"][3])
    with pytest.raises(noaa_ncei.NceiPayloadError, match=r"results\[3\]: PRCP of GHCND:USC00200230 .* appears twice"):
        noaa_ncei.parse_daily(json.dumps(data).encode(), "raw")


def test_ercot_archive_doc_id_must_be_an_integer():
    import json

    data = json.loads(fx("ercot/public_api_archive_listing_np3-911-er_2024-11-05.json"))
    data["archives"][0]["docId"] = True
    with pytest.raises(ercot.ErcotPayloadError, match=r"archives\[0\]\.docId: expected a JSON integer, got bool"):
        ercot.parse_archive_listing(json.dumps(data).encode())
    data["archives"][0]["docId"] = "1049861718"
    with pytest.raises(ercot.ErcotPayloadError, match=r"docId: expected a JSON integer, got a string"):
        ercot.parse_archive_listing(json.dumps(data).encode())


def test_eex_close_as_string_is_refused():
    """The recorded PEG answer with its close sent as a string (the one byte-level edit of this test)."""
    from connectors.markets import eex

    raw = fx("eex/getDaily_PEG_GND1_2025-10-27.json")
    assert eex.parse_daily(raw, "#E.PEG_GND1")[0].price == 30.198
    body = raw.replace(b'"close":30.198', b'"close":"30.198"')
    with pytest.raises(eex.EexPayloadError, match=r"items\[0\]\.close: expected a JSON number, got a string"):
        eex.parse_daily(body, "#E.PEG_GND1")


@pytest.mark.parametrize("rel,symbol,price,start", [
    # numbers read from the files: "close" and the trade date of "tradedatetimegmt" (noon GMT)
    ("eex/getDaily_PEG_GND1_2025-10-24.json", "#E.PEG_GND1", 30.971, dt.datetime(2025, 10, 23, 22, tzinfo=UTC)),
    ("eex/getDaily_PEG_GND1_2025-10-27.json", "#E.PEG_GND1", 30.198, dt.datetime(2025, 10, 26, 23, tzinfo=UTC)),
    ("eex/getDaily_SEME0_2025-10-27.json", "/E.SEME[0]", 77.52, dt.datetime(2025, 10, 26, 23, tzinfo=UTC)),
])
def test_eex_recorded_getdaily_answers(rel, symbol, price, start):
    """Real getDaily answers (no ``symbol`` field, CRLF, ``ontradeprice`` and volumes beside ``close``)."""
    from connectors.markets import eex

    raw = fx(rel)
    assert b"\r\n" in raw and b'"symbol"' not in raw
    [rec] = eex.parse_daily(raw, symbol)
    assert (rec.node, rec.price, rec.market_type, rec.currency, rec.unit) == (symbol, price, "DA", "EUR", "MWh")
    assert rec.interval_start == start and rec.interval_end - rec.interval_start == dt.timedelta(hours=24)
    with pytest.raises(eex.EexPayloadError, match="item without symbol"):
        eex.parse_daily(raw)  # nothing names the price: neither the answer nor the caller


def test_caiso_real_oasis_xml_report_of_another_kind_is_refused():
    """The real ENE_LOSS DAM answer (OASISReport XML, 24 REPORT_DATA over the 2013 spring DST change)."""
    xml = fx("caiso_oasis/20130309_20130311_ENE_LOSS_DAM_20190803_22_07_54_v1.xml")
    assert xml.count(b"<REPORT_DATA>") == 24 and xml.count(b"<OPR_DATE>2013-03-10</OPR_DATE>") == 23
    with pytest.raises(caiso.CaisoPayloadError, match=r"XML report ENE_LOSS \(DAM\) is not an LMP report"):
        caiso.parse_oasis_zip(_caiso_zip({"20130309_20130311_ENE_LOSS_DAM_20190803_22_07_54_v1.xml": xml}))


@pytest.mark.parametrize("parse,body,message", [
    (noaa_nws.parse_alerts, b'{"features": 5}', "alerts: 'features' is not an array (got int)"),
    (noaa_nws.parse_observation, b'{"properties": {"timestamp": "2022-03-02T05:53:00+00:00", "temperature": "22.8"}}',
     "properties.temperature: expected a QuantitativeValue object, got str"),
    (owm.parse_current, b'{"dt": 1588048665, "main": "warm"}', "main: expected an object, got str"),
    (ercot.parse_rt_spp, b"DeliveryDate,DeliveryHour,DeliveryInterval,SettlementPointName,SettlementPointType,"
                         b"SettlementPointPrice,DSTFlag\n03/29/2024,x,4,HB_HOUSTON,HU,4.03,N\n",
     "line 2: DeliveryHour 'x' is not a whole number in 1..24"),
    (ercot.parse_dam_spp, b"DeliveryDate,HourEnding,SettlementPoint,SettlementPointPrice,DSTFlag\n"
                          b"02/30/2017,01:00,HB_HOUSTON,17.75,N\n", "line 2: DeliveryDate '02/30/2017' is not MM/DD/YYYY"),
])
def test_generic_errors_become_named_field_errors(parse, body, message):
    """Formerly 'AttributeError: 'str' object has no attribute 'get'' and the like: now the field is named."""
    from gateway.errors import BadPayload

    with pytest.raises(BadPayload) as info:
        parse(body)
    assert message in str(info.value) and "Error:" not in str(info.value)


def test_owm_day_summary_shape_is_refused_by_name():
    # the documented One Call 3.0 /onecall/day_summary shape (https://openweathermap.org/api/one-call-3)
    body = (b'{"lat":33,"lon":35,"tz":"+02:00","date":"2020-03-04","units":"standard",'
            b'"cloud_cover":{"afternoon":0},"humidity":{"afternoon":33},"precipitation":{"total":0},'
            b'"temperature":{"min":286.48,"max":299.24,"afternoon":296.15,"night":289.56,"evening":295.93,'
            b'"morning":287.59},"pressure":{"afternoon":1015},"wind":{"max":{"speed":8.7,"direction":120}}}')
    with pytest.raises(owm.OpenWeatherMapPayloadError, match="/onecall/day_summary answer"):
        owm.parse_onecall(body)


@pytest.mark.parametrize("text", ["10 knots", "10", "5 to 10 furlongs"])
def test_nws_wind_speed_wording_with_unknown_unit_is_refused(text):
    from connectors.errors import FieldError

    with pytest.raises(FieldError, match="windSpeed: unknown unit"):
        noaa_nws._wind_speed_ms(text)


def test_entsoe_same_slot_in_two_series():
    text = fx("entsoe/day_ahead_prices_A44_DE-LU_2021-01-01.xml").decode()
    first = text[text.index("<TimeSeries>"):text.index("</TimeSeries>") + len("</TimeSeries>")]
    twice = text.replace(first, first + first, 1)
    assert entsoe.parse_a44(twice.encode()) == entsoe.parse_a44(text.encode())  # a repeated series adds nothing
    changed = first.replace("<price.amount>", "<price.amount>1", 1)
    with pytest.raises(entsoe.EntsoePayloadError, match=r"has two prices .* in two TimeSeries"):
        entsoe.parse_a44(text.replace(first, first + changed, 1).encode())


def test_ercot_dam_2026_posting():
    out = ercot.parse_dam_spp(fx("ercot/dam_spp_np4-190-cd_2026-09-29_he1-2_trimmed_sample.csv"))
    assert len(out) == 40 and {r.interval_start for r in out} == {dt.datetime(2026, 9, 29, 5, tzinfo=UTC),
                                                                   dt.datetime(2026, 9, 29, 6, tzinfo=UTC)}  # CDT
    assert next(r.price for r in out if r.node == "HB_HOUSTON") == 27.36


def test_nws_observation_jsonld_form_with_wkt_geometry():
    [obs] = noaa_nws.parse_observation(fx("noaa_nws/stations_KSUA_observations_latest_jsonld_2021-11-07.json"))
    assert obs.station == "KSUA" and (obs.longitude, obs.latitude) == (-80.22, 27.18)
    assert obs.ts == dt.datetime(2021, 11, 7, 18, 50, tzinfo=UTC) and obs.temperature_c == 21
    assert obs.wind_speed_ms == pytest.approx(6.2) and obs.pressure_hpa == 1015.2 and obs.wind_direction_deg == 340


def test_impossible_values_are_refused_by_name():
    """Kelvin read as metric (282 degC) is a units error, not weather: refused with the field named."""
    with pytest.raises(owm.OpenWeatherMapPayloadError, match=r"temperature_c: 282\.08 outside the possible range"):
        owm.parse_current(fx("openweathermap/current_weather_lat_lon_2020.json"), units="metric")
    from connectors.errors import FieldError
    from connectors.records import PriceRecord

    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(FieldError, match="node: empty"):
        PriceRecord("CAISO", "", "DA", start, start + dt.timedelta(hours=1), 1.0, "USD")
    with pytest.raises(FieldError, match="is empty, reversed"):
        PriceRecord("CAISO", "N", "DA", start, start, 1.0, "USD")


def test_ncei_value_failing_quality_check_is_not_used():
    import json

    data = json.loads(fx("noaa_ncei_cdo/cdo_v2_data_GHCND_PRCP_USC00200230_2013-09.json"))
    day = data["results"][4]["date"][:10]
    data["results"][4]["attributes"] = ",X,7,1800"  # QFLAG X: failed bounds check
    out = noaa_ncei.parse_daily(json.dumps(data).encode(), "raw")
    assert len(out) == 27 and day not in {o.ts.date().isoformat() for o in out}
