"""Figure builders and page views of the forecasts and weather pages (no browser)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.forecast_figures import (
    climate_trend_figure,
    correlation_figure,
    forecast_band_figure,
    horizon_skill_figure,
    performance_index_figure,
    power_vs_weather_figure,
    regime_figure,
)


def _forecasts():
    t = pd.date_range("2012-05-01", periods=6, freq="1h", tz="UTC")
    return pd.DataFrame({"model_name": ["xgboost"] * 6, "target_start": t, "p10_mw": np.arange(6.0),
                         "p50_mw": np.arange(6.0) + 1, "p90_mw": np.arange(6.0) + 2, "version": ["v1"] * 6})


def test_band_figure_has_band_p50_and_actual():
    t = pd.date_range("2012-05-01", periods=6, freq="1h", tz="UTC")
    fig = forecast_band_figure(pd.Series(np.arange(6.0), index=t), _forecasts(), title="x", capacity_mw=10)
    names = [tr.name for tr in fig.data]
    assert "xgboost p10-p90" in names and "xgboost p50 · v1" in names and "actual" in names
    band = next(tr for tr in fig.data if tr.name == "xgboost p10-p90")
    assert band.fill == "tonexty"


def test_empty_inputs_give_a_message_not_an_error():
    fig = forecast_band_figure(pd.Series(dtype=float), pd.DataFrame(columns=_forecasts().columns), title="x")
    assert "No forecasts" in fig.layout.annotations[0].text
    assert "Not enough" in correlation_figure(pd.DataFrame({"a": [1.0]})).layout.annotations[0].text
    assert "NOAA" in climate_trend_figure(pd.DataFrame()).layout.annotations[0].text


def test_horizon_and_regime_figures():
    rows = [{"h": h, "lead_h": float(h), "skill_rmse": 0.1 * h} for h in range(1, 4)]
    fig = horizon_skill_figure({"xgboost": rows}, theme="dark")
    assert list(fig.data[0].x) == [1.0, 2.0, 3.0] and fig.layout.template.layout.paper_bgcolor is not None
    reg = regime_figure({"xgboost": {"calm": {"nmae": 0.1, "skill_rmse": 0.2}, "strong": {"nmae": 0.2, "skill_rmse": 0.5}}})
    assert list(reg.data[0].x) == ["calm", "strong"]


def test_weather_figures(wind_data):
    sel = wind_data.y.index < "2014-02-01"
    ws, p = wind_data.weather["ws_100m"][sel], wind_data.y[sel] / 1000
    fig = power_vs_weather_figure(ws, p, np.array([0, 10]), np.array([0, 5]), x_label="m/s", title="t")
    assert fig.data[0].type == "scattergl" and fig.data[1].name == "fitted curve"
    corr = correlation_figure(pd.DataFrame({"output": p, "ws": ws}))
    assert corr.data[0].z[0][1] > 0.8
    idx = pd.Series([0.9, 1.0], index=pd.date_range("2014-01-01", periods=2, freq="1D", tz="UTC"))
    alerts = pd.DataFrame([{"event": "Wind Advisory", "severity": "Severe", "onset": idx.index[0], "ends": idx.index[1]}])
    perf = performance_index_figure(idx, alerts)
    assert [s.type for s in perf.layout.shapes] == ["line", "rect"]  # the 100 % line and the alert span
    monthly = pd.DataFrame({"temperature_c": [1.0, 2.0, 3.0, 4.0]}, index=pd.date_range("2000-01-01", periods=4, freq="MS"))
    assert "per decade" in climate_trend_figure(monthly).data[0].name


def test_weather_view_helpers(wind_data):
    from callbacks.weather import fit_expected, performance_index

    sel = wind_data.y.index < "2014-03-01"
    cx, cy, expected = fit_expected("wind", wind_data.weather["ws_100m"][sel], wind_data.y[sel])
    assert len(cx) > 10 and np.all(np.diff(cy[: int(np.argmax(cy)) + 1]) >= 0)
    index = performance_index(wind_data.y[sel], expected)
    assert 0.7 < index.median() < 1.3
    _, _, pv_expected = fit_expected("solar", pd.Series([0.0, 500, 1000] * 30), pd.Series([0.0, 1, 2] * 30))
    assert pv_expected.iloc[2] == pytest.approx(2.0)


def test_fleet_aggregation_and_scorecard_rows():
    from callbacks.forecasts import aggregate_fleet, scorecard_rows

    a, b = _forecasts().assign(site_id="a"), _forecasts().assign(site_id="b")
    fleet = aggregate_fleet(pd.concat([a, b]))
    assert fleet["p50_mw"].tolist() == [2.0 * (i + 1) for i in range(6)]
    ts = pd.Timestamp("2012-05-01", tz="UTC")
    rows = scorecard_rows([{"site_id": "a", "model_name": "xgboost", "version": "v1", "trained_at": ts, "train_start": ts,
                            "train_end": ts, "is_active": True, "serving": "local",
                            "metrics": {"backtest": {"day_ahead": {"nmae": 0.05, "skill_rmse": 0.5}}, "weather_columns": ["ghi_wm2"]}}],
                          {"a": "Site A"})
    assert rows[0]["site"] == "Site A" and rows[0]["da_skill"] == 0.5 and rows[0]["weather"] == "ghi_wm2"
