"""Features: clear-sky physics, power curve shape, and no look-ahead in lag features."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.datasets import best_lag
from forecasting.errors import ForecastInputError
from forecasting.features import LagTables, PowerCurve, SiteContext, clearsky_features


def test_clearsky_is_zero_at_night_and_peaks_near_solar_noon():
    site = SiteContext(kind="pv", latitude=39.74, longitude=-105.18, tilt=45, azimuth=158)
    times = pd.date_range("2013-06-21", periods=24, freq="1h", tz="UTC")
    cs = clearsky_features(times, pd.Timedelta("1h"), site)
    assert cs.loc[times[8], "cs_ghi"] == 0.0  # 02:00 local
    noon_hour = int(cs["cs_ghi"].to_numpy().argmax())
    assert noon_hour in (18, 19)  # 12:00-13:00 MDT is 18-19 UTC
    assert 900 < cs["cs_ghi"].max() < 1150
    assert (cs["cs_poa"] >= 0).all()


def test_power_curve_fitted_on_real_scada_is_monotone_to_rated(wind_data):
    train = wind_data.y.index.year == 2014
    curve = PowerCurve.fit(wind_data.weather["ws_100m"].to_numpy()[train], wind_data.y.to_numpy()[train])
    out = curve(np.array([2.0, 6.0, 10.0, 14.0, 25.0, np.nan]))
    assert out[0] < 300 and 1000 < out[1] < out[2] < out[3] <= 8200
    assert np.isnan(out[5])
    peak = int(np.argmax(curve.power))
    assert np.all(np.diff(curve.power[: peak + 1]) >= 0)


def test_power_curve_needs_data():
    with pytest.raises(ForecastInputError, match="power curve"):
        PowerCurve.fit(np.arange(10.0), np.arange(10.0))


def test_lag_features_never_look_past_the_origin():
    rng = np.random.default_rng(1)
    y = rng.random(24 * 30)
    origins = np.array([24 * 20, 24 * 20 + 5])
    horizons = np.array([30, 3])
    before = LagTables.build(y, 24).features(origins, horizons)
    future_changed = y.copy()
    future_changed[24 * 20 + 6:] = 99.0
    after = LagTables.build(future_changed, 24).features(origins, horizons)
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)


def test_lag_features_before_the_start_are_missing():
    feats = LagTables.build(np.arange(100.0), 24).features(np.array([2]), np.array([30]))
    assert np.isnan(feats["same_tod_prev"][0])


def test_demo_clock_fixes_align_power_with_weather(pv_data, wind_data):
    for data, col in ((pv_data, "ghi"), (wind_data, "ws_100m")):
        for months in ([6, 7, 8], [12, 1, 2]):
            sel = data.y.index.month.isin(months)
            assert best_lag(data.y[sel], data.weather[col][sel]) == 0, (data.name, months)


def test_site_context_validates():
    with pytest.raises(ForecastInputError, match="kind"):
        SiteContext(kind="hydro")
    with pytest.raises(ForecastInputError, match="both latitude and longitude"):
        SiteContext(latitude=10.0)
