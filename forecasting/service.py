"""Train, register and issue forecasts for the sites in the store; scheduled retraining.

:func:`train_site` fits a model on a site's hourly history (telemetry rollups) and weather
observations, scores it by a rolling-origin backtest on the last 20 % of the window, and
registers the version. :func:`issue_forecast` loads the active version, predicts the next
``horizon`` hours (through the remote model server when one is configured for the model, with
local fallback) and writes ``generation_forecasts`` rows tagged with the ``model_version_id``.
:func:`retrain_all` does both for every generating site; :func:`schedule_retraining` registers
it with an APScheduler scheduler.

Bands are recalibrated online (:mod:`forecasting.calibration`, adaptive conformal inference):
each issue first scores the stored forecasts whose targets have been measured since the last
issue against their published p10-p90 band, updates the band multiplier kept in the active
version's ``metrics["online_band"]`` (carried over to the next version on retraining), then
publishes the new forecast with it.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd

from data.db import Database
from data.forecast_queries import forecasts_frame, site_history, site_weather, write_forecast
from data.models import ModelVersion, Site, utcnow
from forecasting.backtest import regime_scores, run_backtest, weather_regimes
from forecasting.calibration import AdaptiveBand, run_weights
from forecasting.context import ForecastContext
from forecasting.errors import ForecastInputError
from forecasting.features import SiteContext
from forecasting.models import make_model
from forecasting.registry import active_version, load_model, register_version
from forecasting.remote import client_for, predict_with_fallback

log = logging.getLogger(__name__)

FREQ = pd.Timedelta("1h")
WEATHER_BY_KIND = {"wind": ["wind_speed_ms"], "solar": ["ghi_wm2", "cloud_cover_pct"], "hybrid": ["ghi_wm2", "wind_speed_ms"]}


def site_context(site: Site, weather_columns: list[str]) -> SiteContext:
    """Return the model's view of ``site``: kind, coordinates and which weather column drives what."""
    kind = site.kind.value if hasattr(site.kind, "value") else str(site.kind)
    model_kind = {"solar": "pv", "wind": "wind"}.get(kind, "generic")
    has_coords = site.latitude is not None and site.longitude is not None
    return SiteContext(
        kind=model_kind,
        latitude=site.latitude if has_coords else None,
        longitude=site.longitude if has_coords else None,
        wind_speed_col="wind_speed_ms" if model_kind == "wind" and "wind_speed_ms" in weather_columns else None,
        irradiance_col="ghi_wm2" if model_kind == "pv" and "ghi_wm2" in weather_columns and has_coords else None,
    )


def _usable_weather(site: Site, observed: pd.DataFrame, forecast: pd.DataFrame) -> list[str]:
    kind = site.kind.value if hasattr(site.kind, "value") else str(site.kind)
    cols = []
    for col in WEATHER_BY_KIND.get(kind, []):
        if col in observed.columns and col in forecast.columns and observed[col].notna().mean() >= 0.8 \
                and forecast[col].notna().mean() >= 0.8:
            cols.append(col)
    return cols


