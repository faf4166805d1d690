"""Rolling-origin backtests on real data slices."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.backtest import run_backtest
from forecasting.context import ForecastContext
from forecasting.errors import ForecastInputError
from forecasting.metrics import add_skill, pinball, point_metrics
from forecasting.models import make_model


def _slice(data, start, end):
    sel = (data.y.index >= start) & (data.y.index < end)
    return data.y[sel], data.weather[sel]


def test_metrics_on_known_values():
    a = np.array([0.0, 1.0, 2.0, 3.0])
    m = point_metrics(a, a - 1, a + 0.5, a + 1, np.full(4, 10.0))
    assert m["mae"] == 0.5 and m["bias"] == 0.5 and m["nmae"] == 0.05 and m["coverage_p10_p90"] == 1.0
    assert pinball(np.array([1.0]), np.array([0.0]), 0.9) == pytest.approx(0.9)
    assert add_skill({"rmse": 1.0, "mae": 1.0}, {"rmse": 2.0, "mae": 4.0}) == {"rmse": 1.0, "mae": 1.0, "skill_rmse": 0.5, "skill_mae": 0.75}


def test_pv_backtest_with_weather_beats_persistence(pv_data):
    y, wx = _slice(pv_data, "2012-03-01", "2012-08-01")
    res = run_backtest(y, freq=pv_data.freq, horizon=36, exog=wx, capacity=pv_data.capacity, site=pv_data.site,
                       models=["climatology", "xgboost"], test_start="2012-07-01")
    assert set(res.per_horizon["model"]) == {"persistence", "climatology", "xgboost"}
    assert sorted(res.per_horizon["h"].unique()) == list(range(1, 37))
    da = res.summary["xgboost"]["day_ahead"]
    assert da["skill_rmse"] > 0.3
    assert 0.6 < da["coverage_p10_p90"] < 0.95
    assert res.summary["persistence"]["all"]["skill_rmse"] == 0.0
    preds = res.predictions
    assert (preds["target"] > preds["origin"]).all()
    night = preds["target"].dt.hour.isin([6, 7, 8])  # around midnight in Colorado
    assert (preds.loc[night, "xgboost_p90"] == 0).all()
    body = res.to_json_dict()
    assert body["models"]["xgboost"]["per_horizon"][0]["h"] == 1


def test_folds_refit_on_expanding_windows(wind_data):
    y, wx = _slice(wind_data, "2014-01-01", "2014-05-01")
    res = run_backtest(y, freq=wind_data.freq, horizon=12, exog=wx, capacity=wind_data.capacity,
                       site=wind_data.site, models=["xgboost"], n_folds=2, test_frac=0.25)
    assert len(res.folds) == 2
    assert res.folds[0]["train_end"] < res.folds[1]["train_end"]


def test_prophet_gives_bands_and_respects_capacity(pv_data):
    y, wx = _slice(pv_data, "2012-05-01", "2012-07-15")
    res = run_backtest(y, freq=pv_data.freq, horizon=24, exog=wx, capacity=pv_data.capacity, site=pv_data.site,
                       models=["prophet"], test_start="2012-07-01", origin_every=24)
    p = res.predictions
    assert (p["prophet_p10"] <= p["prophet_p50"]).all() and (p["prophet_p50"] <= p["prophet_p90"]).all()
    assert p["prophet_p90"].max() <= pv_data.capacity * 1.2
    assert res.summary["prophet"]["day_ahead"]["skill_rmse"] > 0.2


def test_capacity_series_normalises_growth(pv_data):
    y, _ = _slice(pv_data, "2012-05-01", "2012-06-01")
    cap = pd.Series([3.0, 6.0], index=pd.DatetimeIndex([y.index[0], y.index[-1]]))
    ctx = ForecastContext.build(y * np.linspace(1, 2, len(y)), freq=pv_data.freq, max_horizon=24, capacity=cap)
    assert ctx.capacity[0] == 3.0 and ctx.capacity[-1] == 6.0
    assert np.nanmax(ctx.y) <= 1.2


def test_constant_and_short_series_are_refused(pv_data):
    idx = pd.date_range("2024-01-01", periods=24 * 20, freq="1h", tz="UTC")
    with pytest.raises(ForecastInputError, match="constant"):
        run_backtest(pd.Series(1.0, index=idx), freq=pd.Timedelta("1h"), horizon=24, capacity=2.0, models=["xgboost"])
    y, _ = _slice(pv_data, "2012-05-01", "2012-05-04")
    with pytest.raises(ForecastInputError, match="too little history"):
        run_backtest(y, freq=pv_data.freq, horizon=24, capacity=3.0, models=["climatology"])


def test_unknown_model_is_named():
    with pytest.raises(ForecastInputError, match="unknown model 'arima'"):
        make_model("arima")
