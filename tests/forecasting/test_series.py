"""Input validation: every bad input gets a ForecastInputError naming the problem."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.errors import ForecastInputError
from forecasting.series import check_trainable, prepare_frame


def _frame(n: int = 72, freq: str = "1h") -> pd.DataFrame:
    t = pd.date_range("2024-03-01", periods=n, freq=freq, tz="UTC")
    return pd.DataFrame({"time": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "power": np.sin(np.arange(n) / 4) + 1.5,
                         "ghi": np.arange(n, dtype=float)})


def test_clean_frame_is_prepared_on_a_utc_grid():
    prep = prepare_frame(_frame(), time_col="time", target="power", features=["ghi"])
    assert prep.freq == pd.Timedelta("1h")
    assert str(prep.y.index.tz) == "UTC"
    assert prep.report["missing_intervals"] == 0
    assert list(prep.exog.columns) == ["ghi"]


def test_wrong_column_names_are_listed():
    with pytest.raises(ForecastInputError, match=r"\['pwr'\] not found; available columns: \['time', 'power', 'ghi'\]"):
        prepare_frame(_frame(), time_col="time", target="pwr")


def test_non_numeric_target_names_value_and_row():
    df = _frame()
    df["power"] = df["power"].astype(object)
    df.loc[5, "power"] = "n/a"
    with pytest.raises(ForecastInputError, match=r"'power': 1 non-numeric values \(first 'n/a' at row 5\)"):
        prepare_frame(df, time_col="time", target="power")


def test_non_numeric_feature_is_rejected():
    df = _frame()
    df["ghi"] = df["ghi"].astype(object)
    df.loc[3, "ghi"] = "cloudy"
    with pytest.raises(ForecastInputError, match="'ghi'"):
        prepare_frame(df, time_col="time", target="power", features=["ghi"])


def test_unparseable_timestamp():
    df = _frame()
    df.loc[2, "time"] = "yesterday-ish"
    with pytest.raises(ForecastInputError, match="timestamps could not be parsed"):
        prepare_frame(df, time_col="time", target="power")


def test_duplicates_error_unless_a_policy_is_chosen():
    df = pd.concat([_frame(), _frame().iloc[[10]]], ignore_index=True)
    with pytest.raises(ForecastInputError, match="1 duplicated timestamps"):
        prepare_frame(df, time_col="time", target="power")
    prep = prepare_frame(df, time_col="time", target="power", duplicates="first")
    assert prep.report["duplicates_removed"] == 1


def test_small_gaps_stay_missing_and_large_gaps_fail():
    df = _frame().drop(index=[5, 6])
    prep = prepare_frame(df, time_col="time", target="power")
    assert prep.report["missing_intervals"] == 2 and prep.y.isna().sum() == 2
    with pytest.raises(ForecastInputError, match=r"intervals missing .*longest gap"):
        prepare_frame(_frame().drop(index=range(10, 40)), time_col="time", target="power")


def test_off_grid_timestamps():
    df = _frame()
    df.loc[7, "time"] = "2024-03-01T07:13:00Z"
    with pytest.raises(ForecastInputError, match="off the 0 days 01:00:00 grid"):
        prepare_frame(df, time_col="time", target="power")


def test_naive_local_times_with_tz_are_converted():
    df = _frame()
    df["time"] = pd.date_range("2024-06-01", periods=len(df), freq="1h").strftime("%Y-%m-%d %H:%M")
    prep = prepare_frame(df, time_col="time", target="power", tz="Europe/Paris")
    assert prep.y.index[0] == pd.Timestamp("2024-05-31T22:00Z")


def test_constant_series_and_too_little_history():
    with pytest.raises(ForecastInputError, match="constant"):
        check_trainable(pd.Series([2.0] * 100), min_intervals=10)
    with pytest.raises(ForecastInputError, match="too little history: 5 valid intervals"):
        check_trainable(pd.Series([1.0, 2, 3, 4, 5]), min_intervals=10)
    with pytest.raises(ForecastInputError, match="too little history"):
        prepare_frame(_frame(2), time_col="time", target="power")


def test_target_cannot_be_its_own_feature():
    with pytest.raises(ForecastInputError, match="is the target itself"):
        prepare_frame(_frame(), time_col="time", target="power", features=["power"])
