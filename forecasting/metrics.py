"""Forecast accuracy metrics (point and quantile), all on arrays in the unit of the actuals.

nMAE divides each absolute error by the capacity at that interval, so series whose capacity
grows stay comparable. ``bias`` is mean(forecast - actual): positive means over-forecasting.
Skill is ``1 - metric / metric_of_persistence`` (1 = perfect, 0 = no better than persistence).
"""
from __future__ import annotations

import numpy as np

QUANTILE_LEVELS = (0.1, 0.5, 0.9)


def pinball(actual: np.ndarray, pred: np.ndarray, level: float) -> float:
    """Return the mean pinball (quantile) loss of ``pred`` as the ``level`` quantile."""
    diff = actual - pred
    return float(np.mean(np.maximum(level * diff, (level - 1) * diff)))


def point_metrics(actual: np.ndarray, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, capacity: np.ndarray) -> dict[str, float]:
    """Return MAE, RMSE, nMAE, nRMSE, bias, mean pinball loss (p10/p50/p90) and p10-p90 coverage.

    Units: MAE/RMSE/bias/pinball in the unit of ``actual``; nMAE/nRMSE and coverage as fractions.
    Rows with a NaN actual or forecast are ignored; ``n`` counts the rows scored.
    """
    ok = np.isfinite(actual) & np.isfinite(p50)
    a, lo, mid, hi, cap = actual[ok], p10[ok], p50[ok], p90[ok], capacity[ok]
    if len(a) == 0:
        return {"n": 0}
    err = mid - a
    band_ok = np.isfinite(lo) & np.isfinite(hi)
    pin = np.mean([pinball(a[band_ok], q[band_ok], lvl) for q, lvl in ((lo, 0.1), (mid, 0.5), (hi, 0.9))]) if band_ok.any() else np.nan
    return {
        "n": int(len(a)),
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "nmae": float(np.mean(np.abs(err) / cap)),
        "nrmse": float(np.sqrt(np.mean((err / cap) ** 2))),
        "bias": float(np.mean(err)),
        "pinball": float(pin),
        "coverage_p10_p90": float(np.mean((a[band_ok] >= lo[band_ok]) & (a[band_ok] <= hi[band_ok]))) if band_ok.any() else float("nan"),
    }


def add_skill(metrics: dict[str, float], reference: dict[str, float]) -> dict[str, float]:
    """Return ``metrics`` plus ``skill_rmse`` and ``skill_mae`` relative to ``reference`` (persistence)."""
    out = dict(metrics)
    for key in ("rmse", "mae"):
        ref = reference.get(key)
        out[f"skill_{key}"] = float(1 - metrics[key] / ref) if ref and key in metrics else float("nan")
    return out
