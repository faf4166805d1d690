"""Live state arithmetic and the physical expectation models."""
from __future__ import annotations

import datetime as dt

from domain.expected import pv_expected_kw, pv_geometry
from domain.kpis import scope_kpis
from live.physics import poa_from_ghi, pv_expected_fraction, wind_expected_fraction
from live.state import LiveState, to_ms
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
    assert sol.output_mw == 1.8 and sol.status == "producing" and sol.last_ts_ms == to_ms(t1)
    assert abs(sol.capacity_factor - 0.6) < 1e-9
    # trapezoid: (500 + 600) / 2 kW for one minute on three inverters, in MWh
    assert abs(sol.energy_today_mwh - 3 * 550 / 60 / 1000) < 1e-12
    # the sensor's GHI is transposed to the plane of the modules before the PV model
    geometry = pv_geometry(30.2, -97.7, None)
    assert sol.expected_mw == pv_expected_kw(800.0, 25.0, 3000.0, geometry, NOW.timestamp()) / 1000.0
    assert poa_from_ghi(800.0, NOW.timestamp(), 30.2, -97.7, geometry.tilt, geometry.azimuth) != 800.0
    assert wind.output_mw == 1.0 and wind.expected_mw == 4.0  # rated wind; a turbine without its own speed uses the site mean
    late = state.apply([(SOLAR_ASSETS[0], "power_kw", t0, 1.0)])[0]  # older than the latest: ignored
    assert late == set() and state.site_figures(["t-sol"], to_ms(NOW))["t-sol"].output_mw == 1.8
    stale = state.site_figures(None, to_ms(NOW + dt.timedelta(minutes=20)))
    assert stale["t-sol"].status == "stale" and stale["t-sol"].output_mw is None
    fleet = scope_kpis(figures.values(), "fleet", None, {})
    assert fleet.output_mw == 2.8 and fleet.sites_reporting == 2 and fleet.capacity_mw == 7.0


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
    assert figures["t-sub"].output_mw == 0.9 and figures["t-sub"].status == "producing"
    totals = scope_kpis(figures.values(), "fleet", None, {})
    assert totals.output_mw == 0.9  # the substation's flow is not counted twice
    assert totals.sites_reporting == 2 and totals.capacity_mw == 7.0
    market = scope_kpis(figures.values(), "market", "ERCOT", {("ERCOT", ""): (50.0, "USD"), ("ERCOT", "HB_SOUTH"): (40.0, "USD")})
    assert market.output_mw == 0.9 and market.revenue_rate == {"USD": 0.9 * 40.0}  # the substation sells nothing
    site = scope_kpis(figures.values(), "site", "t-sub", {})
    assert site.output_mw == 0.9 and not site.generating and site.revenue_rate == {}