def train_site(db: Database, site_id: str, model_name: str = "xgboost", *, now: dt.datetime | None = None,
               history_days: int = 365, horizon: int = 48) -> int:
    """Fit, backtest and register ``model_name`` for ``site_id``; return the new model_versions id.

    Weather features are used only when the site has both observations over the window and a
    forecast for the coming ``horizon`` hours (otherwise the model is trained without weather).
    Raises ForecastInputError when the history is missing, too short or constant.
    """
    now = pd.Timestamp(now or utcnow()).floor("h")
    start = now - pd.Timedelta(days=history_days)
    with db.session() as session:
        site = session.get(Site, site_id)
        if site is None:
            raise ForecastInputError(f"unknown site {site_id!r}")
        y = site_history(session, site_id, start, now)
        observed = site_weather(session, site_id, start, now)
        future = site_weather(session, site_id, now, now + horizon * FREQ, kind="forecast")
        cols = _usable_weather(site, observed, future)
        ctx_site = site_context(site, cols)
        capacity = float(site.capacity_mw)
    first = y.first_valid_index()
    if first is None:
        raise ForecastInputError(f"site {site_id!r} has no output history in the last {history_days} days")
    y = y[first:]
    exog = observed[cols].loc[first:] if cols else None
    result = run_backtest(y, freq=FREQ, horizon=horizon, exog=exog, capacity=capacity, site=ctx_site,
                          models=[model_name], use_weather=bool(cols), n_folds=1, test_frac=0.2)
    regime_exog = observed.loc[first:].copy() if cols else None
    if regime_exog is not None and ctx_site.irradiance_col and ctx_site.latitude is not None:
        from forecasting.features import clearsky_features

        cs = clearsky_features(regime_exog.index, FREQ, ctx_site)["cs_ghi"]
        regime_exog["kt"] = (regime_exog["ghi_wm2"] / cs.where(cs > 50)).clip(0, 1.3)
    regimes = weather_regimes(y.index, ctx_site.kind, regime_exog, y / capacity)
    per_h = result.per_horizon[result.per_horizon["model"] == model_name]
    metrics = {"backtest": {b: result.summary[model_name][b] for b in result.summary[model_name]},
               "per_horizon": per_h[["h", "lead_h", "n", "nmae", "bias", "skill_rmse", "coverage_p10_p90"]].to_dict("records"),
               "by_regime": {r: m[model_name] for r, m in regime_scores(result.predictions, ["persistence", model_name], regimes).items()},
               "backtest_folds": result.folds,
               "weather_columns": cols if model_name in ("xgboost", "prophet") else []}
    ctx = ForecastContext.build(y, freq=FREQ, max_horizon=horizon, capacity=capacity, exog=exog, site=ctx_site)
    model = make_model(model_name, use_weather=bool(cols)).fit(ctx, len(y))
    from core.settings import get_settings

    serving = get_settings().forecast_serving.get(model_name, "local")
    with db.session() as session:
        previous = active_version(session, site_id, model_name)
        if previous is not None and (previous.metrics or {}).get("online_band"):
            metrics["online_band"] = previous.metrics["online_band"]
        row = register_version(
            session, site_id=site_id, model=model, train_start=y.index[0].to_pydatetime(),
            train_end=(y.index[-1] + FREQ).to_pydatetime(), features=model.feature_names, metrics=metrics,
            serving=serving,
        )
        return int(row.id)


def issue_forecast(db: Database, site_id: str, model_name: str = "xgboost", *, now: dt.datetime | None = None,
                   horizon: int = 48, settings: Any = None, transport: Any = None) -> dict[str, Any]:
    """Forecast the next ``horizon`` hours with the active version and store them; return a summary.

    The summary holds ``rows`` written, ``model_version_id``, ``issued_at``, ``source``
    ("local", "remote" or "local-fallback: <reason>") and ``band_scale`` (the online band
    multiplier per lead-time group, see :mod:`forecasting.calibration`).
    """
    from core.settings import get_settings

    settings = settings or get_settings()
    now = pd.Timestamp(now or utcnow()).floor("h")
    with db.session() as session:
        version: ModelVersion | None = active_version(session, site_id, model_name)
        if version is None:
            raise ForecastInputError(f"no trained {model_name} model for site {site_id!r}; train it first")
        site = session.get(Site, site_id)
        model = load_model(version.artifact)
        cols = list((version.metrics or {}).get("weather_columns") or [])
        start = now - pd.Timedelta(days=30)
        y = site_history(session, site_id, start, now)
        exog = None
        if cols and model.use_weather:
            past = site_weather(session, site_id, start, now)
            future = site_weather(session, site_id, now, now + horizon * FREQ, kind="forecast")
            missing = [c for c in cols if c not in future.columns or future[c].notna().mean() < 0.8]
            if missing:
                raise ForecastInputError(f"site {site_id!r}: no weather forecast for {missing} over the next {horizon} h")
            exog = pd.concat([past.reindex(columns=cols), future[cols]]).sort_index()
        ctx_site = site_context(site, cols)
        capacity = float(site.capacity_mw)
        version_id, serving = int(version.id), version.serving
        band_state = dict((version.metrics or {}).get("online_band") or {})
        absorbed = pd.Timestamp(band_state["absorbed_until"]) if "absorbed_until" in band_state else start
        issued_at = y.index[-1] + FREQ
        since = max(absorbed, start)
        stored = forecasts_frame(session, [site_id], since - horizon * FREQ, issued_at + horizon * FREQ, model_name,
                                 latest_only=False)
    band = AdaptiveBand.from_state(band_state)
    learn_band(band, stored, y, since, issued_at)
    ctx = ForecastContext.build(y, freq=FREQ, max_horizon=horizon, capacity=capacity, exog=exog, site=ctx_site,
                                future_steps=horizon)
    origins = np.full(horizon, len(y) - 1)
    horizons = np.arange(1, horizon + 1)
    targets = origins + horizons
    serving = settings.forecast_serving.get(model_name, serving)
    source = "local"
    if serving != "local" and hasattr(model, "design"):
        X, base = model.design(ctx, origins, horizons)
        remote = client_for(serving, model_name, settings, transport=transport)
        raw, source = predict_with_fallback(remote, X, lambda: model.model.predict(X))
        q = model.finish_raw(ctx, raw, base, origins, horizons)
    else:
        q = model.predict(ctx, origins, horizons)
    q = np.clip(band.apply(q, horizons * FREQ / pd.Timedelta("1h")), model.lo, model.hi)
    q_mw = ctx.denormalise(q, targets)
    with db.session() as session:
        rows = write_forecast(session, site_id=site_id, model_name=model_name, issued_at=issued_at.to_pydatetime(),
                              targets=ctx.index[targets], quantiles_mw=q_mw, freq=FREQ, model_version_id=version_id)
        row = session.get(ModelVersion, version_id)
        row.metrics = {**(row.metrics or {}), "online_band": {**band.state(), "absorbed_until": issued_at.isoformat()}}
    return {"rows": rows, "model_version_id": version_id, "issued_at": issued_at.isoformat(), "source": source,
            "band_scale": band.state()["scale"]}


