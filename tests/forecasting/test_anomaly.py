"""Underperformance detection on real turbine SCADA, and its events."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from data.models import Event
from forecasting.anomaly import find_underperformance, publish_anomalies
from forecasting.datasets import DEMO_DIR
from forecasting.errors import ForecastInputError
from forecasting.features import PowerCurve


@pytest.fixture(scope="module")
def turbine():
    raw = pd.read_csv(DEMO_DIR / "wind" / "la_haute_borne_scada_2014_2015_10min.csv.gz", nrows=4 * 6 * 24 * 120)
    one = raw[raw["turbine"] == "R80711"].copy()
    one.index = pd.to_datetime(one["time_utc"], utc=True)
    one = one[~one.index.duplicated(keep=False)]
    hourly = one[["P_avg", "Ws_avg"]].resample("1h").mean()
    curve = PowerCurve.fit(hourly["Ws_avg"].to_numpy()[: 24 * 60], hourly["P_avg"].to_numpy()[: 24 * 60])
    hourly["expected"] = curve(hourly["Ws_avg"].to_numpy())
    return hourly


def test_a_derated_turbine_is_flagged_where_it_was_derated(turbine):
    actual = turbine["P_avg"].copy()
    window = (actual.index >= "2014-04-10") & (actual.index < "2014-04-13")
    actual[window] *= 0.6  # a 40 % derating for three days
    eps = find_underperformance(actual, turbine["expected"], 2050.0, reference=slice("2014-01-01", "2014-03-01"))
    hit = eps[(eps["end"] >= pd.Timestamp("2014-04-10", tz="UTC")) & (eps["start"] <= pd.Timestamp("2014-04-13", tz="UTC"))]
    assert len(hit) >= 1
    assert hit["mean_shortfall_pct"].max() > 5
    clean = find_underperformance(turbine["P_avg"], turbine["expected"], 2050.0, reference=slice("2014-01-01", "2014-03-01"))
    assert len(clean) < len(eps) + 1
    in_window = clean[(clean["end"] >= pd.Timestamp("2014-04-10", tz="UTC")) & (clean["start"] <= pd.Timestamp("2014-04-13", tz="UTC"))]
    assert in_window.empty


def test_episodes_become_events(db, turbine):
    actual = turbine["P_avg"].copy()
    actual[(actual.index >= "2014-04-10") & (actual.index < "2014-04-13")] *= 0.5
    eps = find_underperformance(actual, turbine["expected"], 2050.0)
    with db.session() as s:
        n = publish_anomalies(s, entity_type="asset", entity_id="R80711", episodes=eps, basis="power curve on nacelle wind speed")
    with db.session() as s:
        rows = s.scalars(select(Event).where(Event.kind == "anomaly.detected")).all()
    assert n == len(rows) >= 1
    assert rows[0].entity_id == "R80711" and rows[0].payload["basis"].startswith("power curve")
    assert rows[0].payload["severity"] in ("warning", "critical")


def test_bad_inputs():
    idx = pd.date_range("2024-01-01", periods=10, freq="1h", tz="UTC")
    s = pd.Series(np.ones(10), index=idx)
    with pytest.raises(ForecastInputError, match="capacity must be positive"):
        find_underperformance(s, s, 0)
    with pytest.raises(ForecastInputError, match="too little history"):
        find_underperformance(s, s, 1.0)
