"""SQLite fast path of :mod:`ingest.store`: the same exactly-once semantics, done in SQL.

Why a separate path: on SQLite the per-row Python work of an ORM-level ``INSERT ... RETURNING``
and of per-bucket upserts costs more than the storage itself. Here the batch is loaded into a
temporary table with one ``executemany``, rows already stored are found by primary-key probes and
dropped, and the raw insert, the three rollups and the latest values are each one set-based
statement executed inside SQLite, and so is the energy of the new power segments
(:mod:`ingest.energy`). SQLite serialises writers, so the probe-then-insert inside the
write transaction cannot race with another writer.

Timestamps are written in SQLAlchemy's SQLite storage format (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC)
so the ORM reads them back exactly as it would its own.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy.orm import Session

from ingest.energy import energy_sql, in_order_segments, max_gap_param
from ingest.validation import ValidPoint


def _sqlite_ts(ts: dt.datetime) -> str:
    """Return a UTC datetime as SQLAlchemy stores it in SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    return ts.isoformat(" ", "microseconds")[:26]

# 15-min bucket start of a stored timestamp string
_BUCKET_15_SQL = "substr(ts, 1, 14) || printf('%02d', (CAST(substr(ts, 15, 2) AS INTEGER) / 15) * 15) || ':00.000000'"

# The batch is grouped into 15-min buckets once (_ingest_15); hours and days are grouped from those
# (a few rows per asset instead of every point). SQLite returns the bare column `value` (`lv`) from the
# row holding max(ts) (max(lt)): that is the bucket's last value.
_BATCH_15_SQL = """
INSERT INTO _ingest_15 (asset_id, metric, b, c, s, mn, mx, lt, lv)
SELECT asset_id, metric, {bucket} AS b, count(*), sum(value), min(value), max(value), max(ts), value
FROM _ingest_batch GROUP BY asset_id, metric, b
"""

_ROLLUP_SQL = """
INSERT INTO telemetry_rollups (asset_id, metric, resolution, bucket_start, count, sum, min, max, last_ts, last_value)
SELECT asset_id, metric, '{res}', {bucket} AS bb, sum(c), sum(s), min(mn), max(mx), max(lt), lv
FROM _ingest_15 GROUP BY asset_id, metric, bb
ON CONFLICT (asset_id, metric, resolution, bucket_start) DO UPDATE SET
    count = telemetry_rollups.count + excluded.count,
    sum = telemetry_rollups.sum + excluded.sum,
    min = min(telemetry_rollups.min, excluded.min),
    max = max(telemetry_rollups.max, excluded.max),
    last_value = CASE WHEN excluded.last_ts >= telemetry_rollups.last_ts THEN excluded.last_value
                      ELSE telemetry_rollups.last_value END,
    last_ts = max(telemetry_rollups.last_ts, excluded.last_ts)
"""
# bucket of a 15-min bucket string `b`, per resolution
_ROLLUP_BUCKET_SQL = {"15min": "b", "1h": "substr(b, 1, 14) || '00:00.000000'", "1d": "substr(b, 1, 11) || '00:00:00.000000'"}

_LATEST_SQL = """
INSERT INTO asset_latest (asset_id, metric, ts, value)
SELECT asset_id, metric, max(ts), value FROM _ingest_batch WHERE true GROUP BY asset_id, metric
ON CONFLICT (asset_id, metric) DO UPDATE SET ts = excluded.ts, value = excluded.value
WHERE excluded.ts >= asset_latest.ts
"""


def _sqlite_stamps(points: Sequence[ValidPoint], ts_us: Sequence[int] | None) -> list[str]:
    """Return the points' timestamps as stored strings (vectorised from ``ts_us`` when given)."""
    if ts_us is None:
        return [_sqlite_ts(p.ts) for p in points]
    return pl.from_epoch(pl.Series(ts_us, dtype=pl.Int64), "us").dt.strftime("%Y-%m-%d %H:%M:%S%.6f").to_list()


