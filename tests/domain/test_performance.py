"""Period KPIs computed BY HAND from the stored 15-min rollup rows, against domain.performance.

Rollup rows are written to the store as the ingest writes them (count, sum, min, max, energy_kwh),
read back with plain SELECTs, and every KPI is recomputed here in plain Python with the scalar
expectation rules the live hub uses (domain.expected, live.physics): energy, expected energy,
actual / expected, PR (plain and temperature-corrected), capacity factor, specific yield, the
three availabilities and the three losses; then the bad inputs: no data, zero capacity, negative
night power, sensor faults (-273 degC, 5,000 W/m2), a turbine without a reference curve.
"""
from __future__ import annotations

import datetime as dt
import math

import pvlib
import pytest
from sqlalchemy import select, update

from data.models import Asset, TelemetryRollup
from data.performance_queries import performance_for
from domain.expected import air_density, pv_expected_kw, pv_geometry
from live.physics import PV_GAMMA_PDC, poa_from_ghi, wind_expected_fraction
from tests.support.fleet import SOLAR_ASSETS, WIND_ASSETS, make_small_fleet
from tests.support.performance_rows import DAY, ENERGY, NIGHT, NOON, Q
from tests.support.performance_rows import rollup as _rollup
from tests.support.performance_rows import store_solar_day as _store_solar_day


@pytest.fixture()
def fleet(db):
    make_small_fleet(db)
    return db


def _stored(db, metric: str) -> dict[tuple[str, dt.datetime], TelemetryRollup]:
    with db.read_session() as s:
        rows = s.execute(select(TelemetryRollup).where(TelemetryRollup.metric == metric)).scalars().all()
        s.expunge_all()
    return {(r.asset_id, r.bucket_start): r for r in rows}


def _report(db, site_ids, start=DAY, end=DAY + dt.timedelta(days=1), resolution="1d"):
    with db.read_session() as s:
        return performance_for(s, site_ids, start, end, resolution)[1]


def test_solar_kpis_equal_the_hand_computation(fleet):
    _store_solar_day(fleet)
    power, ghi, temp = _stored(fleet, "power_kw"), _stored(fleet, "irradiance_wm2"), _stored(fleet, "temperature_c")
    geometry = pv_geometry(30.2, -97.7, {})
    dc_per_inverter = geometry.dc_ac_ratio * 1000.0
    actual = expected = ref = ref_t = down = curtail = under = 0.0
    states = []
    for aid in SOLAR_ASSETS:
        for t in NOON + NIGHT:
            g = ghi[("t-sol-MTR", t)].sum / ghi[("t-sol-MTR", t)].count
            air = temp[("t-sol-MTR", t)].sum / temp[("t-sol-MTR", t)].count
            mid = (t + Q / 2).timestamp()
            e_exp = pv_expected_kw(g, air, 1000.0, geometry, mid) * 0.25
            e_act = max(power[(aid, t)].energy_kwh, 0.0)
            poa = poa_from_ghi(g, mid, geometry.latitude, geometry.longitude, geometry.tilt, geometry.azimuth)
            cell = float(pvlib.temperature.sapm_cell(poa, air, 1.0, -3.56, -0.075, 3))
            ref += dc_per_inverter * poa / 1000.0 * 0.25
            ref_t += dc_per_inverter * poa / 1000.0 * 0.25 * (1 + PV_GAMMA_PDC * (cell - 25.0))
            actual += e_act
            expected += e_exp
            if aid == SOLAR_ASSETS[2] and t == NOON[2]:
                curtail += e_exp - e_act
                states.append("curtailed")
            elif e_exp <= 0.01 * 1000 * 0.25:
                under += e_exp - e_act
                states.append("no resource")
            elif e_act / 0.25 > 10.0:
                under += e_exp - e_act
                states.append("running")
            else:
                down += e_exp - e_act
                states.append("down")
    assert states.count("down") == 1 and states.count("no resource") == 12 and states.count("running") == 10
    kpis = _report(fleet, ["t-sol"]).kpis
    values = {k: r.value for k, r in kpis.items()}
    assert values["actual_energy_mwh"] == pytest.approx(actual / 1000)
    assert values["expected_energy_mwh"] == pytest.approx(expected / 1000)
    assert values["performance_index_pct"] == pytest.approx(100 * actual / expected)
    assert values["performance_ratio_pct"] == pytest.approx(100 * actual / ref)
    assert values["performance_ratio_temp_pct"] == pytest.approx(100 * actual / ref_t)
    assert values["capacity_factor_pct"] == pytest.approx(100 * actual / (24 * 1000 * 0.25))
    assert values["specific_yield_kwh_kw"] == pytest.approx(actual / (3 * dc_per_inverter))
    assert values["availability_time_technical_pct"] == pytest.approx(100 * 23 / 24)
    assert values["availability_time_operational_pct"] == pytest.approx(100 * 22 / 24)
    assert values["availability_energy_pct"] == pytest.approx(100 * actual / (actual + down))
    assert values["loss_downtime_mwh"] == pytest.approx(down / 1000)
    assert values["loss_curtailment_mwh"] == pytest.approx(curtail / 1000)
    assert values["loss_underperformance_mwh"] == pytest.approx(under / 1000)
    # every value stands on 24 of the day's 3 x 96 asset-intervals, and says so
    assert kpis["performance_ratio_pct"].intervals == 24 and kpis["performance_ratio_pct"].of_intervals == 288
    assert kpis["performance_ratio_pct"].coverage_text == "on 8 % of 288 intervals"
    assert 0 < values["performance_ratio_temp_pct"] and math.isfinite(values["performance_ratio_pct"])