def learn_band(band: AdaptiveBand, published: pd.DataFrame, actual_mw: pd.Series, since: pd.Timestamp,
               until: pd.Timestamp) -> int:
    """Update ``band`` from the stored forecasts whose target starts in [since, until); return the rows used.

    ``published`` holds ``forecasts_frame`` rows covering whole runs (their weights count every
    row of a run); each row counts against the p10-p90 band it was published with. Rows without
    a band or without a measured actual in ``actual_mw`` [MW] are skipped.
    """
    frame = published.dropna(subset=["p10_mw", "p90_mw"])
    if frame.empty:
        return 0
    lead_h = frame["horizon_min"].to_numpy(dtype=float) / 60.0
    run_h = (frame["issued_at"] - pd.Timestamp("2000-01-01", tz="UTC")).dt.total_seconds().to_numpy() / 3600.0
    weight = run_weights(band, run_h, lead_h)
    sel = ((frame["target_start"] >= since) & (frame["target_start"] < until)).to_numpy()
    actual = actual_mw.reindex(pd.DatetimeIndex(frame["target_start"][sel])).to_numpy(dtype=float)
    before = band.updates
    band.update(frame[["p10_mw", "p50_mw", "p90_mw"]].to_numpy(dtype=float)[sel], actual, lead_h[sel], weight[sel])
    return band.updates - before


def retrain_all(db: Database, models: tuple[str, ...] = ("xgboost",), *, now: dt.datetime | None = None,
                site_ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Retrain and re-issue forecasts for every generating site; return per-site outcomes.

    One site's bad data never stops the others: its error message is recorded in the result
    and logged as a warning.
    """
    from data.forecast_queries import forecast_sites

    with db.session() as session:
        ids = site_ids or [s["id"] for s in forecast_sites(session, None)]
    out: dict[str, dict[str, Any]] = {}
    for site_id in ids:
        for name in models:
            key = f"{site_id}/{name}"
            try:
                version_id = train_site(db, site_id, name, now=now)
                out[key] = {"model_version_id": version_id, **issue_forecast(db, site_id, name, now=now)}
            except ForecastInputError as exc:
                log.warning("forecast %s skipped: %s", key, exc)
                out[key] = {"error": str(exc)}
    return out


def schedule_retraining(scheduler: Any, db: Database, every_hours: float | None = None,
                        models: tuple[str, ...] = ("xgboost",)) -> Any:
    """Add (or replace) the periodic retraining job on an APScheduler scheduler; return the job."""
    from core.settings import get_settings

    hours = every_hours or get_settings().forecast_retrain_hours
    return scheduler.add_job(retrain_all, "interval", hours=hours, args=[db], kwargs={"models": models},
                             id="forecast-retrain", replace_existing=True, coalesce=True, max_instances=1)
