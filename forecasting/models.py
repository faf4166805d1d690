"""Forecast models: persistence, climatology, Prophet and XGBoost quantile regression.

Every model follows the same two calls on a :class:`~forecasting.context.ForecastContext`:

* ``fit(ctx, train_end)`` learns from grid positions ``[0, train_end)`` only;
* ``predict(ctx, origins, horizons)`` returns an ``(n, 3)`` array of p10/p50/p90 for the pairs
  (target position ``origins + horizons``) on the normalised scale (1.0 = capacity).

``use_weather=False`` drops the weather columns (clear-sky, calendar and lags stay: they are
known in advance without any weather forecast).
"""
from __future__ import annotations

import logging
import warnings
from abc import ABC, abstractmethod

import numpy as np
import pandas as pd

from forecasting.context import ForecastContext
from forecasting.errors import ForecastInputError
from forecasting.features import PowerCurve
from forecasting.series import check_trainable

QUANTILES = (0.1, 0.5, 0.9)
MODEL_NAMES = ("persistence", "climatology", "prophet", "xgboost")


class Forecaster(ABC):
    """Base class; subclasses set ``name`` and implement ``fit``/``predict``."""

    name = "base"

    def __init__(self, use_weather: bool = True) -> None:
        self.use_weather = use_weather
        self.lo = 0.0
        self.hi = 1.0
        self.feature_names: list[str] = []

    def _bounds(self, ctx: ForecastContext, train_end: int) -> None:
        check_trainable(pd.Series(ctx.y[:train_end]), min_intervals=max(3 * ctx.spd, ctx.max_horizon + 2 * ctx.spd))
        train = ctx.y[:train_end]
        self.lo = float(min(0.0, np.nanmin(train)))
        self.hi = float(max(1.0, np.nanmax(train)))

    def _finish(self, ctx: ForecastContext, q: np.ndarray, targets: np.ndarray) -> np.ndarray:
        q = np.sort(np.clip(q, self.lo, self.hi), axis=1)
        q[ctx.pv_night(targets)] = 0.0
        return q

    @abstractmethod
    def fit(self, ctx: ForecastContext, train_end: int) -> Forecaster:
        """Learn from positions before ``train_end``; return self."""

    @abstractmethod
    def predict(self, ctx: ForecastContext, origins: np.ndarray, horizons: np.ndarray) -> np.ndarray:
        """Return p10/p50/p90 (normalised) for each (origin, horizon) pair."""


class Persistence(Forecaster):
    """Persistence with empirical bands, per horizon the better of two classic variants.

    For each horizon the variant with the lower training MAE is used: the last value, or the
    latest value at the same time of day (the "24 h persistence" used for PV day-ahead).
    p10/p90 add the training errors' quantiles for that horizon and variant. A missing value is
    replaced by the latest value within a day before it, else by the training mean. This is the
    reference the skill scores are measured against, so it is made as strong as it fairly can be.
    """

    name = "persistence"

    def fit(self, ctx: ForecastContext, train_end: int) -> Persistence:
        """Choose a variant and error quantiles per horizon from the training window."""
        self._bounds(ctx, train_end)
        self.mean = float(np.nanmean(ctx.y[:train_end]))
        rng = np.random.default_rng(0)
        lo = ctx.spd * 2
        origins = np.arange(lo, train_end - 1)
        if len(origins) > 20_000:
            origins = np.sort(rng.choice(origins, 20_000, replace=False))
        self.choice = np.zeros(ctx.max_horizon + 1, dtype=int)
        self.err_q = np.zeros((ctx.max_horizon + 1, 2, 2))
        for h in range(1, ctx.max_horizon + 1):
            o = origins[origins + h < train_end]
            truth = ctx.y[o + h]
            cands = self._variants(ctx, o, np.full(len(o), h))
            maes = []
            for v, pred in enumerate(cands):
                err = truth - pred
                ok = np.isfinite(err)
                maes.append(np.mean(np.abs(err[ok])) if ok.any() else np.inf)
                self.err_q[h, v] = np.quantile(err[ok], [0.1, 0.9]) if ok.any() else (0.0, 0.0)
            self.choice[h] = int(np.argmin(maes))
        self.feature_names = ["last", "same_tod"]
        return self

    def _variants(self, ctx: ForecastContext, origins: np.ndarray, horizons: np.ndarray) -> list[np.ndarray]:
        lag = ctx.lags.features(origins, horizons)
        recent = np.where(origins >= 0, ctx.lags.y_recent[np.maximum(origins, 0)], np.nan)
        last = np.where(np.isfinite(recent), recent, self.mean)
        same = np.where(np.isfinite(lag["same_tod"]), lag["same_tod"], last)
        return [last, same]

    def predict(self, ctx: ForecastContext, origins: np.ndarray, horizons: np.ndarray) -> np.ndarray:
        """Return persistence p10/p50/p90 for the pairs."""
        h = np.minimum(horizons, ctx.max_horizon)
        cands = self._variants(ctx, origins, horizons)
        choice = self.choice[h]
        point = np.where(choice == 0, cands[0], cands[1])
        eq = self.err_q[h, choice]
        q = np.column_stack([point + eq[:, 0], point, point + eq[:, 1]])
        return self._finish(ctx, q, origins + horizons)