def _add_energy(cur: Any, points: Sequence[ValidPoint], seconds: np.ndarray, duplicate_rowids: set[int]) -> None:
    """Add the energy of the new power segments to the rollups (:mod:`ingest.energy`'s rule).

    ``seconds`` holds the points' timestamps as epoch seconds. In-order assets are integrated here
    from the points at hand and the latest stored point (one probe of ``asset_latest``); only assets
    with a late point run the SQL of ``ingest.energy``.
    """
    new = [i for i, p in enumerate(points) if p[1] == "power_kw" and (i + 1) not in duplicate_rowids]
    if not new:
        return
    assets = [points[i][0] for i in new]
    latest = {
        asset_id: (dt.datetime.fromisoformat(ts).replace(tzinfo=dt.UTC).timestamp(), value)
        for asset_id, ts, value in cur.execute(
            "SELECT asset_id, ts, value FROM asset_latest WHERE metric = 'power_kw' AND asset_id IN "
            "(SELECT value FROM json_each(?))", (json.dumps(list(dict.fromkeys(assets))),))
    }
    params = max_gap_param()
    segments, late = in_order_segments(assets, seconds[new], np.array([points[i][3] for i in new]),
                                       latest, params["max_gap"])
    if not segments and not late:
        return
    sql = energy_sql("sqlite", "_ingest_batch")
    for statement in sql.setup:
        cur.execute(statement)
    if segments:  # one row per asset and quarter hour; the apply statements roll them up to hours and days
        stamps = {start: _sqlite_ts(dt.datetime.fromtimestamp(start, dt.UTC)) for start in {s[1] for s in segments}}
        cur.executemany("INSERT INTO _energy_segments (asset_id, t0, kwh) VALUES (?, ?, ?)",
                        [(a, stamps[start], kwh) for a, start, kwh in segments])
    if late:  # the late-point SQL joins the batch on its key: index it now (cheaper than during the load)
        cur.execute("CREATE INDEX IF NOT EXISTS _ingest_batch_key ON _ingest_batch (asset_id, metric, ts)")
        cur.execute(sql.late, params)
    for statement in sql.apply:
        cur.execute(statement)
    cur.execute(sql.clear)


def store_points_sqlite(session: Session, points: Sequence[ValidPoint],
                        ts_us: Sequence[int] | None = None) -> list[tuple[str, str, dt.datetime, float]]:
    """Store ``points`` in the session's open SQLite transaction; return the rows newly inserted.

    ``ts_us``: the points' timestamps as epoch microseconds, in order, when the caller has them.
    """
    raw = session.connection().connection.driver_connection
    assert raw is not None, "an open connection has its DB-API connection"
    cur = raw.cursor()
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _ingest_batch (asset_id TEXT, metric TEXT, ts TEXT, value REAL)"
    )
    # no index on the batch table while loading it: maintaining one cost more in the load than it saved
    # in the rollups and the duplicate probe (which walks the batch and looks each row up in telemetry's
    # key); only a batch with late points builds it, for the late-energy SQL (see _add_energy)
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS _ingest_15 "
                "(asset_id TEXT, metric TEXT, b TEXT, c INTEGER, s REAL, mn REAL, mx REAL, lt TEXT, lv REAL)")
    cur.execute("DROP INDEX IF EXISTS _ingest_batch_key")
    cur.execute("DELETE FROM _ingest_batch")
    cur.executemany(
        "INSERT INTO _ingest_batch (rowid, asset_id, metric, ts, value) VALUES (?, ?, ?, ?, ?)",
        [(i, p[0], p[1], ts, p[3]) for i, p, ts in zip(itertools.count(1), points, _sqlite_stamps(points, ts_us))],
    )
    duplicate_rowids = {
        r[0]
        for r in cur.execute(
            "SELECT b.rowid FROM _ingest_batch b JOIN telemetry t "
            "ON t.asset_id = b.asset_id AND t.metric = b.metric AND t.ts = b.ts"
        )
    }
    if duplicate_rowids:
        cur.executemany("DELETE FROM _ingest_batch WHERE rowid = ?", [(r,) for r in duplicate_rowids])
    if len(duplicate_rowids) < len(points):
        cur.execute("INSERT INTO telemetry (asset_id, metric, ts, value) SELECT asset_id, metric, ts, value FROM _ingest_batch")
        cur.execute("DELETE FROM _ingest_15")
        cur.execute(_BATCH_15_SQL.format(bucket=_BUCKET_15_SQL))
        for res, bucket in _ROLLUP_BUCKET_SQL.items():
            cur.execute(_ROLLUP_SQL.format(res=res, bucket=bucket))
        seconds = (np.array([p.ts.timestamp() for p in points]) if ts_us is None
                   else np.asarray(ts_us, dtype=np.int64) / 1e6)
        _add_energy(cur, points, seconds, duplicate_rowids)  # before asset_latest advances: it tells late points apart
        cur.execute(_LATEST_SQL)
    cur.execute("DELETE FROM _ingest_batch")
    cur.close()
    if not duplicate_rowids:
        return list(points)  # ValidPoint is the (asset_id, metric, ts, value) tuple itself
    return [(p[0], p[1], p[2], p[3]) for i, p in enumerate(points, 1) if i not in duplicate_rowids]
