"""Underperformance detection on residuals (actual minus expected output) and its events.

``expected`` can be a forecast, a power curve applied to measured wind speed, or a PV model on
measured irradiance. Residuals are normalised by capacity; their spread is estimated robustly
(median absolute deviation) on the reference part of the series. A sustained shortfall (the
rolling mean residual below ``-max(k * sigma / sqrt(n), min_shortfall)`` while the asset is
expected to produce) becomes an episode. Each episode can be published as an
``anomaly.detected`` event for the alerts module.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from data.forecast_queries import record_event
from forecasting.errors import ForecastInputError


def find_underperformance(
    actual: pd.Series,
    expected: pd.Series,
    capacity: float,
    *,
    window: int = 24,
    k: float = 4.0,
    min_shortfall: float = 0.05,
    min_expected: float = 0.05,
    reference: slice | None = None,
) -> pd.DataFrame:
    """Return underperformance episodes of ``actual`` against ``expected`` (same index, same unit).

    ``window`` is the number of intervals averaged; intervals where ``expected`` is below
    ``min_expected`` x capacity are ignored (nothing to lose). Columns of the result: start, end
    (interval starts), intervals, mean_shortfall_pct (of capacity), energy_lost (unit x
    intervals, i.e. kWh for hourly kW), z (how many standard errors below zero).
    """
    if capacity <= 0:
        raise ForecastInputError(f"capacity must be positive, got {capacity}")
    if not actual.index.equals(expected.index):
        raise ForecastInputError("actual and expected must share the same index")
    resid = (actual - expected) / capacity
    producing = expected / capacity >= min_expected
    resid = resid.where(producing)
    ref = resid[reference] if reference is not None else resid
    ref = ref.dropna()
    if len(ref) < window * 2:
        raise ForecastInputError(f"too little history for anomaly detection: {len(ref)} producing intervals")
    centre = float(np.median(ref))
    sigma = float(1.4826 * np.median(np.abs(ref - centre))) or 1e-6
    rolling = (resid - centre).rolling(window, min_periods=max(2, window // 2)).mean()
    counts = resid.rolling(window, min_periods=1).count().clip(lower=1)
    limit = np.maximum(k * sigma / np.sqrt(counts), min_shortfall)
    flagged = (rolling < -limit).fillna(False)
    episodes = []
    run_id = (flagged != flagged.shift()).cumsum()
    for _, grp in flagged[flagged].groupby(run_id[flagged]):
        # the flag at t covers the window ending at t
        start_pos = max(0, actual.index.get_loc(grp.index[0]) - window + 1)
        span = resid.iloc[start_pos: actual.index.get_loc(grp.index[-1]) + 1]
        lost = (expected - actual).reindex(span.index).where(producing).clip(lower=0).sum()
        mean_short = float(-(span - centre).mean())
        episodes.append({
            "start": span.index[0], "end": span.index[-1], "intervals": int(span.notna().sum()),
            "mean_shortfall_pct": round(100 * mean_short, 2), "energy_lost": float(lost),
            "z": round(mean_short / (sigma / np.sqrt(max(1, span.notna().sum()))), 1),
        })
    return pd.DataFrame(episodes, columns=["start", "end", "intervals", "mean_shortfall_pct", "energy_lost", "z"])


def publish_anomalies(session: Session, *, entity_type: str, entity_id: str, episodes: pd.DataFrame,
                      basis: str, site_id: str | None = None) -> int:
    """Write one ``anomaly.detected`` event per episode and return how many were written.

    ``entity_type`` is "asset" or "site"; ``basis`` says what "expected" was (e.g.
    "power curve on nacelle wind speed", "xgboost forecast v...").
    """
    for ep in episodes.itertuples(index=False):
        record_event(session, kind="anomaly.detected", entity_type=entity_type, entity_id=entity_id, payload={
            "site_id": site_id, "start": pd.Timestamp(ep.start).isoformat(), "end": pd.Timestamp(ep.end).isoformat(),
            "intervals": int(ep.intervals), "mean_shortfall_pct": float(ep.mean_shortfall_pct),
            "energy_lost": float(ep.energy_lost), "z": float(ep.z), "basis": basis,
            "severity": "critical" if ep.mean_shortfall_pct >= 30 else "warning",
        })
    return len(episodes)
