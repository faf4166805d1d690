"""Energy in the store: the trapezoid segments of newly stored power points, added to the rollups.

The rule is :mod:`domain.energy` (exported part, gaps over ``energy_max_gap_s`` not bridged,
segment counted in the bucket of its START). After the raw insert of a batch, for every asset
with new ``power_kw`` points, the stored points from the last one before the batch to the first
one after it are read with their LAG; the segments between them (with the new points) are added
and the segments the old points formed without them are subtracted. So an in-order point adds
one segment, a late point between two stored ones replaces the old segment by two new ones, and
a re-sent batch (nothing inserted) changes nothing. It is one set-based statement per dialect
plus one UPDATE per resolution, executed inside the database.

``batch`` names a table of the newly inserted rows (asset_id, metric, ts), indexed on those
three columns (the join that tells new points from stored ones probes it per stored point).
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.settings import get_settings

_SEGMENTS_SQL = """
WITH rng AS (
    SELECT asset_id, min(ts) AS lo, max(ts) AS hi FROM {batch} WHERE metric = 'power_kw' GROUP BY asset_id
), bounds AS (
    SELECT r.asset_id,
           COALESCE((SELECT max(t.ts) FROM telemetry t
                     WHERE t.asset_id = r.asset_id AND t.metric = 'power_kw' AND t.ts < r.lo), r.lo) AS lo,
           COALESCE((SELECT min(t.ts) FROM telemetry t
                     WHERE t.asset_id = r.asset_id AND t.metric = 'power_kw' AND t.ts > r.hi), r.hi) AS hi
    FROM rng r
), pts AS (
    SELECT t.asset_id, t.ts, t.value, CASE WHEN nb.asset_id IS NULL THEN 0 ELSE 1 END AS is_new
    FROM bounds b
    JOIN telemetry t ON t.asset_id = b.asset_id AND t.metric = 'power_kw' AND t.ts >= b.lo AND t.ts <= b.hi
    LEFT JOIN {batch} nb ON nb.asset_id = t.asset_id AND nb.metric = 'power_kw' AND nb.ts = t.ts
), segs AS (
    SELECT asset_id, 1 AS sign, LAG(ts) OVER w AS t0, LAG(value) OVER w AS v0, ts AS t1, value AS v1
    FROM pts WINDOW w AS (PARTITION BY asset_id ORDER BY ts)
    UNION ALL
    SELECT asset_id, -1 AS sign, LAG(ts) OVER w AS t0, LAG(value) OVER w AS v0, ts AS t1, value AS v1
    FROM pts WHERE is_new = 0 WINDOW w AS (PARTITION BY asset_id ORDER BY ts)
), timed AS (
    SELECT asset_id, sign, t0, v0, v1, {seconds} AS dt_s FROM segs WHERE t0 IS NOT NULL
)
INSERT INTO {segments} (asset_id, t0, kwh)
SELECT asset_id, t0,
       sign * ((CASE WHEN v0 > 0 THEN v0 ELSE 0 END) + (CASE WHEN v1 > 0 THEN v1 ELSE 0 END)) / 2.0 * dt_s / 3600.0
FROM timed WHERE dt_s > 0 AND dt_s <= :max_gap
"""

_APPLY_SQL = """
UPDATE telemetry_rollups SET energy_kwh = telemetry_rollups.energy_kwh + d.kwh
FROM (SELECT asset_id, {bucket} AS b, sum(kwh) AS kwh FROM {segments} GROUP BY asset_id, {bucket}) AS d
WHERE telemetry_rollups.asset_id = d.asset_id AND telemetry_rollups.metric = 'power_kw'
  AND telemetry_rollups.resolution = '{res}' AND telemetry_rollups.bucket_start = d.b
"""

_SQLITE = {
    # whole seconds + microseconds apart: julianday() would lose ~40 us per timestamp
    "seconds": ("(CAST(strftime('%s', t1) AS INTEGER) - CAST(strftime('%s', t0) AS INTEGER)"
                " + (CAST(substr(t1, 20) AS REAL) - CAST(substr(t0, 20) AS REAL)))"),
    "buckets": {
        "15min": "substr(t0, 1, 14) || printf('%02d', (CAST(substr(t0, 15, 2) AS INTEGER) / 15) * 15) || ':00.000000'",
        "1h": "substr(t0, 1, 14) || '00:00.000000'",
        "1d": "substr(t0, 1, 11) || '00:00:00.000000'",
    },
    "segments_ddl": "CREATE TEMP TABLE IF NOT EXISTS _energy_segments (asset_id TEXT, t0 TEXT, kwh REAL)",
}
_UTC = "(t0 AT TIME ZONE 'UTC')"
_POSTGRES = {
    "seconds": "EXTRACT(EPOCH FROM (t1 - t0))",
    "buckets": {
        "15min": f"((date_trunc('hour', {_UTC}) + floor(EXTRACT(MINUTE FROM {_UTC}) / 15) * interval '15 minutes')"
                 " AT TIME ZONE 'UTC')",
        "1h": f"(date_trunc('hour', {_UTC}) AT TIME ZONE 'UTC')",
        "1d": f"(date_trunc('day', {_UTC}) AT TIME ZONE 'UTC')",
    },
    "segments_ddl": "CREATE TEMP TABLE IF NOT EXISTS _energy_segments (asset_id TEXT, t0 TIMESTAMPTZ, kwh DOUBLE PRECISION)",
}


def energy_statements(dialect: str, batch: str) -> list[str]:
    """Return the SQL statements (bind parameter ``:max_gap``) that add the batch's segments, in order."""
    sql = _POSTGRES if dialect == "postgresql" else _SQLITE
    statements = [sql["segments_ddl"], "DELETE FROM _energy_segments",
                  _SEGMENTS_SQL.format(batch=batch, segments="_energy_segments", seconds=sql["seconds"])]
    statements += [_APPLY_SQL.format(bucket=b, segments="_energy_segments", res=r) for r, b in sql["buckets"].items()]
    statements.append("DELETE FROM _energy_segments")
    return statements


def max_gap_param() -> dict[str, float]:
    """Return the bind parameters of :func:`energy_statements` from the settings."""
    return {"max_gap": float(get_settings().energy_max_gap_s)}


def add_energy_segments(session: Session, batch: str) -> None:
    """Add the energy of the power segments the newly inserted rows in table ``batch`` create (see module doc).

    Runs after the raw insert and the rollup upsert of the same transaction; returns nothing.
    """
    params = max_gap_param()
    for statement in energy_statements(session.get_bind().dialect.name, batch):
        session.execute(text(statement), params if ":max_gap" in statement else {})