def test_series_and_waterfall_add_up(fleet):
    _store_solar_day(fleet)
    report = _report(fleet, ["t-sol"], resolution="15min")
    kpis = report.values()
    steps = dict(report.waterfall)
    assert steps["Expected"] == pytest.approx(1000 * kpis["expected_energy_mwh"])
    assert steps["Actual"] == pytest.approx(1000 * kpis["actual_energy_mwh"])  # night energy is 0: like with like
    assert sum(v for k, v in report.waterfall if k != "Actual") == pytest.approx(steps["Actual"])
    assert report.series.height == 96
    assert report.series["expected_kwh"].sum() == pytest.approx(steps["Expected"])
    daily = _report(fleet, ["t-sol"], resolution="1d").series
    assert daily.height == 1 and daily["valid_intervals"][0] == 24 and daily["intervals"][0] == 288
    monthly = _report(fleet, ["t-sol"], resolution="1mo").series
    assert monthly["actual_kwh"][0] == pytest.approx(steps["Actual"])


def _store_wind(db, speeds: dict[str, float], temp_c: float = 10.0) -> None:
    with db.session() as s:
        for aid in WIND_ASSETS:
            for i, t in enumerate(NOON):
                s.add(_rollup(aid, "wind_speed_ms", t, speeds[aid], spread=0.5))
                s.add(_rollup(aid, "temperature_c", t, temp_c))
                e = 0.0 if (aid == WIND_ASSETS[1] and i == 0) else 150.0
                s.add(_rollup(aid, "power_kw", t, e * 4, energy=e, spread=10.0))


