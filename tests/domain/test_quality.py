"""Per-asset per-day data quality from stored rollup rows: gaps, stuck values, out-of-range readings
(La Haute Borne's -273.2 degC), and the exclusion of the bad intervals from the KPIs."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from data.models import Asset
from data.performance_queries import performance_for
from live.physics import wind_expected_fraction
from tests.support.fleet import WIND_ASSETS, make_small_fleet
from tests.support.performance_rows import DAY, Q, rollup

HOURS = [DAY + dt.timedelta(hours=8) + i * Q for i in range(48)]  # 08:00-19:45: half the day


@pytest.fixture()
def wind(db):
    make_small_fleet(db)
    return db


def _report(db):
    with db.read_session() as s:
        return performance_for(s, ["t-wind"], DAY, DAY + dt.timedelta(days=1), "1d")[1]


def _store(db, *, stuck_power: bool = False, stuck_wind: bool = False, frozen_temp: float | None = None) -> None:
    with db.session() as s:
        for aid in WIND_ASSETS:
            for i, t in enumerate(HOURS):
                first = aid == WIND_ASSETS[0] and i < 6
                wind = 7.3 if stuck_wind and first else 8.0 + 0.1 * (i % 3)
                s.add(rollup(aid, "wind_speed_ms", t, wind, count=10, spread=0.0 if stuck_wind and first else 0.4))
                s.add(rollup(aid, "temperature_c", t, 10.0 + 0.1 * (i % 2), count=10))
                kw = 1000.0 if stuck_power and first else 900.0 + i
                s.add(rollup(aid, "power_kw", t, kw, energy=kw / 4, count=10,
                             spread=0.0 if stuck_power and first else 15.0))
        if frozen_temp is not None:  # the -273.2 degC of La Haute Borne's sensor, as a stored row
            s.add(rollup(WIND_ASSETS[1], "temperature_c", DAY + dt.timedelta(hours=20), frozen_temp, count=10,
                         spread=0.0))


def test_gaps_give_the_share_of_the_day_without_data(wind):
    _store(wind)
    quality = _report(wind).quality
    rows = {r["asset_id"]: r for r in quality.iter_rows(named=True)}
    for aid in WIND_ASSETS:
        assert rows[aid]["intervals"] == 96 and rows[aid]["gaps"] == 48
        assert rows[aid]["score"] == 50.0


def test_stuck_power_is_excluded_from_the_kpis(wind):
    _store(wind, stuck_power=True)
    report = _report(wind)
    row = report.quality.filter(report.quality["asset_id"] == WIND_ASSETS[0]).row(0, named=True)
    assert row["stuck"] == 6 and row["score"] == pytest.approx(100 * (96 - 48 - 6) / 96, abs=0.05)
    kpis = report.kpis
    assert kpis["actual_energy_mwh"].excluded == 6
    # by hand: everything but the 6 frozen intervals of WTG-01
    actual = sum((900.0 + i) / 4 for i in range(48)) * 2 - sum((900.0 + i) / 4 for i in range(6))
    assert kpis["actual_energy_mwh"].value == pytest.approx(actual / 1000)
    assert "excluded (out-of-range or stuck readings)" in kpis["actual_energy_mwh"].coverage_text


def test_power_flat_at_capacity_is_clipping_not_stuck(wind):
    with wind.session() as s:
        s.execute(update(Asset).where(Asset.id == WIND_ASSETS[0]).values(capacity_kw=1000.0))
    _store(wind, stuck_power=True)
    report = _report(wind)
    assert int(report.quality["stuck"].sum()) == 0
    assert report.kpis["actual_energy_mwh"].excluded == 0


def test_a_stuck_anemometer_falls_back_to_the_site_wind(wind):
    _store(wind, stuck_wind=True)
    report = _report(wind)
    row = report.quality.filter(report.quality["asset_id"] == WIND_ASSETS[0]).row(0, named=True)
    assert row["stuck"] == 6
    # the 6 frozen readings are not used: WTG-01 is expected from the site's other (good) anemometer there
    speeds_1 = [8.0 + 0.1 * (i % 3) for i in range(48)]
    rho = 101325.0 / (287.05 * (273.15 + 10.05))
    temps = [10.0 + 0.1 * (i % 2) for i in range(48)]
    expected = 0.0
    for i, v in enumerate(speeds_1):
        density = 101325.0 / (287.05 * (273.15 + temps[i]))
        expected += 2 * wind_expected_fraction(v, density) * 2000.0 * 0.25
    assert rho > 1.2
    assert report.kpis["expected_energy_mwh"].value == pytest.approx(expected / 1000)


def test_out_of_range_temperature_is_counted_and_not_used(wind):
    _store(wind, frozen_temp=-273.2)
    report = _report(wind)
    row = report.quality.filter(report.quality["asset_id"] == WIND_ASSETS[1]).row(0, named=True)
    assert row["out_of_range"] == 1
    # the -273.2 degC interval (20:00) has no power row: a bad reading, not a gap
    assert row["gaps"] == 47 and row["score"] == pytest.approx(100 * (96 - 47 - 1) / 96, abs=0.05)
    # the air density never sees it: every expected interval is at a sane temperature
    assert report.kpis["expected_energy_mwh"].value is not None
