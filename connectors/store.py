"""Idempotent storage of canonical connector records (one transaction per call).

Records are fully parsed before they get here, so a call stores everything or nothing. Re-storing
the same records updates them in place (upsert); nothing is duplicated.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from sqlalchemy import and_, delete
from sqlalchemy.dialects import postgresql, sqlite

from connectors.records import AlertRecord, PriceRecord, WeatherObs
from data.models import MarketPrice, WeatherAlert, WeatherRecord

CHUNK = 2000
WEATHER_FIELDS = ("temperature_c", "cloud_cover_pct", "wind_speed_ms", "wind_direction_deg", "ghi_wm2",
                  "precipitation_mm", "pressure_hpa")


def _insert(database: Any, table: Any):
    return (sqlite.insert if database.is_sqlite else postgresql.insert)(table)


def store_prices(database: Any, records: Iterable[PriceRecord]) -> int:
    """Upsert price records into market_prices in one transaction; return the number of rows written."""
    records = list(records)
    keys = ("market", "node", "market_type", "interval_start")
    # one row per key (PostgreSQL refuses an upsert touching the same row twice in one statement)
    rows = list({tuple(getattr(r, k) for k in keys): asdict(r) for r in records}.values())
    if not rows:
        return 0
    with database.session() as session:
        for i in range(0, len(rows), CHUNK):
            stmt = _insert(database, MarketPrice)
            stmt = stmt.on_conflict_do_update(
                index_elements=list(keys),
                set_={c: stmt.excluded[c] for c in ("interval_end", "price", "currency", "unit", "source")},
            )
            session.execute(stmt, rows[i:i + CHUNK])
    return len(rows)


def store_weather(database: Any, site_id: str, records: Iterable[WeatherObs]) -> int:
    """Store observations/forecasts for ``site_id`` in one transaction; return the rows written.

    Forecasts are upserted on (site, source, kind, ts, issued_at); observations (issued_at NULL,
    which a unique index cannot match) replace any stored observation with the same site, source and ts.
    """
    recs = list(records)
    if not recs:
        return 0
    rows = [{"site_id": site_id, "source": r.source, "kind": r.kind, "ts": r.ts, "issued_at": r.issued_at,
             **{f: getattr(r, f) for f in WEATHER_FIELDS}} for r in recs]
    obs = [row for row in rows if row["issued_at"] is None]
    fc = [row for row in rows if row["issued_at"] is not None]
    with database.session() as session:
        for source in {row["source"] for row in obs}:
            stamps = [row["ts"] for row in obs if row["source"] == source]
            for i in range(0, len(stamps), CHUNK):
                session.execute(delete(WeatherRecord).where(and_(
                    WeatherRecord.site_id == site_id, WeatherRecord.source == source,
                    WeatherRecord.issued_at.is_(None), WeatherRecord.ts.in_(stamps[i:i + CHUNK]))))
        if obs:
            session.execute(_insert(database, WeatherRecord), obs)
        for i in range(0, len(fc), CHUNK):
            stmt = _insert(database, WeatherRecord)
            stmt = stmt.on_conflict_do_update(
                index_elements=["site_id", "source", "kind", "ts", "issued_at"],
                set_={f: stmt.excluded[f] for f in WEATHER_FIELDS},
            )
            session.execute(stmt, fc[i:i + CHUNK])
    return len(rows)


def store_alerts(database: Any, site_id: str | None, records: Iterable[AlertRecord]) -> int:
    """Upsert alerts for ``site_id`` on (source, external_id, site_id) in one transaction; return rows written."""
    recs = list(records)
    if not recs:
        return 0
    rows = [{"site_id": site_id, "source": r.source, "external_id": r.external_id, "event": r.event,
             "severity": r.severity, "headline": r.headline, "onset": r.onset, "ends": r.ends} for r in recs]
    with database.session() as session:
        if site_id is None:  # NULL never conflicts: replace by external id instead
            session.execute(delete(WeatherAlert).where(and_(
                WeatherAlert.site_id.is_(None),
                WeatherAlert.external_id.in_([r["external_id"] for r in rows]))))
            session.execute(_insert(database, WeatherAlert), rows)
        else:
            stmt = _insert(database, WeatherAlert)
            stmt = stmt.on_conflict_do_update(
                index_elements=["source", "external_id", "site_id"],
                set_={c: stmt.excluded[c] for c in ("event", "severity", "headline", "onset", "ends")},
            )
            session.execute(stmt, rows)
    return len(rows)
