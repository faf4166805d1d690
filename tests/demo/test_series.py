"""Cleaning of the real series: DST duplicates, sensor faults, units, time conventions, cache."""
from __future__ import annotations

import datetime as dt
import gzip
import time

import numpy as np
import pandas as pd
import pytest

from core.settings import REPO_ROOT
from demo.series import PVDAQ_POWER, SMARD_PRICES, DemoData, Grid, fit_power_curve


def _s(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp())


def test_grid_interp_is_linear_and_nan_outside() -> None:
    g = Grid(0, 10, 3)
    values = np.array([0.0, 10.0, np.nan])
    out = g.interp(values, np.array([-1, 0, 5, 10, 15, 30]))
    assert np.isnan(out[0]) and out[1] == 0 and out[2] == 5 and out[3] == 10
    assert np.isnan(out[4]) and np.isnan(out[5])


def test_scada_dst_duplicates_removed_first_row_kept(demo_data: DemoData) -> None:
    w = demo_data.wind
    assert w.turbines == ("R80711", "R80721", "R80736", "R80790")
    assert w.duplicates_removed == 48  # 6 stamps x 2 springs x 4 turbines
    assert w.grid.step_s == 600 and w.grid.n == 2 * 365 * 144
    i = w.grid.index_of(np.array([_s("2014-03-30T01:00:00+00:00")]))[0]
    assert w.power_kw_raw[0, i] == pytest.approx(202.32)  # the first of the two rows
    # autumn stamps absent in the source stay NaN on the grid
    gap = w.grid.index_of(np.array([_s("2014-10-26T00:00:00+00:00")]))[0]
    assert np.isnan(w.power_kw_raw[:, gap : gap + 6]).all()


def test_scada_faults_and_idle_power(demo_data: DemoData) -> None:
    w = demo_data.wind
    assert w.temp_faults_removed == 34
    assert np.nanmin(w.temp_c) > -40
    assert np.nanmin(w.power_kw_raw) < 0  # idle consumption is in the source...
    assert np.nanmin(w.power_kw) == 0.0  # ...and clipped for replay
    assert not np.isnan(w.wind_ms_filled).any()
    assert 0.005 < np.isnan(w.power_kw).mean() < 0.01


def test_power_curve_matches_sources_md(demo_data: DemoData) -> None:
    pc = demo_data.power_curve
    assert pc.rated_kw == 2050
    assert np.all(np.diff(pc.power_kw) >= 0)
    assert pc(np.array([2.0]))[0] == 0
    assert 950 < pc(np.array([9.0]))[0] < 1150  # SOURCES.md: median ~1,057 kW at 8-10 m/s
    assert 1950 < pc(np.array([17.5]))[0] <= 2050  # ~2,020 kW at 15-20 m/s
    assert pc(np.array([25.5]))[0] == 0  # cut-out
    assert np.isnan(pc(np.array([np.nan]))[0])


def test_fit_power_curve_skips_thin_bins() -> None:
    ws = np.repeat(np.arange(0.0, 12.0, 0.5) + 0.25, 40)
    p = np.clip((ws - 3) * 300, 0, 2000)
    pc = fit_power_curve(ws, p, 2000.0)
    assert pc(np.array([8.25]))[0] == pytest.approx(1575.0)
    assert pc(np.array([20.0]))[0] == pytest.approx(pc.power_kw[-1])


