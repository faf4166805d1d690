"""Reads and writes for forecasting: site history and weather as pandas, forecasts, scorecards.

All times are tz-aware UTC, labelled by interval start. Power is MW at site level.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from data.models import Event, GenerationForecast, ModelVersion, Site, WeatherAlert, WeatherRecord
from data.telemetry_queries import site_power_series

WEATHER_COLUMNS = ("temperature_c", "cloud_cover_pct", "wind_speed_ms", "wind_direction_deg", "ghi_wm2",
                   "precipitation_mm", "pressure_hpa")


def site_history(session: Session, site_id: str, start: dt.datetime, end: dt.datetime, freq: str = "1h") -> pd.Series:
    """Return the site's output [MW] on a regular ``freq`` grid over [start, end) (NaN where missing)."""
    frame = site_power_series(session, site_id, start, end, "1h" if freq == "1h" else "15min").to_pandas()
    grid = pd.date_range(pd.Timestamp(start).floor(freq), pd.Timestamp(end), freq=freq, inclusive="left")
    if frame.empty:
        return pd.Series(np.nan, index=grid, name="output_mw")
    series = pd.Series(frame["output_mw"].to_numpy(), index=pd.DatetimeIndex(frame["ts"]).tz_convert("UTC"))
    return series.resample(freq).mean().reindex(grid).rename("output_mw")


def site_weather(session: Session, site_id: str, start: dt.datetime, end: dt.datetime, *,
                 kind: str = "observation", freq: str = "1h") -> pd.DataFrame:
    """Return weather [unit in column name] on a ``freq`` grid; forecasts keep the latest issue per ts."""
    rows = session.execute(
        select(WeatherRecord.ts, WeatherRecord.issued_at, *[getattr(WeatherRecord, c) for c in WEATHER_COLUMNS])
        .where(WeatherRecord.site_id == site_id, WeatherRecord.kind == kind,
               WeatherRecord.ts >= start, WeatherRecord.ts < end)
        .order_by(WeatherRecord.ts, WeatherRecord.issued_at)
    ).all()
    grid = pd.date_range(pd.Timestamp(start).floor(freq), pd.Timestamp(end), freq=freq, inclusive="left")
    if not rows:
        return pd.DataFrame(index=grid)
    frame = pd.DataFrame(rows, columns=["ts", "issued_at", *WEATHER_COLUMNS])
    frame = frame.drop_duplicates("ts", keep="last").set_index("ts").drop(columns="issued_at")
    frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC")
    frame = frame.astype(float).dropna(axis=1, how="all")
    return frame.resample(freq).mean().reindex(grid)


def write_forecast(session: Session, *, site_id: str, model_name: str, issued_at: dt.datetime,
                   targets: pd.DatetimeIndex, quantiles_mw: np.ndarray, freq: pd.Timedelta,
                   model_version_id: int | None) -> int:
    """Store one issued forecast (p10/p50/p90 MW per target interval start); return rows written.

    Re-issuing the same (site, model, issued_at) replaces the earlier rows. ``horizon_min`` is
    minutes from issue to the end of the target interval.
    """
    session.execute(delete(GenerationForecast).where(
        GenerationForecast.site_id == site_id, GenerationForecast.model_name == model_name,
        GenerationForecast.issued_at == issued_at))
    rows = []
    for ts, (p10, p50, p90) in zip(targets, quantiles_mw, strict=False):
        if not np.isfinite(p50):
            continue
        lead = (ts + freq - pd.Timestamp(issued_at)).total_seconds() / 60
        rows.append(GenerationForecast(
            site_id=site_id, model_name=model_name, issued_at=issued_at, target_start=ts.to_pydatetime(),
            horizon_min=int(round(lead)), p10_mw=float(p10) if np.isfinite(p10) else None, p50_mw=float(p50),
            p90_mw=float(p90) if np.isfinite(p90) else None, model_version_id=model_version_id))
    session.add_all(rows)
    return len(rows)


