"""Live state arithmetic and the physical expectation models."""
from __future__ import annotations

import datetime as dt

from live.physics import pv_expected_fraction, wind_expected_fraction
from live.state import LiveState, fleet_totals, to_ms
from tests.support.fleet import SOLAR_ASSETS, WIND_ASSETS, make_small_fleet

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def test_pv_model_follows_irradiance_and_temperature():
    assert pv_expected_fraction(0.0, 20.0) == 0.0
    assert pv_expected_fraction(None, 20.0) is None
    mid, hot = pv_expected_fraction(800.0, 10.0), pv_expected_fraction(800.0, 40.0)
    assert 0.6 < mid < 0.85 and hot < mid  # hotter cells produce less
    assert pv_expected_fraction(1400.0, 0.0) == 1.0  # clipped at AC capacity


def test_wind_curve_has_cut_in_rated_and_cut_out():
    assert wind_expected_fraction(2.5) == 0.0
    assert 0.0 < wind_expected_fraction(7.0) < 0.5
    assert wind_expected_fraction(15.0) == 1.0
    assert wind_expected_fraction(26.0) == 0.0


def test_apply_and_figures(db):
    make_small_fleet(db)
    state = LiveState()
    with db.session() as session:
        state.load(session, NOW)
    t0, t1 = NOW - dt.timedelta(minutes=1), NOW
    rows = [(a, "power_kw", t0, 500.0) for a in SOLAR_ASSETS] + [(a, "power_kw", t1, 600.0) for a in SOLAR_ASSETS]
    rows += [("t-sol-INV-01", "irradiance_wm2", t1, 800.0), ("t-sol-INV-01", "temperature_c", t1, 25.0)]
    rows += [(WIND_ASSETS[0], "power_kw", t1, 1000.0), (WIND_ASSETS[0], "wind_speed_ms", t1, 15.0)]
    rows += [("t-sol-MTR", "power_kw", t1, 1800.0)]  # the meter must not double count
    touched, unknown = state.apply(rows)
    assert touched == {"t-sol", "t-wind"} and not unknown
    figures = state.site_figures(None, to_ms(NOW))
    sol, wind = figures["t-sol"], figures["t-wind"]
    assert sol["o"] == 1.8 and sol["st"] == "producing" and sol["t"] == to_ms(t1)
    assert abs(sol["cf"] - 0.6) < 1e-9
    assert abs(sol["en"] - 3 * 0.5 / 60) < 1e-9  # 500 kW for one minute on three inverters, in MWh
    assert 3.0 * 0.6 < sol["e"] < 3.0 * 0.85
    assert wind["o"] == 1.0 and wind["e"] == 4.0  # rated wind; a turbine without its own speed uses the site mean
    late = state.apply([(SOLAR_ASSETS[0], "power_kw", t0, 1.0)])[0]  # older than the latest: ignored
    assert late == set() and state.site_figures(["t-sol"], to_ms(NOW))["t-sol"]["o"] == 1.8
    stale = state.site_figures(None, to_ms(NOW + dt.timedelta(minutes=20)))
    assert stale["t-sol"]["st"] == "stale" and stale["t-sol"]["o"] is None
    fleet = fleet_totals(figures, state.sites)
    assert fleet["o"] == 2.8 and fleet["rep"] == 2 and fleet["cap"] == 7.0


def test_substation_reports_its_flow_without_adding_to_fleet_output(db):
    from data.models import Asset, AssetKind, Site, SiteKind

    make_small_fleet(db)
    with db.session() as s:
        s.add(Site(id="t-sub", portfolio_id="test", name="Test Substation", kind=SiteKind.substation,
                   latitude=30.3, longitude=-97.8, capacity_mw=10.0, market="ERCOT"))
        s.flush()
        s.add(Asset(id="t-sub-TX1", site_id="t-sub", name="TX1", kind=AssetKind.transformer, capacity_kw=10000.0))
    state = LiveState()
    with db.session() as session:
        state.load(session, NOW)
    state.apply([(SOLAR_ASSETS[0], "power_kw", NOW, 900.0), ("t-sub-TX1", "power_kw", NOW, 900.0)])
    figures = state.site_figures(None, to_ms(NOW))
    assert figures["t-sub"]["o"] == 0.9 and figures["t-sub"]["st"] == "producing"
    totals = fleet_totals(figures, state.sites)
    assert totals["o"] == 0.9  # the substation's flow is not counted twice
    assert totals["rep"] == 2
