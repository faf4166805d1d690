"""Retention: raw points older than ``raw_retention_days`` and rollups older than their resolution's
window (``retention_15min_days``, ``retention_1h_days``, ``retention_1d_days``; 0 keeps them) are
deleted in small chunks, so the store stays bounded under a live feed; latest values are kept."""
from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import cast

from sqlalchemy import CursorResult, delete, select

from data.db import Database
from data.models import TelemetryPoint, TelemetryRollup, utcnow

log = logging.getLogger(__name__)


def prune_raw_telemetry(db: Database, older_than: dt.datetime, chunk: int = 20_000, max_chunks: int = 500) -> int:
    """Delete raw points with ts < ``older_than``, ``chunk`` rows per transaction; return how many."""
    total = 0
    for _ in range(max_chunks):
        with db.session() as session:
            cutoff_row = session.execute(
                select(TelemetryPoint.ts).where(TelemetryPoint.ts < older_than)
                .order_by(TelemetryPoint.ts).offset(chunk - 1).limit(1)
            ).scalar()
            bound = older_than if cutoff_row is None else min(older_than, cutoff_row + dt.timedelta(microseconds=1))
            result = cast(CursorResult, session.execute(delete(TelemetryPoint).where(TelemetryPoint.ts < bound)))
            deleted = result.rowcount or 0
        total += deleted
        if deleted == 0 or bound == older_than:
            break
    return total


def prune_rollups(db: Database, resolution: str, older_than: dt.datetime, chunk: int = 20_000,
                  max_chunks: int = 500) -> int:
    """Delete ``resolution`` rollups whose bucket starts before ``older_than``, about ``chunk`` rows
    per transaction (whole buckets; along the (resolution, bucket_start) index); return how many."""
    total = 0
    for _ in range(max_chunks):
        with db.session() as session:
            cutoff = session.execute(
                select(TelemetryRollup.bucket_start)
                .where(TelemetryRollup.resolution == resolution, TelemetryRollup.bucket_start < older_than)
                .order_by(TelemetryRollup.bucket_start).offset(chunk - 1).limit(1)
            ).scalar()
            bound = older_than if cutoff is None else min(older_than, cutoff + dt.timedelta(microseconds=1))
            result = cast(CursorResult, session.execute(delete(TelemetryRollup).where(
                TelemetryRollup.resolution == resolution, TelemetryRollup.bucket_start < bound)))
            deleted = result.rowcount or 0
        total += deleted
        if deleted == 0 or bound == older_than:
            break
    return total


class RetentionWorker:
    """Prunes raw telemetry and rollups every ``interval_s`` seconds in a daemon thread."""

    def __init__(self, db: Database, retention_days: float, interval_s: float = 3600.0,
                 rollup_days: dict[str, float] | None = None) -> None:
        self._db = db
        self._retention = dt.timedelta(days=retention_days)
        self._rollup_retention = {res: dt.timedelta(days=d) for res, d in (rollup_days or {}).items()}
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_pruned = 0
        self.last_pruned_rollups: dict[str, int] = {}

    def prune_once(self) -> int:
        """Run one pass over raw telemetry and every pruned resolution; return the raw points deleted."""
        now = utcnow()
        self.last_pruned = prune_raw_telemetry(self._db, now - self._retention)
        if self.last_pruned:
            log.info("pruned %d raw telemetry points older than %s", self.last_pruned, self._retention)
        for resolution, keep in self._rollup_retention.items():
            pruned = prune_rollups(self._db, resolution, now - keep)
            self.last_pruned_rollups[resolution] = pruned
            if pruned:
                log.info("pruned %d %s rollups older than %s", pruned, resolution, keep)
        return self.last_pruned

    def start(self) -> None:
        """Start pruning (a pass at once, then every ``interval_s``)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="fleetlight-retention", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """Return True while the pruning thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop pruning and wait up to ``timeout`` seconds for the thread (a chunk in progress finishes)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            try:
                self.prune_once()
            except Exception:
                log.exception("telemetry retention failed")
            if self._stop.wait(self._interval_s):
                return