def forecasts_frame(session: Session, site_ids: list[str] | None, start: dt.datetime, end: dt.datetime,
                    model_name: str | None = None, latest_only: bool = True) -> pd.DataFrame:
    """Return forecasts for target intervals in [start, end) with their model version.

    Columns: site_id, model_name, issued_at, target_start, horizon_min, p10_mw, p50_mw, p90_mw,
    model_version_id, version. With ``latest_only`` each (site, model, target) keeps its latest issue.
    """
    query = (
        select(GenerationForecast.site_id, GenerationForecast.model_name, GenerationForecast.issued_at,
               GenerationForecast.target_start, GenerationForecast.horizon_min, GenerationForecast.p10_mw,
               GenerationForecast.p50_mw, GenerationForecast.p90_mw, GenerationForecast.model_version_id,
               ModelVersion.version)
        .join(ModelVersion, ModelVersion.id == GenerationForecast.model_version_id, isouter=True)
        .where(GenerationForecast.target_start >= start, GenerationForecast.target_start < end)
    )
    if site_ids:
        query = query.where(GenerationForecast.site_id.in_(site_ids))
    if model_name:
        query = query.where(GenerationForecast.model_name == model_name)
    cols = ["site_id", "model_name", "issued_at", "target_start", "horizon_min", "p10_mw", "p50_mw", "p90_mw",
            "model_version_id", "version"]
    frame = pd.DataFrame(session.execute(query).all(), columns=cols)
    if frame.empty:
        return frame
    frame["issued_at"] = pd.to_datetime(frame["issued_at"], utc=True)
    frame["target_start"] = pd.to_datetime(frame["target_start"], utc=True)
    if latest_only:
        frame = frame.sort_values("issued_at").drop_duplicates(["site_id", "model_name", "target_start"], keep="last")
    return frame.sort_values(["site_id", "model_name", "target_start"]).reset_index(drop=True)


def forecast_sites(session: Session, visible: frozenset[str] | set[str] | None) -> list[dict]:
    """Return the generating sites (id, name, kind, capacity_mw, lat/lon) that can be forecast, by name.

    ``visible`` (required, so a caller's scope cannot be forgotten; None: every site) limits them.
    """
    stmt = (select(Site.id, Site.name, Site.kind, Site.capacity_mw, Site.latitude, Site.longitude)
            .where(Site.kind.in_(["solar", "wind", "hybrid"])).order_by(Site.name))
    if visible is not None:
        stmt = stmt.where(Site.id.in_(sorted(visible)))
    rows = session.execute(stmt).all()
    return [dict(r._mapping) | {"kind": r.kind.value if hasattr(r.kind, "value") else r.kind} for r in rows]


def weather_alerts_frame(session: Session, site_ids: list[str] | None, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Return severe-weather alerts overlapping [start, end): site_id, event, severity, headline, onset, ends."""
    query = select(WeatherAlert.site_id, WeatherAlert.event, WeatherAlert.severity, WeatherAlert.headline,
                   WeatherAlert.onset, WeatherAlert.ends).where(
        (WeatherAlert.onset < end) | WeatherAlert.onset.is_(None),
        (WeatherAlert.ends >= start) | WeatherAlert.ends.is_(None))
    if site_ids:
        query = query.where(WeatherAlert.site_id.in_(site_ids))
    return pd.DataFrame(session.execute(query).all(), columns=["site_id", "event", "severity", "headline", "onset", "ends"])


def record_event(session: Session, *, kind: str, entity_type: str, entity_id: str, payload: dict,
                 actor: str = "system") -> Event:
    """Append one row to the ``events`` audit log and return it."""
    row = Event(actor=actor, kind=kind, entity_type=entity_type, entity_id=entity_id, payload=payload)
    session.add(row)
    session.flush()
    return row



def latest_output_ts(session: Session, site_id: str) -> dt.datetime | None:
    """Return the start of the latest hourly output bucket stored for the site's assets, or None."""
    from data.models import Asset, TelemetryRollup

    return session.scalar(
        select(func.max(TelemetryRollup.bucket_start))
        .join(Asset, Asset.id == TelemetryRollup.asset_id)
        .where(Asset.site_id == site_id, TelemetryRollup.metric == "power_kw", TelemetryRollup.resolution == "1h")
    )


def site_measured_weather(session: Session, site_id: str, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Return hourly means over the site's assets of measured wind_speed_ms and irradiance_wm2 (columns present only)."""
    from data.models import Asset
    from data.telemetry_queries import asset_series

    ids = [r[0] for r in session.execute(select(Asset.id).where(Asset.site_id == site_id)).all()]
    grid = pd.date_range(pd.Timestamp(start).floor("1h"), pd.Timestamp(end), freq="1h", inclusive="left")
    out = pd.DataFrame(index=grid)
    for metric in ("wind_speed_ms", "irradiance_wm2"):
        frame = asset_series(session, ids, metric, start, end, "1h").to_pandas() if ids else pd.DataFrame()
        if not frame.empty:
            series = frame.groupby("ts")["value"].mean()
            series.index = pd.DatetimeIndex(series.index).tz_convert("UTC")
            out[metric] = series.reindex(grid)
    return out
