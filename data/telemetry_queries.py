"""Read queries for telemetry time series at raw or rolled-up resolution."""
from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.fleet import site_power_filter
from data.models import Asset, Site, TelemetryPoint, TelemetryRollup

RESOLUTIONS = ("raw", "15min", "1h", "1d")


def asset_series(
    session: Session, asset_ids: list[str], metric: str, start: dt.datetime, end: dt.datetime,
    resolution: str = "15min", limit: int = 100_000,
) -> pl.DataFrame:
    """Return a long frame (asset_id, ts, value[, min, max, count]) for [start, end).

    ``raw`` returns the stored points; a rollup resolution returns the bucket mean as ``value``
    labelled by bucket start, with min, max and count of raw points in the bucket.
    """
    if resolution == "raw":
        rows = session.execute(
            select(TelemetryPoint.asset_id, TelemetryPoint.ts, TelemetryPoint.value)
            .where(TelemetryPoint.asset_id.in_(asset_ids), TelemetryPoint.metric == metric,
                   TelemetryPoint.ts >= start, TelemetryPoint.ts < end)
            .order_by(TelemetryPoint.ts, TelemetryPoint.asset_id)
            .limit(limit)
        ).all()
        return pl.DataFrame(
            rows, schema={"asset_id": pl.String, "ts": pl.Datetime(time_zone="UTC"), "value": pl.Float64},
            orient="row",
        )
    if resolution not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution!r}; use one of {', '.join(RESOLUTIONS)}")
    rows = session.execute(
        select(TelemetryRollup.asset_id, TelemetryRollup.bucket_start, TelemetryRollup.sum,
               TelemetryRollup.count, TelemetryRollup.min, TelemetryRollup.max)
        .where(TelemetryRollup.asset_id.in_(asset_ids), TelemetryRollup.metric == metric,
               TelemetryRollup.resolution == resolution,
               TelemetryRollup.bucket_start >= start, TelemetryRollup.bucket_start < end)
        .order_by(TelemetryRollup.bucket_start, TelemetryRollup.asset_id)
        .limit(limit)
    ).all()
    frame = pl.DataFrame(
        rows,
        schema={"asset_id": pl.String, "ts": pl.Datetime(time_zone="UTC"), "sum": pl.Float64,
                "count": pl.Int64, "min": pl.Float64, "max": pl.Float64},
        orient="row",
    )
    return frame.with_columns((pl.col("sum") / pl.col("count")).alias("value")).select(
        "asset_id", "ts", "value", "min", "max", "count"
    )


def site_power_series(
    session: Session, site_id: str, start: dt.datetime, end: dt.datetime, resolution: str = "15min"
) -> pl.DataFrame:
    """Return (ts, output_mw) for a site: the sum over its generating assets of the bucket means."""
    ids = [
        r[0] for r in session.execute(
            select(Asset.id).join(Site, Site.id == Asset.site_id).where(Asset.site_id == site_id, site_power_filter())
        ).all()
    ]
    if not ids:
        return pl.DataFrame(schema={"ts": pl.Datetime(time_zone="UTC"), "output_mw": pl.Float64})
    frame = asset_series(session, ids, "power_kw", start, end, "15min" if resolution == "raw" else resolution)
    return (
        frame.group_by("ts").agg((pl.col("value").sum() / 1000.0).alias("output_mw")).sort("ts")
    )