class Climatology(Forecaster):
    """Quantiles of the training values by month and time of day (no lags, no weather)."""

    name = "climatology"

    def fit(self, ctx: ForecastContext, train_end: int) -> Climatology:
        """Tabulate p10/p50/p90 per (month, slot of day) over the training window."""
        self._bounds(ctx, train_end)
        idx = ctx.index[:train_end]
        frame = pd.DataFrame({"m": idx.month, "s": self._slot(ctx, np.arange(train_end)), "y": ctx.y[:train_end]}).dropna()
        self.table = frame.groupby(["m", "s"])["y"].quantile(list(QUANTILES)).unstack()
        self.by_slot = frame.groupby("s")["y"].quantile(list(QUANTILES)).unstack()
        self.overall = np.nanquantile(frame["y"], QUANTILES)
        return self

    @staticmethod
    def _slot(ctx: ForecastContext, pos: np.ndarray) -> np.ndarray:
        t = ctx.index[pos]
        return np.asarray((t.hour * 3600 + t.minute * 60 + t.second) // int(ctx.freq.total_seconds()))

    def predict(self, ctx: ForecastContext, origins: np.ndarray, horizons: np.ndarray) -> np.ndarray:
        """Return the tabulated quantiles for each target's month and slot."""
        targets = origins + horizons
        keys = pd.MultiIndex.from_arrays([ctx.index[targets].month, self._slot(ctx, targets)])
        q = self.table.reindex(keys).to_numpy(dtype=float, copy=True)
        missing = ~np.isfinite(q).all(axis=1)
        if missing.any():
            q[missing] = self.by_slot.reindex(self._slot(ctx, targets[missing])).to_numpy()
            still = ~np.isfinite(q).all(axis=1)
            q[still] = self.overall
        return self._finish(ctx, q, targets)


def _weather_block(ctx: ForecastContext, targets: np.ndarray, use_weather: bool, curve: PowerCurve | None) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {}
    if ctx.clearsky is not None:
        for name in ctx.clearsky.columns:
            cols[name] = ctx.clearsky[name].to_numpy()[targets]
    if use_weather:
        for name in ctx.weather_columns:
            cols["wx_" + name] = ctx.exog[name].to_numpy()[targets]
        if curve is not None:
            cols["power_curve"] = curve(ctx.exog[ctx.site.wind_speed_col].to_numpy()[targets])
        irr = ctx.site.irradiance_col
        if ctx.site.kind == "pv" and irr and ctx.clearsky is not None:
            if irr not in ctx.exog.columns:
                raise ForecastInputError(f"irradiance column {irr!r} is not among the weather columns {ctx.weather_columns}")
            cs = ctx.clearsky["cs_ghi"].to_numpy()[targets]
            kt = np.clip(np.where(cs > 10.0, ctx.exog[irr].to_numpy()[targets] / np.maximum(cs, 10.0), 0.0), 0.0, 1.3)
            cols["clearsky_index"] = kt
            cols["poa_est"] = kt * cols.get("cs_poa", cs)
    return cols


def _fit_curve(ctx: ForecastContext, train_end: int, use_weather: bool) -> PowerCurve | None:
    col = ctx.site.wind_speed_col
    if not use_weather or ctx.site.kind != "wind" or not col:
        return None
    if col not in ctx.exog.columns:
        raise ForecastInputError(f"wind speed column {col!r} is not among the weather columns {ctx.weather_columns}")
    if ctx.site.power_curve:
        return PowerCurve.from_points(ctx.site.power_curve)
    return PowerCurve.fit(ctx.exog[col].to_numpy()[:train_end], ctx.y[:train_end])


class XGBoostQuantile(Forecaster):
    """Gradient-boosted trees with the quantile objective (p10, p50, p90 in one booster).

    Features per (origin, horizon) pair: horizon, calendar of the target, lag summaries known at
    the origin, pvlib clear-sky output, weather at the target (a forecast when live; observed
    reanalysis in the "perfect weather" benchmark) and the power-curve output for wind.

    The trees learn the departure from a per-horizon damped persistence
    (``mean + phi_h * (last - mean)``, ``phi_h`` fitted by least squares), which keeps the
    shortest horizons as good as persistence. Training uses up to ``max_rows`` pairs sampled from
    the window; every ``calib_every``-th week of targets is held out to measure how often the
    p10-p90 band misses (split conformal), and each half-band is scaled, per lead-time group
    (<= 6 h, <= 12 h, <= 24 h, longer), so that each tail holds 10 % of the held-out values.
    For PV with an irradiance column, the clear-sky index and an estimated plane-of-array
    irradiance (clear-sky index x pvlib clear-sky POA) are added as physical features.
    """

    name = "xgboost"

    def __init__(
        self,
        use_weather: bool = True,
        *,
        n_estimators: int = 120,
        learning_rate: float = 0.1,
        max_depth: int = 5,
        max_bin: int = 64,
        max_rows: int = 12_000,
        calib_every: int = 5,
        n_jobs: int = 1,
        seed: int = 0,
    ) -> None:
        super().__init__(use_weather)
        self.params = dict(
            n_estimators=n_estimators, learning_rate=learning_rate, max_depth=max_depth, max_bin=max_bin,
            subsample=0.8, colsample_bytree=0.9, min_child_weight=4, tree_method="hist",
            n_jobs=n_jobs, random_state=seed,
        )
        self.max_rows = max_rows
        self.calib_every = calib_every
        self.seed = seed
        self.band_edges = np.array([1 << 30])
        self.band_scale = np.ones((1, 2))
        self.curve: PowerCurve | None = None

    def _design(self, ctx: ForecastContext, origins: np.ndarray, horizons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        targets = origins + horizons
        cols = ctx.lags.features(origins, horizons)
        last = np.where(np.isfinite(cols["last"]), cols["last"], self.mean)
        base = self.mean + self.phi[np.minimum(horizons, ctx.max_horizon)] * (last - self.mean)
        for name, values in ctx.calendar.items():
            cols[name] = values[targets]
        cols.update(_weather_block(ctx, targets, self.use_weather, self.curve))
        self.feature_names = list(cols)
        return np.column_stack([cols[k] for k in self.feature_names]).astype(np.float32), base

    def _pairs(self, ctx: ForecastContext, start: int, end: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        o = rng.integers(start, end - 1, size=int(n * 1.3))
        # half of the pairs uniform over horizons, half log-uniform (more short horizons)
        uniform = rng.integers(1, ctx.max_horizon + 1, size=len(o))
        logu = np.floor(np.exp(rng.uniform(0, np.log(ctx.max_horizon + 1), size=len(o)))).astype(int)
        h = np.where(rng.random(len(o)) < 0.5, uniform, np.clip(logu, 1, ctx.max_horizon))
        keep = (o + h < end) & np.isfinite(ctx.y[np.minimum(o + h, ctx.n - 1)])
        return o[keep][:n], h[keep][:n]

    def _fit_phi(self, ctx: ForecastContext, o: np.ndarray, h: np.ndarray) -> None:
        last = ctx.y[o]
        truth = ctx.y[o + h]
        self.phi = np.zeros(ctx.max_horizon + 1)
        for step in range(1, ctx.max_horizon + 1):
            sel = (h == step) & np.isfinite(last)
            if sel.sum() < 10:
                continue
            x, t = last[sel] - self.mean, truth[sel] - self.mean
            denom = float(np.dot(x, x))
            self.phi[step] = float(np.clip(np.dot(x, t) / denom, 0.0, 1.0)) if denom > 0 else 0.0

    def fit(self, ctx: ForecastContext, train_end: int) -> XGBoostQuantile:
        """Fit on sampled pairs from the window and calibrate the band on held-out weeks."""
        import xgboost as xgb

        self._bounds(ctx, train_end)
        rng = np.random.default_rng(self.seed)
        self.curve = _fit_curve(ctx, train_end, self.use_weather)
        self.mean = float(np.nanmean(ctx.y[:train_end]))
        start = min(ctx.spd * 2, train_end // 4)
        o, h = self._pairs(ctx, start, train_end, self.max_rows, rng)
        if len(o) < 50:
            raise ForecastInputError(f"too little history: only {len(o)} usable training pairs")
        self._fit_phi(ctx, o, h)
        X, base = self._design(ctx, o, h)
        resid = ctx.y[o + h] - base
        week = (o + h) // (7 * ctx.spd)
        held = (week % self.calib_every == self.calib_every - 1) if self.calib_every else np.zeros(len(o), bool)
        if held.sum() < 100 or (~held).sum() < 200:
            held[:] = False
        model = xgb.XGBRegressor(objective="reg:quantileerror", quantile_alpha=np.array(QUANTILES), **self.params)
        model.fit(X[~held], resid[~held])
        self.model = model
        self.band_edges = np.array([ctx.spd // 4, ctx.spd // 2, ctx.spd, ctx.max_horizon + 1])
        self.band_scale = np.ones((len(self.band_edges), 2))
        if held.any():
            q = np.sort(model.predict(X[held]), axis=1)
            group = np.searchsorted(self.band_edges, h[held], side="left")
            overall = _band_scale(q, resid[held])
            for g in range(len(self.band_edges)):
                sel = group == g
                self.band_scale[g] = _band_scale(q[sel], resid[held][sel]) if sel.sum() >= 200 else overall
        return self

    def design(self, ctx: ForecastContext, origins: np.ndarray, horizons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (feature rows, damped-persistence base) for the pairs: what a served copy of the booster takes."""
        return self._design(ctx, origins, horizons)

    def predict(self, ctx: ForecastContext, origins: np.ndarray, horizons: np.ndarray) -> np.ndarray:
        """Return calibrated p10/p50/p90 for the pairs."""
        X, base = self._design(ctx, origins, horizons)
        return self.finish_raw(ctx, self.model.predict(X), base, origins, horizons)

    def finish_raw(self, ctx: ForecastContext, raw: np.ndarray, base: np.ndarray, origins: np.ndarray,
                   horizons: np.ndarray) -> np.ndarray:
        """Return final p10/p50/p90 from raw booster quantiles (local or remote); a p50-only reply gives a zero-width band."""
        q = np.array(raw, dtype=float)
        if np.isnan(q[:, [0, 2]]).all():
            q = np.column_stack([q[:, 1], q[:, 1], q[:, 1]])
            return self._finish(ctx, q + base[:, None], origins + horizons)
        q = np.sort(q, axis=1)
        scale = self.band_scale[np.minimum(np.searchsorted(self.band_edges, horizons, side="left"), len(self.band_edges) - 1)]
        q[:, 0] = q[:, 1] - (q[:, 1] - q[:, 0]) * scale[:, 0]
        q[:, 2] = q[:, 1] + (q[:, 2] - q[:, 1]) * scale[:, 1]
        return self._finish(ctx, q + base[:, None], origins + horizons)


def _band_scale(q: np.ndarray, truth: np.ndarray, target: float = 0.1) -> tuple[float, float]:
    """Return factors for the lower/upper half-band so that each tail holds ``target`` of the held-out values."""
    ok = np.isfinite(truth)
    q, truth = q[ok], truth[ok]
    scales = []
    for side, col in ((-1, 0), (1, 2)):
        width = np.abs(q[:, col] - q[:, 1])
        excess = side * (truth - q[:, 1])
        usable = width > 1e-4
        ratio = np.where(usable, excess / np.maximum(width, 1e-4), np.where(excess > 1e-4, np.inf, 0.0))
        s = float(np.quantile(ratio, 1 - target)) if len(ratio) else 1.0
        scales.append(float(np.clip(s, 0.5, 3.0)) if np.isfinite(s) else 3.0)
    return scales[0], scales[1]


class ProphetModel(Forecaster):
    """Prophet with daily and yearly seasonality and weather regressors; p10/p90 from its 80 % interval.

    Regressors: pvlib clear-sky columns (when the site has coordinates) and, with weather, the
    weather columns plus the power-curve output for wind. The trend is flat: the target is
    already normalised by (possibly growing) capacity, and a linear trend extrapolated over a
    test year drifts far off. Prophet uses no lags, so its forecast for a target does not depend
    on the origin.
    """

    name = "prophet"

    def __init__(self, use_weather: bool = True, *, uncertainty_samples: int = 100, changepoint_prior_scale: float = 0.01) -> None:
        super().__init__(use_weather)
        self.uncertainty_samples = uncertainty_samples
        self.changepoint_prior_scale = changepoint_prior_scale

    def _frame(self, ctx: ForecastContext, pos: np.ndarray) -> pd.DataFrame:
        frame = pd.DataFrame({"ds": ctx.index[pos].tz_convert(None)})
        cols = _weather_block(ctx, pos, self.use_weather, self.curve)
        cols.pop("sun_elev", None)
        for name, values in cols.items():
            frame[name] = values
        self.feature_names = list(cols)
        return frame

    def fit(self, ctx: ForecastContext, train_end: int) -> ProphetModel:
        """Fit Prophet on the training window (MAP estimate)."""
        from prophet import Prophet

        logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
        logging.getLogger("prophet").setLevel(logging.ERROR)
        self._bounds(ctx, train_end)
        self.curve = _fit_curve(ctx, train_end, self.use_weather)
        pos = np.arange(train_end)
        frame = self._frame(ctx, pos)
        frame["y"] = ctx.y[pos]
        frame = frame.dropna(subset=["y"])
        model = Prophet(
            growth="flat", daily_seasonality=ctx.spd > 1, weekly_seasonality=False,
            yearly_seasonality=(train_end / ctx.spd) > 300,
            changepoint_prior_scale=self.changepoint_prior_scale,
            interval_width=0.8, uncertainty_samples=self.uncertainty_samples,
        )
        for name in self.feature_names:
            if frame[name].std() > 0:
                model.add_regressor(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(frame)
        self.model = model
        return self

    def predict(self, ctx: ForecastContext, origins: np.ndarray, horizons: np.ndarray) -> np.ndarray:
        """Return Prophet's yhat_lower/yhat/yhat_upper for the targets of the pairs."""
        targets = origins + horizons
        unique, inverse = np.unique(targets, return_inverse=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = self.model.predict(self._frame(ctx, unique))
        cols = ["yhat_lower", "yhat", "yhat_upper"] if self.uncertainty_samples else ["yhat", "yhat", "yhat"]
        q = out[cols].to_numpy()[inverse]
        return self._finish(ctx, q, targets)


def make_model(name: str, use_weather: bool = True, **options) -> Forecaster:
    """Return a new, unfitted model by name (one of :data:`MODEL_NAMES`)."""
    classes = {"persistence": Persistence, "climatology": Climatology, "prophet": ProphetModel, "xgboost": XGBoostQuantile}
    if name not in classes:
        raise ForecastInputError(f"unknown model {name!r}; choose from {list(classes)}")
    return classes[name](use_weather=use_weather, **options)
