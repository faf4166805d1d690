"""Retention of raw telemetry: raw points older than the retention window are deleted in small
chunks (rollups and latest values are kept), so the store stays bounded under a live feed."""
from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import cast

from sqlalchemy import CursorResult, delete, select

from data.db import Database
from data.models import TelemetryPoint, utcnow

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


class RetentionWorker:
    """Prunes raw telemetry every ``interval_s`` seconds in a daemon thread."""

    def __init__(self, db: Database, retention_days: float, interval_s: float = 3600.0) -> None:
        self._db = db
        self._retention = dt.timedelta(days=retention_days)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_pruned = 0

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
                self.last_pruned = prune_raw_telemetry(self._db, utcnow() - self._retention)
                if self.last_pruned:
                    log.info("pruned %d raw telemetry points older than %s", self.last_pruned, self._retention)
            except Exception:
                log.exception("raw telemetry retention failed")
            if self._stop.wait(self._interval_s):
                return
