"""Online band calibration (adaptive conformal inference): coverage under a change of noise, no look-ahead."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.backtest import run_backtest
from forecasting.calibration import AdaptiveBand, replay, run_weights

Z90 = 1.2815515655446004  # standard normal 90 % quantile


def _forecast_table(days: int, sigma: np.ndarray, every: int = 6, horizon: int = 48, seed: int = 0):
    """Hourly grid; runs every ``every`` h with horizons 1..``horizon``; truth N(0, sigma[t]).

    The raw band is the exact 10-90 % interval of the *first* noise level, as if calibrated on
    a training period before the noise changed.
    """
    rng = np.random.default_rng(seed)
    n = days * 24
    actual = rng.normal(0.0, sigma[:n])
    origins = np.arange(0, n - 1, every)
    oo = np.repeat(origins, horizon)
    hh = np.tile(np.arange(1, horizon + 1), len(origins))
    keep = oo + hh < n
    oo, hh = oo[keep], hh[keep]
    tgt = oo + hh
    half = Z90 * sigma[0]
    q = np.column_stack([np.full(len(oo), -half), np.zeros(len(oo)), np.full(len(oo), half)])
    return oo, tgt, hh.astype(float), q, actual


def _covered(q: np.ndarray, actual: np.ndarray) -> np.ndarray:
    return (actual >= q[:, 0]) & (actual <= q[:, 2])


def test_adaptive_band_recovers_coverage_when_noise_doubles():
    days = 240
    sigma = np.where(np.arange(days * 24) < days * 12, 1.0, 2.0)
    oo, tgt, lead, q, actual = _forecast_table(days, sigma)
    published, band = replay(oo, tgt, lead, q, actual[tgt])
    fixed = _covered(q, actual[tgt])
    adaptive = _covered(published, actual[tgt])
    first, second = tgt < days * 12, tgt >= days * 12
    settled = tgt >= days * 12 + 30 * 24  # a month after the change
    assert 0.77 < fixed[first].mean() < 0.83  # the raw band is right before the change ...
    assert fixed[second].mean() < 0.55  # ... and far too narrow after it
    assert 0.76 < adaptive[first].mean() < 0.84
    assert 0.74 < adaptive[settled].mean() < 0.86
    assert 0.74 < adaptive.mean() < 0.84
    assert np.all(band.scales(np.array([3.0, 30.0])) > 1.6)  # the band has (about) doubled
    assert np.array_equal(published[:, 1], q[:, 1])  # p50 untouched


def test_adaptive_band_narrows_an_over_wide_band():
    days = 120
    oo, tgt, lead, q, actual = _forecast_table(days, np.full(days * 24, 1.0))
    published, band = replay(oo, tgt, lead, q * 2.0, actual[tgt])
    assert _covered(q * 2.0, actual[tgt]).mean() > 0.97
    late = tgt >= 60 * 24
    assert 0.74 < _covered(published, actual[tgt])[late].mean() < 0.86
    assert np.all(band.scales(np.array([3.0, 30.0])) < 0.7)


def test_replay_never_looks_ahead():
    days = 60
    sigma = np.full(days * 24, 1.0)
    oo, tgt, lead, q, actual = _forecast_table(days, sigma)
    cut = 30 * 24
    changed = actual.copy()
    changed[cut + 1:] *= 5.0  # wild actuals after the cut
    a, _ = replay(oo, tgt, lead, q, actual[tgt])
    b, _ = replay(oo, tgt, lead, q, changed[tgt])
    issued_before = oo <= cut
    assert np.array_equal(a[issued_before], b[issued_before])
    assert not np.array_equal(a[~issued_before], b[~issued_before])


def test_update_counts_published_misses_and_skips_unknown_actuals():
    band = AdaptiveBand(step=0.1)
    q = np.array([[-1.0, 0.0, 1.0]] * 4)
    band.update(q, np.array([np.nan, np.nan, np.nan, np.nan]), np.full(4, 30.0))
    assert band.updates == 0 and np.all(band.log_scale == 0)
    band.update(q, np.array([5.0, 0.0, 0.0, np.nan]), np.full(4, 30.0))  # one miss in three
    assert band.updates == 3
    assert band.log_scale[-1] == pytest.approx(0.1 * (1 - 3 * 0.2))
    assert np.all(band.log_scale[:-1] == 0)  # other lead-time groups untouched
    wide = band.apply(q, np.array([30.0, 30.0, 3.0, 3.0]))
    assert wide[0, 2] == pytest.approx(np.exp(0.04)) and wide[2, 2] == 1.0


def test_zero_step_and_bad_parameters():
    days = 30
    oo, tgt, lead, q, actual = _forecast_table(days, np.full(days * 24, 3.0))
    out, band = replay(oo, tgt, lead, q, actual[tgt], AdaptiveBand(step=0.0))
    assert np.array_equal(out, q) and band.state()["scale"] == [1.0, 1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="coverage"):
        AdaptiveBand(coverage=1.2)
    with pytest.raises(ValueError, match="step"):
        AdaptiveBand(step=-1)
    with pytest.raises(ValueError, match="after its origin"):
        replay(np.array([5]), np.array([5]), np.array([1.0]), q[:1], actual[:1])


def test_backtest_recalibrates_bands_online():
    """A series whose noise doubles inside the test span: fixed bands under-cover, online ones do not."""
    rng = np.random.default_rng(1)
    idx = pd.date_range("2023-01-01", periods=24 * 200, freq="1h", tz="UTC")
    sigma = np.where(idx < pd.Timestamp("2023-04-01", tz="UTC"), 0.04, 0.08)
    y = pd.Series(0.5 + 0.1 * np.sin(2 * np.pi * idx.hour / 24) + rng.normal(0, sigma), index=idx)
    common = dict(freq=pd.Timedelta("1h"), horizon=36, capacity=1.0, models=["climatology"], test_start="2023-02-15")
    fixed = run_backtest(y, band_step=0.0, **common)
    online = run_backtest(y, **common)
    cov_fixed = fixed.summary["climatology"]["day_ahead"]["coverage_p10_p90"]
    cov_online = online.summary["climatology"]["day_ahead"]["coverage_p10_p90"]
    assert cov_fixed < 0.7
    assert 0.74 < cov_online < 0.86
    cal = online.to_json_dict()["models"]["climatology"]["band_calibration"]
    assert cal["model_band_coverage"]["day_ahead"] == pytest.approx(cov_fixed, abs=1e-3)
    assert cal["scale"][-1] > 1.3
    assert online.summary["climatology"]["day_ahead"]["mae"] == fixed.summary["climatology"]["day_ahead"]["mae"]
    assert "band_calibration" not in fixed.to_json_dict()["models"]["climatology"]


def test_state_round_trip_and_run_weights():
    band = AdaptiveBand()
    band.log_scale = np.array([0.1, -0.2, 0.3, 0.0])
    back = AdaptiveBand.from_state(band.state())
    assert np.allclose(back.log_scale, band.log_scale)
    assert np.all(AdaptiveBand.from_state({"edges_h": [1.0], "log_scale": [0.5, 0.5]}).log_scale == 0)
    assert np.all(AdaptiveBand.from_state(None).log_scale == 0)
    lead = np.tile(np.arange(1.0, 49.0), 3)
    six_hourly = run_weights(band, np.repeat([0.0, 6.0, 12.0], 48), lead)
    daily = run_weights(band, np.repeat([0.0, 24.0, 48.0], 48), lead)
    runs = np.repeat([0, 1, 2], 48)
    groups = band.groups(lead)
    for r in range(3):  # each run weighs 1 per group every 6 h of issuing
        assert np.allclose(np.bincount(groups[runs == r], weights=six_hourly[runs == r]), 1.0)
        assert np.allclose(np.bincount(groups[runs == r], weights=daily[runs == r]), 4.0)
