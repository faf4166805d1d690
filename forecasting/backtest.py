"""Rolling-origin backtesting of several models on one series.

The test span is split into ``n_folds`` consecutive folds; before each fold every model is refit
on all data before the fold (expanding window). Inside a fold, forecasts are issued every
``origin_every`` steps (issue times aligned to midnight UTC) for horizons 1..``horizon`` steps,
using only data known at the origin. All models are scored on the same (origin, horizon) pairs.

Each model's p10-p90 band is then recalibrated online, origin by origin, by
:class:`~forecasting.calibration.AdaptiveBand` (adaptive conformal inference): the multiplier
used at an origin is learned from the forecasts whose targets are at or before that origin, so the
test year's own early errors inform its later bands without any look-ahead (``band_step=0``
scores the bands exactly as the models fitted them).

Lead-time buckets reported in ``summary``: ``intraday`` (lead <= 6 h), ``day_ahead``
(12 h < lead <= 36 h: the next day for a forecast issued around noon) and ``all``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.calibration import DEFAULT_STEP, AdaptiveBand, replay
from forecasting.context import ForecastContext
from forecasting.errors import ForecastInputError
from forecasting.features import SiteContext
from forecasting.metrics import add_skill, point_metrics
from forecasting.models import MODEL_NAMES, make_model

BUCKETS = {"intraday": (0.0, 6.0), "day_ahead": (12.0, 36.0), "all": (0.0, math.inf)}


@dataclass
class BacktestResult:
    """Scored forecasts: ``predictions`` (long table) and metrics per model and horizon.

    ``calibration`` holds, per model, the online band calibration's final multipliers and the
    coverage per bucket the model's own (fixed) band would have had: ``model_band_coverage``.
    """

    predictions: pd.DataFrame
    per_horizon: pd.DataFrame
    summary: dict[str, dict[str, dict[str, float]]]
    timings: dict[str, dict[str, float]]
    folds: list[dict[str, str]] = field(default_factory=list)
    calibration: dict[str, dict] = field(default_factory=dict)

    def to_json_dict(self) -> dict:
        """Return a JSON-serialisable dict: per model, its metrics per horizon and per bucket."""
        models: dict[str, dict] = {}
        for name, frame in self.per_horizon.groupby("model", sort=False):
            rows = frame.drop(columns=["model"]).to_dict(orient="records")
            models[name] = {
                "per_horizon": [_clean(r) for r in rows],
                "summary": {b: _clean(m) for b, m in self.summary.get(name, {}).items()},
                "seconds": _clean(self.timings.get(name, {})),
            }
            if name in self.calibration:
                models[name]["band_calibration"] = self.calibration[name]
        return {"folds": self.folds, "models": models}


def _clean(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, (float, np.floating)):
            out[k] = None if not np.isfinite(v) else round(float(v), 6)
        elif isinstance(v, np.integer):
            out[k] = int(v)
        else:
            out[k] = v
    return out


def _fold_bounds(ctx: ForecastContext, test_start: pd.Timestamp | None, test_end: pd.Timestamp | None,
                 n_folds: int, test_frac: float) -> list[tuple[int, int]]:
    n = ctx.n
    if test_start is not None:
        lo = int(ctx.index.searchsorted(test_start))
    else:
        lo = int(n * (1 - test_frac))
    hi = int(ctx.index.searchsorted(test_end)) if test_end is not None else n
    if lo <= 0 or lo >= hi:
        raise ForecastInputError(f"test window is empty or leaves no training data (test starts at position {lo} of {n})")
    edges = np.linspace(lo, hi, n_folds + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def run_backtest(
    y: pd.Series,
    *,
    freq: pd.Timedelta,
    horizon: int,
    exog: pd.DataFrame | None = None,
    capacity: float | pd.Series | None = None,
    site: SiteContext | None = None,
    models: tuple[str, ...] | list[str] = MODEL_NAMES,
    use_weather: bool = True,
    test_start: pd.Timestamp | str | None = None,
    test_end: pd.Timestamp | str | None = None,
    n_folds: int | None = None,
    test_frac: float = 0.3,
    origin_every: int | None = None,
    model_options: dict[str, dict] | None = None,
    band_step: float = DEFAULT_STEP,
) -> BacktestResult:
    """Backtest ``models`` on ``y`` (regular UTC grid, interval start) and return the scores.

    ``horizon`` is the longest horizon in steps; ``capacity`` a number or series in the unit of
    ``y`` (None: peak of ``y``). Without ``test_start`` the last ``test_frac`` of the series is
    the test span. ``origin_every`` defaults to 6 hours (at least one step). ``band_step`` is the
    learning rate of the online band calibration (0: keep each model's own band).
    """
    if "persistence" not in models:
        models = ["persistence", *models]
    ctx = ForecastContext.build(y, freq=freq, max_horizon=horizon, capacity=capacity, exog=exog, site=site)
    origin_every = origin_every or max(1, ctx.spd // 4)
    ts = pd.Timestamp(test_start) if test_start is not None else None
    te = pd.Timestamp(test_end) if test_end is not None else None
    if ts is not None and ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    if te is not None and te.tzinfo is None:
        te = te.tz_localize("UTC")
    folds = _fold_bounds(ctx, ts, te, n_folds or (1 if ts is not None else 3), test_frac)
    options = model_options or {}
    pieces: list[pd.DataFrame] = []
    raw: dict[str, list[np.ndarray]] = {m: [] for m in models}
    timings = {m: {"fit": 0.0, "predict": 0.0} for m in models}
    fold_info = []
    slot = ((ctx.index.hour * 3600 + ctx.index.minute * 60) // int(freq.total_seconds())).to_numpy()
    for lo, hi in folds:
        cand = np.arange(lo - 1, hi - 1)
        origins = cand[((slot[cand] + 1) % origin_every) == 0]
        oo = np.repeat(origins, horizon)
        hh = np.tile(np.arange(1, horizon + 1), len(origins))
        keep = oo + hh < hi
        oo, hh = oo[keep], hh[keep]
        if len(oo) == 0:
            continue
        tgt = oo + hh
        frame = pd.DataFrame({
            "origin": ctx.index[oo], "target": ctx.index[tgt], "h": hh,
            "lead_h": hh * freq.total_seconds() / 3600.0,
            "actual": ctx.y[tgt] * ctx.capacity[tgt], "capacity": ctx.capacity[tgt],
            "_o": oo, "_t": tgt,
        })
        fold_info.append({"train_end": ctx.index[lo].isoformat(), "test_end": (ctx.index[hi - 1] + freq).isoformat(),
                          "origins": int(len(origins))})
        for name in models:
            model = make_model(name, use_weather=use_weather, **options.get(name, {}))
            t0 = time.perf_counter()
            model.fit(ctx, lo)
            t1 = time.perf_counter()
            q = model.predict(ctx, oo, hh)
            timings[name]["fit"] += t1 - t0
            timings[name]["predict"] += time.perf_counter() - t1
            bounds = np.broadcast_to([model.lo, model.hi], (len(q), 2))
            raw[name].append(np.column_stack([q, bounds]))
        pieces.append(frame)
    if not pieces:
        raise ForecastInputError("no forecast origins fall inside the test window; lower the horizon or widen the window")
    preds = pd.concat(pieces, ignore_index=True)
    oo, tgt = preds.pop("_o").to_numpy(), preds.pop("_t").to_numpy()
    lead = preds["lead_h"].to_numpy()
    calibration: dict[str, dict] = {}
    model_bands: dict[str, np.ndarray] = {}
    for name in models:
        stacked = np.concatenate(raw[name])
        q, bounds = stacked[:, :3], stacked[:, 3:]
        if band_step > 0:
            model_bands[name] = ctx.denormalise(q, tgt)
            q, band = replay(oo, tgt, lead, q, ctx.y[tgt], AdaptiveBand(step=band_step),
                             lower=bounds[:, 0], upper=bounds[:, 1], step_h=freq.total_seconds() / 3600.0)
            calibration[name] = band.state()
        q = ctx.denormalise(q, tgt)
        preds[f"{name}_p10"], preds[f"{name}_p50"], preds[f"{name}_p90"] = q[:, 0], q[:, 1], q[:, 2]
    mask = np.isfinite(preds["actual"].to_numpy())
    for name in models:
        mask &= np.isfinite(preds[f"{name}_p50"].to_numpy())
    for name, q in model_bands.items():
        calibration[name]["model_band_coverage"] = _bucket_coverage(preds["actual"].to_numpy()[mask], q[mask], lead[mask])
    preds = preds[mask].reset_index(drop=True)
    per_h, summary = score(preds, list(models))
    return BacktestResult(predictions=preds, per_horizon=per_h, summary=summary, timings=timings, folds=fold_info,
                          calibration=calibration)


def _bucket_coverage(actual: np.ndarray, q: np.ndarray, lead_h: np.ndarray) -> dict[str, float]:
    """Return the p10-p90 coverage of the bands ``q`` per lead-time bucket (buckets without rows are left out)."""
    out = {}
    for bucket, (lo, hi) in BUCKETS.items():
        sel = (lead_h > lo) & (lead_h <= hi)
        if sel.any():
            out[bucket] = round(float(np.mean((actual[sel] >= q[sel, 0]) & (actual[sel] <= q[sel, 2]))), 4)
    return out


def _metrics(frame: pd.DataFrame, name: str) -> dict[str, float]:
    return point_metrics(
        frame["actual"].to_numpy(), frame[f"{name}_p10"].to_numpy(), frame[f"{name}_p50"].to_numpy(),
        frame[f"{name}_p90"].to_numpy(), frame["capacity"].to_numpy(),
    )


def score(preds: pd.DataFrame, models: list[str]) -> tuple[pd.DataFrame, dict]:
    """Return (per-horizon metrics table, per-bucket summary) for a predictions table.

    ``preds`` has columns actual, capacity, h, lead_h and ``<model>_p10/p50/p90``; skill is
    measured against the ``persistence`` columns.
    """
    rows = []
    for h, grp in preds.groupby("h"):
        ref = _metrics(grp, "persistence")
        for name in models:
            m = add_skill(_metrics(grp, name), ref)
            rows.append({"model": name, "h": int(h), "lead_h": float(grp["lead_h"].iloc[0]), **m})
    per_h = pd.DataFrame(rows)
    if not per_h.empty:
        per_h["_o"] = per_h["model"].map({m: i for i, m in enumerate(models)})
        per_h = per_h.sort_values(["_o", "h"]).drop(columns="_o").reset_index(drop=True)
    summary: dict[str, dict] = {name: {} for name in models}
    for bucket, (lo, hi) in BUCKETS.items():
        grp = preds[(preds["lead_h"] > lo) & (preds["lead_h"] <= hi)]
        if grp.empty:
            continue
        ref = _metrics(grp, "persistence")
        for name in models:
            summary[name][bucket] = add_skill(_metrics(grp, name), ref)
    return per_h, summary


def regime_scores(preds: pd.DataFrame, models: list[str], regimes: pd.Series) -> dict[str, dict[str, dict[str, float]]]:
    """Return metrics per weather regime: ``{regime: {model: metrics + skill}}``.

    ``regimes`` labels each target interval start (e.g. "calm"/"moderate"/"strong" wind or
    "overcast"/"broken"/"clear" sky); targets without a label are left out.
    """
    labels = regimes.reindex(pd.DatetimeIndex(preds["target"])).to_numpy()
    out: dict[str, dict] = {}
    for regime in pd.unique(labels[pd.notna(labels)]):
        grp = preds[labels == regime]
        if len(grp) < 20:
            continue
        ref = _metrics(grp, "persistence")
        out[str(regime)] = {name: add_skill(_metrics(grp, name), ref) for name in models}
    return out


def weather_regimes(index: pd.DatetimeIndex, kind: str, exog: pd.DataFrame | None, y_norm: pd.Series) -> pd.Series:
    """Return a regime label per interval: wind speed classes, sky classes for PV, else output level.

    Wind (m/s): calm < 5 <= moderate < 11 <= strong. PV: clear-sky index (GHI over pvlib clear-sky
    GHI, daytime only) overcast < 0.4 <= broken < 0.75 <= clear. Otherwise terciles of normalised output.
    """
    if exog is not None and kind == "wind" and "wind_speed_ms" in exog.columns:
        ws = exog["wind_speed_ms"].reindex(index)
        return pd.Series(pd.cut(ws, [-np.inf, 5, 11, np.inf], labels=["calm <5 m/s", "moderate 5-11 m/s", "strong >11 m/s"]), index=index).astype(object)
    if exog is not None and kind == "pv" and "kt" in exog.columns:
        kt = exog["kt"].reindex(index)
        return pd.Series(pd.cut(kt, [-np.inf, 0.4, 0.75, np.inf], labels=["overcast", "broken cloud", "clear"]), index=index).astype(object)
    level = y_norm.reindex(index)
    return pd.Series(pd.cut(level, [-np.inf, 0.1, 0.5, np.inf], labels=["output <10 %", "output 10-50 %", "output >50 %"]), index=index).astype(object)