def test_pvdaq_units_and_denver_clock_end_labels(demo_data: DemoData) -> None:
    pv = demo_data.pvdaq
    assert 3.0 < np.nanmax(pv.ac_kw) < 3.5  # W in the file, kW here
    assert pv.nameplate_ac_kw == 2.7
    # "2011-07-01T12:00:00-07:00" is local MDT noon = 18:00Z, the END of its interval -> label 17:45Z
    with gzip.open(REPO_ROOT / "demo_data" / PVDAQ_POWER, "rt") as fh:
        raw = pd.read_csv(fh)
    watts = float(raw.loc[raw["measured_on"] == "2011-07-01T12:00:00-07:00", "ac_power_2"].iloc[0])
    i = pv.grid.index_of(np.array([_s("2011-07-01T17:45:00+00:00")]))[0]
    assert pv.ac_kw[i] == pytest.approx(watts / 1000.0, rel=1e-5)
    # winter: MST noon = 19:00Z end -> 18:45Z label
    watts = float(raw.loc[raw["measured_on"] == "2012-01-10T12:00:00-07:00", "ac_power_2"].iloc[0])
    i = pv.grid.index_of(np.array([_s("2012-01-10T18:45:00+00:00")]))[0]
    assert pv.ac_kw[i] == pytest.approx(watts / 1000.0, rel=1e-5)


def test_pv_clearness_is_normalised_and_night_free(demo_data: DemoData) -> None:
    for pv in (demo_data.pvdaq, demo_data.serf_east):
        assert not np.isnan(pv.clearness).any()
        assert pv.clearness.min() >= 0 and pv.clearness.max() <= 1.3
        strong = pv.clear_kw > 0.5 * np.nanmax(pv.clear_kw)
        assert 0.9 < np.percentile(pv.clearness[strong], 90) < 1.15  # clear days ~ 1
        # deep night: no modelled sun within +-45 min (dusk/dawn intervals straddle the modelled sunset)
        night = np.convolve((pv.clear_kw > 0).astype(float), np.ones(7), mode="same") == 0
        assert np.nanpercentile(pv.ac_kw[night], 99.9) < 0.02 * pv.nameplate_ac_kw
    assert 5.0 <= demo_data.serf_east.nameplate_ac_kw <= 5.5


def test_smard_zones_continuous(demo_data: DemoData) -> None:
    pr = demo_data.prices
    assert len(pr.times_s) == 17520 and pr.years == (2015, 2018)
    assert {"DE-LU", "FR", "NL", "DK1", "PL", "SE4", "IT-NORD", "HU"} <= set(pr.zones)
    for values in pr.zones.values():
        assert not np.isnan(values).any()
    raw = pd.read_csv(REPO_ROOT / "demo_data" / SMARD_PRICES)
    de = pr.zones["DE-LU"]
    split = int(np.flatnonzero(pr.times_s == _s("2018-09-30T22:00:00+00:00"))[0])
    assert de[split] == pytest.approx(raw["Germany/Luxembourg"].iloc[split])
    assert de[split - 1] == pytest.approx(raw["Germany/Austria/Luxembourg"].iloc[split - 1])
    assert pr.zones["AT"][split - 1] == pytest.approx(raw["Germany/Austria/Luxembourg"].iloc[split - 1])
    # DE 2015-01-01 (missing in the source) = the same hour one week later
    first = int(np.flatnonzero(pr.times_s == _s("2015-01-01T10:00:00+00:00"))[0])
    assert np.isnan(raw["Germany/Austria/Luxembourg"].iloc[first])
    assert de[first] == pytest.approx(de[first + 168])
    assert de.min() < 0  # negative prices occur


def test_era5_in_celsius(demo_data: DemoData) -> None:
    era = demo_data.era5
    assert era.grid.step_s == 3600
    assert -25 < np.nanmin(era.t_2m_c) and np.nanmax(era.t_2m_c) < 45


def test_cache_makes_reloads_fast(demo_data: DemoData) -> None:
    _ = demo_data.wind, demo_data.pvdaq, demo_data.serf_east, demo_data.prices  # warm the cache folder
    started = time.perf_counter()
    again = DemoData(demo_data.data_dir, demo_data.cache_dir)
    w = again.wind
    _ = again.pvdaq, again.prices, again.era5, again.power_curve
    assert time.perf_counter() - started < 2.0
    np.testing.assert_array_equal(w.power_kw_raw, demo_data.wind.power_kw_raw)


def test_missing_file_is_named(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="la_haute_borne_scada"):
        _ = DemoData(tmp_path, None).wind
