"""Plausibility of the output models: PV dark at night and within capacity, wind on the power curve,
storage SoC within bounds, meters and substations summing, every point inside the ingest ranges."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from demo import pvmodel
from demo.dispatch import dispatch
from demo.fleet import build_fleet
from demo.profiles import FleetModel, _sample, _year_start_s, map_to_window
from demo.series import DemoData
from ingest.metrics import range_for

START = int(dt.datetime(2026, 6, 20, tzinfo=dt.UTC).timestamp())
TIMES = np.arange(START, START + 2 * 86400, 900, dtype=np.int64)  # two summer days, 15-min
WINTER = np.arange(START - 180 * 86400, START - 179 * 86400, 900, dtype=np.int64)


@pytest.fixture(scope="module")
def model(demo_data: DemoData) -> FleetModel:
    plan = build_fleet(400)
    return FleetModel(plan.sites, plan.assets, demo_data)


@pytest.fixture(scope="module")
def evaluation(model: FleetModel):
    return model.evaluate(TIMES)


def _rows(model: FleetModel, key: str, kind: str) -> np.ndarray:
    sites = np.flatnonzero(model.site_key == key)
    return np.flatnonzero(np.isin(model.asset_site, sites) & (model.asset_kind == kind))


def test_map_to_window_keeps_time_of_year_and_day() -> None:
    t = np.array([int(dt.datetime(2027, 3, 5, 13, 20, tzinfo=dt.UTC).timestamp())])
    src = map_to_window(t, _year_start_s(2014), 2, day_offset=0, year=1)
    assert dt.datetime.fromtimestamp(int(src[0]), dt.UTC) == dt.datetime(2015, 3, 5, 13, 20, tzinfo=dt.UTC)
    src = map_to_window(t, _year_start_s(2014), 2, day_offset=-10, year=0)
    assert dt.datetime.fromtimestamp(int(src[0]), dt.UTC) == dt.datetime(2014, 2, 23, 13, 20, tzinfo=dt.UTC)


def test_derived_pv_dark_at_night_and_within_capacity(model: FleetModel, evaluation) -> None:
    rows = _rows(model, "pv:derived", "inverter")
    assert len(rows)
    power = evaluation.metrics["power_kw"][1][rows]
    cap = model.asset_cap[rows][:, None]
    assert np.nanmin(power) >= 0
    assert np.nanmax(power / cap) <= 1.0 + 1e-9
    site = model.asset_site[rows]
    lat = np.array([model.sites[i]["attributes"]["profile"].get("model_lat", model.sites[i]["latitude"]) for i in site])
    lon = np.array([model.sites[i]["attributes"]["profile"].get("model_lon", model.sites[i]["longitude"]) for i in site])
    zenith, _ = pvmodel.solar_position(TIMES, lat[:, None], lon[:, None])
    assert np.all(power[zenith > 91] == 0)
    day = zenith < 40
    assert np.nanmean(power[day] / np.broadcast_to(cap, power.shape)[day]) > 0.3  # summer midday produces


def test_measured_pv_replays_its_series(model: FleetModel, evaluation, demo_data: DemoData) -> None:
    row = model.asset_ids.index("US-PVDAQ50-INV-01")
    got = evaluation.metrics["power_kw"][1][row]
    pv = demo_data.pvdaq
    src = map_to_window(TIMES, _year_start_s(2012), 2, 0, 0)
    np.testing.assert_allclose(got, _sample(pv.grid, pv.ac_kw, src), equal_nan=True)
    assert np.nanmax(got) <= 1.3 * pv.nameplate_ac_kw
    zenith, _ = pvmodel.solar_position(TIMES, np.array([[pv.latitude]]), np.array([[pv.longitude]]))
    assert np.nanmax(got[zenith[0] > 95]) == 0
    serf = model.asset_ids.index("US-SERFE-INV-01")  # June: out of season, modelled from its clearness
    assert np.nanmax(evaluation.metrics["power_kw"][1][serf]) > 0


def test_lhb_turbines_replay_scada(model: FleetModel, evaluation, demo_data: DemoData) -> None:
    w = demo_data.wind
    row = model.asset_ids.index("FR-LHB-WTG-R80736")
    src = map_to_window(TIMES, _year_start_s(2014), 2, 0, 1)
    expected = _sample(w.grid, w.power_kw[2], src)
    np.testing.assert_allclose(evaluation.metrics["power_kw"][1][row], expected, rtol=1e-6, equal_nan=True)


def test_derived_wind_follows_power_curve(model: FleetModel, evaluation, demo_data: DemoData) -> None:
    rows = _rows(model, "wind:derived", "turbine")
    idx, ws_all = evaluation.metrics["wind_speed_ms"]
    ws = ws_all[np.searchsorted(idx[: len(idx) - len(model.meter_rows)], rows)]
    power = evaluation.metrics["power_kw"][1][rows]
    curve = demo_data.power_curve
    cap = model.asset_cap[rows][:, None]
    expected = np.minimum(curve(ws) / curve.rated_kw * cap * model.perf[rows][:, None], cap)
    np.testing.assert_allclose(power, expected, rtol=1e-9)
    assert np.nanmin(ws) >= 0 and np.nanmax(ws) < 40
    assert np.nanmax(power / model.asset_cap[rows][:, None]) <= 1.0


def test_storage_soc_bounds_and_price_response(model: FleetModel, demo_data: DemoData) -> None:
    t = np.arange(START, START + 7 * 86400, 3600, dtype=np.int64)
    ev = model.evaluate(t)
    rows = _rows(model, "storage:smard", "battery")
    assert len(rows)
    idx, soc = ev.metrics["soc_pct"]
    bat_soc = soc[np.isin(idx, rows) & (model.asset_kind[idx] == "battery")]
    assert np.nanmin(bat_soc) >= 0 and np.nanmax(bat_soc) <= 100
    power = ev.metrics["power_kw"][1][rows]
    assert np.all(np.abs(power) <= model.asset_cap[rows][:, None] + 1e-9)
    assert (power > 0).any() and (power < 0).any()


def test_dispatch_charges_cheap_discharges_dear() -> None:
    day = np.full(24, 50.0)
    day[2:4] = 10.0
    day[18:20] = 120.0
    sched = dispatch(np.tile(day, 3), duration_h=2)
    frac = sched.power_frac.reshape(3, 24)
    assert np.all(frac[1:, 2:4] < 0) and np.all(frac[:, 18:20] > 0)  # day 1 starts half full
    assert frac[0, 2] < 0
    assert np.all(frac[:, [0, 1, 4, 10, 22]] == 0)
    assert sched.soc_pct.min() >= 5 and sched.soc_pct.max() <= 95
    flat = dispatch(np.full(48, 40.0), duration_h=2)
    assert np.all(flat.power_frac == 0)
    with pytest.raises(ValueError, match="whole days"):
        dispatch(np.ones(25), 2)


def test_meters_and_substations_sum(model: FleetModel, evaluation) -> None:
    power = evaluation.metrics["power_kw"][1]
    gen = np.isin(model.asset_kind, ("inverter", "turbine", "battery"))
    meter_of = {model.asset_site[m]: m for m in model.meter_rows}
    for s, m in meter_of.items():
        mine = gen & (model.asset_site == s)
        if mine.any():
            np.testing.assert_allclose(power[m], np.nansum(power[mine], axis=0), rtol=1e-9, atol=1e-9)
    for s, served in model.sub_serves.items():
        assert len(served)
        expected = np.nansum(np.stack([power[meter_of[i]] for i in served]), axis=0)
        np.testing.assert_allclose(power[meter_of[s]], expected, rtol=1e-9)
        tx = np.flatnonzero((model.asset_site == s) & (model.asset_kind == "transformer"))
        np.testing.assert_allclose(power[tx].sum(axis=0), expected, rtol=1e-9)


def test_every_point_is_inside_the_ingest_ranges(model: FleetModel) -> None:
    ev = model.evaluate(np.concatenate([TIMES[::4], WINTER[::4]]))
    points = model.points(ev)
    assert len(points) > 10_000
    caps = dict(zip(model.asset_ids, model.asset_cap, strict=False))
    metrics = {p.metric for p in points}
    assert {"power_kw", "wind_speed_ms", "soc_pct", "irradiance_wm2", "temperature_c"} <= metrics
    for p in points:
        low, high = range_for(p.metric, caps[p.asset_id])
        assert low <= p.value <= high, p
        assert p.ts.tzinfo is dt.UTC


def test_points_subset_of_rows(model: FleetModel) -> None:
    ev = model.evaluate([START + 12 * 3600])
    rows = np.array([0, 5, 7])
    ids = {p.asset_id for p in model.points(ev, rows)}
    assert ids <= {model.asset_ids[i] for i in rows} and ids


def test_sites_without_a_profile_are_ignored(demo_data: DemoData) -> None:
    sites = [{"id": "x", "kind": "solar", "latitude": 1.0, "longitude": 1.0, "capacity_mw": 1.0, "profile_key": "",
              "attributes": {}}]
    assets = [{"id": "x-INV-001", "site_id": "x", "kind": "inverter", "capacity_kw": 1.0, "attributes": {}}]
    m = FleetModel(sites, assets, demo_data)
    assert m.asset_ids == []
    assert m.points(m.evaluate([START])) == []
