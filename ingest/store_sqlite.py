"""SQLite fast path of :mod:`ingest.store`: the same exactly-once semantics, done in bulk.

Why a separate path: on SQLite the per-row Python work of an ORM-level ``INSERT ... RETURNING``
and of per-bucket upserts costs more than the storage itself. Here the batch goes into
``telemetry`` with one ``executemany ... ON CONFLICT DO NOTHING``; when fewer rows went in than
were sent, the new ones are read back by rowid to tell them from the duplicates. The new rows'
15-min aggregates and the energy of their power segments (:mod:`ingest.energy`'s rule) are
computed in polars/numpy, and each rollup resolution is one set-based upsert from them; the
latest values are one ``executemany`` upsert. SQLite serialises writers, so the insert and the
read-back inside the write transaction cannot race with another writer.

Timestamps are written in SQLAlchemy's SQLite storage format (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC)
so the ORM reads them back exactly as it would its own.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy.orm import Session

from ingest.energy import energy_sql, in_order_segments, max_gap_param
from ingest.validation import ValidPoint

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _sqlite_ts(ts: dt.datetime) -> str:
    """Return a UTC datetime as SQLAlchemy stores it in SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    return ts.isoformat(" ", "microseconds")[:26]

# The batch's 15-min aggregates, with the energy of the segments starting in each bucket, are
# computed in polars/numpy (_quarter_aggregates) and loaded into _ingest_q; hours and days are
# grouped from those (a few rows per asset instead of every point), so each resolution is one upsert
# that adds the energy too (a separate UPDATE per resolution cost ~10 ms per 5,000 points).
_ROLLUP_SQL = """
INSERT INTO telemetry_rollups (asset_id, metric, resolution, bucket_start, count, sum, min, max, last_ts, last_value,
                               energy_kwh)
SELECT asset_id, metric, '{res}', {bucket} AS bb, sum(c), sum(s), min(mn), max(mx), max(lt), lv, sum(e)
FROM _ingest_q GROUP BY asset_id, metric, bb
ON CONFLICT (asset_id, metric, resolution, bucket_start) DO UPDATE SET
    count = telemetry_rollups.count + excluded.count,
    sum = telemetry_rollups.sum + excluded.sum,
    min = min(telemetry_rollups.min, excluded.min),
    max = max(telemetry_rollups.max, excluded.max),
    last_value = CASE WHEN excluded.last_ts >= telemetry_rollups.last_ts THEN excluded.last_value
                      ELSE telemetry_rollups.last_value END,
    last_ts = max(telemetry_rollups.last_ts, excluded.last_ts),
    energy_kwh = telemetry_rollups.energy_kwh + excluded.energy_kwh
"""
# bucket of a 15-min bucket string `b`, per resolution (SQLite returns the bare column `lv` from the
# row holding max(lt): the bucket's last value)
_ROLLUP_BUCKET_SQL = {"15min": "b", "1h": "substr(b, 1, 14) || '00:00.000000'", "1d": "substr(b, 1, 11) || '00:00:00.000000'"}

_LATEST_SQL = """
INSERT INTO asset_latest (asset_id, metric, ts, value) VALUES (?, ?, ?, ?)
ON CONFLICT (asset_id, metric) DO UPDATE SET ts = excluded.ts, value = excluded.value
WHERE excluded.ts >= asset_latest.ts
"""
_QUARTERS_DDL = ("CREATE TEMP TABLE IF NOT EXISTS _ingest_q (asset_id TEXT, metric TEXT, b TEXT, c INTEGER, s REAL, "
                 "mn REAL, mx REAL, lt TEXT, lv REAL, e REAL)")


def _latest_rows(batch: pl.DataFrame) -> list[tuple]:
    """Return (asset, metric, stamp, value) of the newest new point per asset and metric."""
    return (batch.group_by("asset_id", "metric")
            .agg(pl.col("stamp").max(), pl.col("value").get(pl.col("ts_us").arg_max()))
            .sort("asset_id", "metric").rows())



_QUARTER_US = 900_000_000
_STAMP_FORMAT = "%Y-%m-%d %H:%M:%S%.6f"


