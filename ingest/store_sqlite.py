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
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from ingest.energy import energy_sql, in_order_segments, max_gap_param
from ingest.validation import ValidPoint


def _sqlite_ts(ts: dt.datetime) -> str:
    """Return a UTC datetime as SQLAlchemy stores it in SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    return ts.isoformat(" ", "microseconds")[:26]

# bucket start of a stored timestamp string, per resolution
_BUCKET_SQL = {
    "15min": "substr(ts, 1, 14) || printf('%02d', (CAST(substr(ts, 15, 2) AS INTEGER) / 15) * 15) || ':00.000000'",
    "1h": "substr(ts, 1, 14) || '00:00.000000'",
    "1d": "substr(ts, 1, 11) || '00:00:00.000000'",
}

_ROLLUP_SQL = """
INSERT INTO telemetry_rollups (asset_id, metric, resolution, bucket_start, count, sum, min, max, last_ts, last_value)
SELECT asset_id, metric, '{res}', {bucket} AS b, count(*), sum(value), min(value), max(value), max(ts), value
FROM _ingest_batch GROUP BY asset_id, metric, b
ON CONFLICT (asset_id, metric, resolution, bucket_start) DO UPDATE SET
    count = telemetry_rollups.count + excluded.count,
    sum = telemetry_rollups.sum + excluded.sum,
    min = min(telemetry_rollups.min, excluded.min),
    max = max(telemetry_rollups.max, excluded.max),
    last_value = CASE WHEN excluded.last_ts >= telemetry_rollups.last_ts THEN excluded.last_value
                      ELSE telemetry_rollups.last_value END,
    last_ts = max(telemetry_rollups.last_ts, excluded.last_ts)
"""
# SQLite returns the bare column `value` from the row holding max(ts): that is the bucket's last value.

_LATEST_SQL = """
INSERT INTO asset_latest (asset_id, metric, ts, value)
SELECT asset_id, metric, max(ts), value FROM _ingest_batch WHERE true GROUP BY asset_id, metric
ON CONFLICT (asset_id, metric) DO UPDATE SET ts = excluded.ts, value = excluded.value
WHERE excluded.ts >= asset_latest.ts
"""


def _add_energy(cur: Any, points: Sequence[ValidPoint], duplicate_rowids: set[int]) -> None:
    """Add the energy of the new power segments to the rollups (:mod:`ingest.energy`'s rule).

    In-order assets are integrated here from the points at hand and the latest stored point
    (one probe of ``asset_latest``); only assets with a late point run the SQL of ``ingest.energy``.
    """
    new_power: dict[str, list[tuple[float, float]]] = {}
    for i, p in enumerate(points):
        if p.metric == "power_kw" and (i + 1) not in duplicate_rowids:
            new_power.setdefault(p.asset_id, []).append((p.ts.timestamp(), p.value))
    if not new_power:
        return
    latest = {
        asset_id: (dt.datetime.fromisoformat(ts).replace(tzinfo=dt.UTC).timestamp(), value)
        for asset_id, ts, value in cur.execute(
            "SELECT asset_id, ts, value FROM asset_latest WHERE metric = 'power_kw' AND asset_id IN "
            "(SELECT value FROM json_each(?))", (json.dumps(list(new_power)),))
    }
    params = max_gap_param()
    sums, late = in_order_segments(new_power, latest, params["max_gap"])
    if not sums and not late:
        return
    sql = energy_sql("sqlite", "_ingest_batch")
    for statement in sql.setup:
        cur.execute(statement)
    if sums:  # one row per asset and quarter hour; the apply statements roll them up to hours and days
        stamps = {start: _sqlite_ts(dt.datetime.fromtimestamp(start, dt.UTC)) for start in {k[1] for k in sums}}
        cur.executemany("INSERT INTO _energy_segments (asset_id, t0, kwh) VALUES (?, ?, ?)",
                        [(a, stamps[start], kwh) for (a, start), kwh in sums.items()])
    if late:  # the late-point SQL joins the batch on its key: index it now (cheaper than during the load)
        cur.execute("CREATE INDEX IF NOT EXISTS _ingest_batch_key ON _ingest_batch (asset_id, metric, ts)")
        cur.execute(sql.late, params)
    for statement in sql.apply:
        cur.execute(statement)
    cur.execute(sql.clear)


def store_points_sqlite(session: Session, points: Sequence[ValidPoint]) -> list[tuple[str, str, dt.datetime, float]]:
    """Store ``points`` in the session's open SQLite transaction; return the rows newly inserted."""
    raw = session.connection().connection.driver_connection
    assert raw is not None, "an open connection has its DB-API connection"
    cur = raw.cursor()
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _ingest_batch (asset_id TEXT, metric TEXT, ts TEXT, value REAL)"
    )
    # no index on the batch table while loading it: maintaining one cost more in the load than it saved
    # in the rollups and the duplicate probe (which walks the batch and looks each row up in telemetry's
    # key); only a batch with late points builds it, for the late-energy SQL (see _add_energy)
    cur.execute("DROP INDEX IF EXISTS _ingest_batch_key")
    cur.execute("DELETE FROM _ingest_batch")
    cur.executemany(
        "INSERT INTO _ingest_batch (rowid, asset_id, metric, ts, value) VALUES (?, ?, ?, ?, ?)",
        [(i + 1, p.asset_id, p.metric, _sqlite_ts(p.ts), p.value) for i, p in enumerate(points)],
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
        for res, bucket in _BUCKET_SQL.items():
            cur.execute(_ROLLUP_SQL.format(res=res, bucket=bucket))
        _add_energy(cur, points, duplicate_rowids)  # before asset_latest advances: it tells late points apart
        cur.execute(_LATEST_SQL)
    cur.execute("DELETE FROM _ingest_batch")
    cur.close()
    return [
        (p.asset_id, p.metric, p.ts, p.value) for i, p in enumerate(points) if (i + 1) not in duplicate_rowids
    ]