def test_wind_expected_uses_each_turbines_curve_at_the_air_density(fleet):
    table = {"ws": [3.0, 5.0, 8.0, 12.0], "kw": [0.0, 300.0, 1000.0, 2000.0]}
    with fleet.session() as s:
        s.execute(update(Asset).where(Asset.id == WIND_ASSETS[0]).values(attributes={"power_curve": table}))
    _store_wind(fleet, {WIND_ASSETS[0]: 8.0, WIND_ASSETS[1]: 9.0})
    rho = 101325.0 / (287.05 * (10.0 + 273.15))
    v_norm = 8.0 * (rho / 1.225) ** (1 / 3)
    declared = 1000.0 + (v_norm - 8.0) / 4.0 * 1000.0  # linear between 8 and 12 m/s
    generic = wind_expected_fraction(9.0, float(air_density(10.0))) * 2000.0
    assert float(air_density(10.0)) == pytest.approx(rho)
    expected = 4 * 0.25 * (declared + generic)
    actual = 7 * 150.0
    down = 0.25 * generic  # WTG-02's first interval
    kpis = _report(fleet, ["t-wind"]).values()
    assert kpis["expected_energy_mwh"] == pytest.approx(expected / 1000)
    assert kpis["performance_index_pct"] == pytest.approx(100 * actual / expected)
    assert kpis["loss_downtime_mwh"] == pytest.approx(down / 1000)
    assert kpis["availability_time_technical_pct"] == pytest.approx(100 * 7 / 8)
    assert kpis["capacity_factor_pct"] == pytest.approx(100 * actual / (8 * 2000 * 0.25))
    assert kpis["performance_ratio_pct"] is None


def test_no_data_is_a_dash_with_its_reason(fleet):
    kpis = _report(fleet, ["t-sol", "t-wind"]).kpis
    for key, result in kpis.items():
        assert result.value is None, key
        assert result.text.startswith("—"), key
    assert kpis["actual_energy_mwh"].reason == "no data in the period"
    assert kpis["performance_ratio_pct"].reason == "no data in the period"
    assert kpis["actual_energy_mwh"].coverage_text == "on 0 % of 480 intervals"
    empty = _report(fleet, ["t-sol"], start=DAY, end=DAY)  # an empty period
    assert all(r.value is None for r in empty.kpis.values())
    assert empty.kpis["capacity_factor_pct"].coverage_text == "no intervals in the period"


def test_turbines_without_a_reference_curve(fleet):
    with fleet.session() as s:
        s.execute(update(Asset).where(Asset.site_id == "t-wind").values(attributes={"power_curve": None}))
    _store_wind(fleet, {WIND_ASSETS[0]: 8.0, WIND_ASSETS[1]: 9.0})
    kpis = _report(fleet, ["t-wind"]).kpis
    assert kpis["expected_energy_mwh"].text == "— (no reference power curve)"
    assert kpis["performance_index_pct"].value is None
    assert kpis["availability_time_technical_pct"].reason == "no reference power curve"
    assert kpis["actual_energy_mwh"].value == pytest.approx(7 * 150.0 / 1000)  # the energy is still measured


def test_zero_capacity(fleet):
    with fleet.session() as s:
        s.execute(update(Asset).where(Asset.site_id == "t-sol").values(capacity_kw=0.0))
    _store_solar_day(fleet)
    kpis = _report(fleet, ["t-sol"]).kpis
    assert kpis["capacity_factor_pct"].text == "— (zero capacity)"
    assert kpis["specific_yield_kwh_kw"].text == "— (zero capacity)"
    assert kpis["performance_ratio_pct"].text == "— (zero DC capacity)"
    assert kpis["performance_index_pct"].value is None
    for result in kpis.values():
        assert result.value is None or math.isfinite(result.value)


def test_sensor_faults_are_excluded_and_counted(fleet):
    _store_solar_day(fleet)
    with fleet.session() as s:  # a -273.2 degC reading and a 5,000 W/m2 spike (as stored rows, bypassing ingest)
        s.execute(update(TelemetryRollup).where(TelemetryRollup.metric == "irradiance_wm2",
                                                TelemetryRollup.bucket_start == NOON[0]).values(max=5000.0))
        s.execute(update(TelemetryRollup).where(TelemetryRollup.metric == "temperature_c",
                                                TelemetryRollup.bucket_start == NOON[1]).values(min=-273.2))
    clean = _report(fleet, ["t-sol"]).kpis
    # the bad irradiance removes the only GHI of NOON[0]: those 3 intervals are excluded; the bad temperature
    # falls back to 20 degC in PVWatts (a missing air temperature) and leaves the interval in
    assert clean["performance_ratio_pct"].intervals == 21
    assert clean["performance_ratio_pct"].excluded == 3
    assert clean["performance_ratio_pct"].coverage_text == "on 7 % of 288 intervals, 1 % excluded (out-of-range or stuck readings)"
    assert clean["actual_energy_mwh"].value == pytest.approx(sum(sum(v) for v in ENERGY.values()) / 1000
                                                             - sum(v[0] for v in ENERGY.values()) / 1000)