def _stamps_us(points: Sequence[ValidPoint], ts_us: Sequence[int] | None) -> np.ndarray:
    """Return the points' timestamps as epoch microseconds (``ts_us`` when the caller has them)."""
    if ts_us is not None:
        return np.asarray(ts_us, dtype=np.int64)
    one_us = dt.timedelta(microseconds=1)
    return np.fromiter(((p[2] - _EPOCH) // one_us for p in points), dtype=np.int64, count=len(points))


def _sqlite_stamps(ts_us: np.ndarray) -> list[str]:
    """Return epoch-microsecond timestamps as stored strings, in one vectorised step."""
    return pl.from_epoch(pl.Series(ts_us, dtype=pl.Int64), "us").dt.strftime(_STAMP_FORMAT).to_list()


def _in_order_energy(cur: Any, assets: Sequence[str], ts_us: np.ndarray, kw: np.ndarray
                     ) -> tuple[list[tuple[str, int, float]], set[str]]:
    """Return the in-order segments of the new power points (asset, 15-min start in epoch s, kWh)
    and the assets with a late point (:func:`ingest.energy.in_order_segments`).

    Reads each asset's latest stored power point (one probe of ``asset_latest``): call it before
    ``asset_latest`` advances with this batch.
    """
    if not assets:
        return [], set()
    # epoch seconds computed by SQLite: whole seconds + the stored microseconds (exact to the microsecond)
    latest = {
        asset_id: (seconds, value)
        for asset_id, seconds, value in cur.execute(
            "SELECT asset_id, CAST(strftime('%s', ts) AS INTEGER) + CAST(substr(ts, 20) AS REAL), value "
            "FROM asset_latest WHERE metric = 'power_kw' AND asset_id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(dict.fromkeys(assets))),))
    }
    return in_order_segments(assets, ts_us / 1e6, kw, latest, max_gap_param()["max_gap"])


def _quarter_aggregates(batch: pl.DataFrame, segments: list[tuple[str, int, float]]
                        ) -> tuple[list[tuple], list[tuple[str, int, float]]]:
    """Return the rows of ``_ingest_q`` (asset, metric, 15-min bucket, count, sum, min, max, last ts,
    last value, kWh) of the new points in ``batch``, and the segments whose bucket has no new point
    (they are added to the stored rollups by the energy UPDATEs of :mod:`ingest.energy`)."""
    quarters = (
        batch.with_columns(q=pl.col("ts_us") // _QUARTER_US)
        .group_by("asset_id", "metric", "q")
        .agg(c=pl.len(), s=pl.col("value").sum(), mn=pl.col("value").min(), mx=pl.col("value").max(),
             lt=pl.col("stamp").max(), lv=pl.col("value").get(pl.col("ts_us").arg_max()))
    )
    leftover: list[tuple[str, int, float]] = []
    if segments:
        seg = pl.DataFrame({"asset_id": [s[0] for s in segments], "q": [s[1] // 900 for s in segments],
                            "e": [s[2] for s in segments]},
                           schema={"asset_id": pl.String, "q": pl.Int64, "e": pl.Float64}
                           ).with_columns(metric=pl.lit("power_kw"))
        quarters = quarters.join(seg, on=["asset_id", "metric", "q"], how="left")
        unmatched = seg.join(quarters, on=["asset_id", "metric", "q"], how="anti")
        leftover = [(a, q * 900, e) for a, q, e in unmatched.select("asset_id", "q", "e").iter_rows()]
        quarters = quarters.with_columns(pl.col("e").fill_null(0.0))
    else:
        quarters = quarters.with_columns(e=pl.lit(0.0))
    quarters = quarters.with_columns(b=pl.from_epoch(pl.col("q") * _QUARTER_US, "us").dt.strftime(_STAMP_FORMAT))
    return quarters.select("asset_id", "metric", "b", "c", "s", "mn", "mx", "lt", "lv", "e").rows(), leftover


def _add_other_energy(cur: Any, batch: pl.DataFrame, leftover: list[tuple[str, int, float]], late: set[str]) -> None:
    """Add the segments not folded into the rollup upserts: those starting in a bucket without a
    new point, and those of assets with a late point (the SQL of :mod:`ingest.energy` over the new
    rows of ``batch``, loaded into a temporary table for it)."""
    if not leftover and not late:
        return
    sql = energy_sql("sqlite", "_ingest_batch")
    for statement in sql.setup:
        cur.execute(statement)
    if leftover:
        stamps = {start: _sqlite_ts(dt.datetime.fromtimestamp(start, dt.UTC)) for start in {s[1] for s in leftover}}
        cur.executemany("INSERT INTO _energy_segments (asset_id, t0, kwh) VALUES (?, ?, ?)",
                        [(a, stamps[start], kwh) for a, start, kwh in leftover])
    if late:  # the late-point SQL reads the new rows and joins them on their key
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS _ingest_batch (asset_id TEXT, metric TEXT, ts TEXT, value REAL)")
        cur.execute("CREATE INDEX IF NOT EXISTS _ingest_batch_key ON _ingest_batch (asset_id, metric, ts)")
        cur.execute("DELETE FROM _ingest_batch")
        cur.executemany("INSERT INTO _ingest_batch (asset_id, metric, ts, value) VALUES (?, ?, ?, ?)",
                        batch.filter(pl.col("metric") == "power_kw").select("asset_id", "metric", "stamp", "value").rows())
        cur.execute(sql.late, max_gap_param())
        cur.execute("DELETE FROM _ingest_batch")
    for statement in sql.apply:
        cur.execute(statement)
    cur.execute(sql.clear)


def _inserted_mask(cur: Any, n: int, inserted: int, before_rowid: int, asset_ids: Sequence[str],
                   metrics: Sequence[str], stamps: Sequence[str]) -> np.ndarray | None:
    """Return which of the ``n`` points were inserted (None: all of them).

    The rows this transaction inserted are those with a rowid above the table's largest before it
    (SQLite gives a new row the largest rowid + 1, and the write lock is held); a point whose key
    is among them was inserted unless an earlier point of the batch had the same key.
    """
    if inserted == n:
        return None
    new_keys = set(cur.execute("SELECT asset_id, metric, ts FROM telemetry WHERE rowid > ?", (before_rowid,)))
    mask = np.zeros(n, dtype=bool)
    for i, key in enumerate(zip(asset_ids, metrics, stamps, strict=True)):
        if key in new_keys:
            mask[i] = True
            new_keys.discard(key)  # a repeat of the key later in the batch was the ignored one
    return mask


def store_points_sqlite(session: Session, points: Sequence[ValidPoint],
                        ts_us: Sequence[int] | None = None) -> list[tuple[str, str, dt.datetime, float]]:
    """Store ``points`` in the session's open SQLite transaction; return the rows newly inserted.

    ``ts_us``: the points' timestamps as epoch microseconds, in order, when the caller has them.
    The raw rows are inserted straight into ``telemetry`` (a point whose key is stored is skipped by
    ON CONFLICT DO NOTHING); only when fewer rows went in than were given are the new ones read
    back to tell them from the duplicates.
    """
    if not points:
        return []
    raw = session.connection().connection.driver_connection
    assert raw is not None, "an open connection has its DB-API connection"
    cur = raw.cursor()
    n = len(points)
    asset_ids, metrics, _, values = zip(*points, strict=True)
    us = _stamps_us(points, ts_us)
    stamps = _sqlite_stamps(us)
    before_rowid = cur.execute("SELECT coalesce(max(rowid), 0) FROM telemetry").fetchone()[0]
    cur.executemany("INSERT INTO telemetry (asset_id, metric, ts, value) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    zip(asset_ids, metrics, stamps, values, strict=True))
    inserted = cur.rowcount
    mask = _inserted_mask(cur, n, inserted, before_rowid, asset_ids, metrics, stamps)
    if inserted:
        batch = pl.DataFrame({"asset_id": asset_ids, "metric": metrics, "ts_us": us, "value": values, "stamp": stamps},
                             schema={"asset_id": pl.String, "metric": pl.String, "ts_us": pl.Int64,
                                     "value": pl.Float64, "stamp": pl.String})
        if mask is not None:
            batch = batch.filter(pl.Series(mask))
        power = batch.filter(pl.col("metric") == "power_kw")
        # before asset_latest advances: it tells late points apart
        segments, late = _in_order_energy(cur, power.get_column("asset_id").to_list(),
                                          power.get_column("ts_us").to_numpy(), power.get_column("value").to_numpy())
        quarters, leftover = _quarter_aggregates(batch, segments)
        cur.execute(_QUARTERS_DDL)
        cur.execute("DELETE FROM _ingest_q")
        cur.executemany("INSERT INTO _ingest_q VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", quarters)
        for res, bucket in _ROLLUP_BUCKET_SQL.items():
            cur.execute(_ROLLUP_SQL.format(res=res, bucket=bucket))
        _add_other_energy(cur, batch, leftover, late)
        cur.executemany(_LATEST_SQL, _latest_rows(batch))
    cur.close()
    if mask is None:
        return list(points)  # ValidPoint is the (asset_id, metric, ts, value) tuple itself
    return [(p[0], p[1], p[2], p[3]) for p, new in zip(points, mask, strict=True) if new]