def test_hourly_points_stand_for_their_hour(fleet):
    """The hourly back-fill: each hour's energy sits in the bucket of its start; the expectation covers the same hour."""
    hours = [DAY + dt.timedelta(hours=h) for h in (10, 11, 12)]
    with fleet.session() as s:
        for aid in WIND_ASSETS:
            for t in hours:
                s.add(_rollup(aid, "wind_speed_ms", t, 9.0, count=1, spread=0.0))
                s.add(_rollup(aid, "power_kw", t, 700.0, energy=0.0 if t == hours[-1] else 700.0, count=1, spread=0.0))
    per_interval = wind_expected_fraction(9.0) * 2000.0 * 0.25  # no temperature: the reference density
    report = _report(fleet, ["t-wind"])
    kpis = report.kpis
    # 10:00 and 11:00 stand for 4 intervals each (the next point is 1 h later), 12:00 for one
    assert kpis["expected_energy_mwh"].value == pytest.approx(2 * (4 + 4 + 1) * per_interval / 1000)
    assert kpis["actual_energy_mwh"].value == pytest.approx(2 * 2 * 700.0 / 1000)
    assert kpis["expected_energy_mwh"].intervals == 2 * 9
    assert kpis["capacity_factor_pct"].value == pytest.approx(100 * 2800 / (2 * 9 * 2000 * 0.25))
    assert kpis["availability_time_technical_pct"].value == pytest.approx(100 * 8 / 9)  # 12:00 produced nothing


def test_losses_valued_at_the_sites_market_price(fleet):
    from data.models import MarketPrice

    _store_solar_day(fleet)
    hour = NOON[0]
    with fleet.session() as s:  # day-ahead 50 USD/MWh over the hour, a real-time 200 over 17:15-17:30
        s.add(MarketPrice(market="ERCOT", node="HB_SOUTH", market_type="DA", interval_start=hour,
                          interval_end=hour + dt.timedelta(hours=1), price=50.0, currency="USD"))
        s.add(MarketPrice(market="ERCOT", node="HB_SOUTH", market_type="RT", interval_start=NOON[1],
                          interval_end=NOON[2], price=200.0, currency="USD"))
    ghi, temp = _stored(fleet, "irradiance_wm2"), _stored(fleet, "temperature_c")
    geometry = pv_geometry(30.2, -97.7, {})
    by_category = {"downtime": 0.0, "curtailment": 0.0, "underperformance": 0.0}
    for aid in SOLAR_ASSETS:
        for i, t in enumerate(NOON):
            g = ghi[("t-sol-MTR", t)].sum / 15
            e_exp = pv_expected_kw(g, temp[("t-sol-MTR", t)].sum / 15, 1000.0, geometry, (t + Q / 2).timestamp()) * 0.25
            lost_mwh = (e_exp - ENERGY[aid][i]) / 1000
            price = 200.0 if t == NOON[1] else 50.0
            category = ("curtailment" if aid == SOLAR_ASSETS[2] and i == 2 else
                        "downtime" if aid == SOLAR_ASSETS[1] and i == 3 else "underperformance")
            by_category[category] += lost_mwh * price
    valued = _report(fleet, ["t-sol"]).valued_losses
    assert valued["values"]["USD"] == pytest.approx({k: round(v, 2) for k, v in by_category.items()}, abs=0.01)
    assert valued["priced_share"] == pytest.approx(1.0)  # the night intervals lose nothing
