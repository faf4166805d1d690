"""Buffered call log: one ``integration_calls`` row per gateway call, written in batches.

:meth:`CallLog.record` only appends to an in-memory buffer (a few microseconds); a daemon thread
flushes the buffer to the database every ``flush_interval_s`` or when ``batch_size`` rows are
waiting, in one executemany per batch. Without a database (no services installed) rows are kept
in a bounded in-memory ring so the status page still has recent numbers.

Failure events (``events`` rows of kind ``integration.failed`` / ``integration.recovered``) go
through the same buffer.
"""
from __future__ import annotations

import datetime as dt
import logging
import statistics
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from observability.metrics import PROVIDER_CALLS, PROVIDER_LATENCY

log = logging.getLogger(__name__)


@dataclass
class CallRecord:
    """One logical gateway call (retries included), as stored in ``integration_calls``."""

    provider: str
    endpoint: str
    started_at: dt.datetime
    latency_ms: float
    status_code: int | None
    outcome: str  # ok | error | fallback | rejected | replay
    bytes_received: int = 0
    retries: int = 0
    breaker_state: str = "closed"
    cost_estimate: float = 0.0
    error: str | None = None


@dataclass
class ProviderStats:
    """Rolling in-memory numbers of one provider since process start."""

    calls: int = 0
    ok: int = 0
    errors: int = 0
    fallbacks: int = 0
    cost: float = 0.0
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=500))
    last_outcome: str | None = None
    last_call_at: dt.datetime | None = None
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    recent_failures: deque = field(default_factory=lambda: deque(maxlen=20))  # 1 failed, 0 ok

    def as_dict(self) -> dict[str, Any]:
        """Return the stats as plain values (latency percentiles in ms, None without calls)."""
        lat = sorted(self.latencies_ms)
        p50 = statistics.median(lat) if lat else None
        p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))] if lat else None
        done = self.ok + self.errors + self.fallbacks
        return {
            "calls": self.calls,
            "ok": self.ok,
            "errors": self.errors,
            "fallbacks": self.fallbacks,
            "success_rate": (self.ok / done) if done else None,
            "p50_ms": p50,
            "p95_ms": p95,
            "cost": self.cost,
            "last_outcome": self.last_outcome,
            "last_call_at": self.last_call_at,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
        }


DbProvider = Callable[[], Any]


def default_db_provider() -> Any:
    """Return the process's Database, or None when services are not installed."""
    try:
        from core.runtime import db

        return db()
    except RuntimeError:
        return None


class CallLog:
    """Buffer of call rows and events, flushed to the database by a background thread."""

    def __init__(
        self,
        db_provider: DbProvider | None = default_db_provider,
        *,
        flush_interval_s: float = 1.0,
        batch_size: int = 500,
        memory_rows: int = 5000,
    ) -> None:
        self._db_provider = db_provider
        self.flush_interval_s = flush_interval_s
        self.batch_size = batch_size
        self._pending: deque[CallRecord] = deque()
        self._pending_events: deque[dict[str, Any]] = deque()
        # called with the event rows just written (the composition root publishes them on the bus)
        self.on_events: Callable[[list[dict[str, Any]]], None] | None = None
        self.recent: deque[CallRecord] = deque(maxlen=memory_rows)
        self.stats: dict[str, ProviderStats] = {}
        self._lock = threading.Lock()
        # Held for a whole flush, so an explicit flush() also waits for one the flusher thread
        # has in flight: when it returns, every row recorded before it is in the database.
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.written = 0

    # --- producer side (hot path) -----------------------------------------------------------

    def record(self, rec: CallRecord) -> None:
        """Queue ``rec`` for the database and update the in-memory stats and the metrics."""
        PROVIDER_CALLS.labels(rec.provider, rec.outcome).inc()
        PROVIDER_LATENCY.labels(rec.provider).observe(rec.latency_ms / 1000.0)
        with self._lock:
            st = self.stats.get(rec.provider)
            if st is None:
                st = self.stats[rec.provider] = ProviderStats()
            st.calls += 1
            st.cost += rec.cost_estimate
            st.last_outcome = rec.outcome
            st.last_call_at = rec.started_at
            if rec.outcome in ("ok", "replay"):
                st.ok += 1
                st.latencies_ms.append(rec.latency_ms)
                st.recent_failures.append(0)
            elif rec.outcome != "rejected":
                if rec.outcome == "fallback":
                    st.fallbacks += 1
                else:
                    st.errors += 1
                st.recent_failures.append(1)
                st.last_error = rec.error
                st.last_error_at = rec.started_at
            self._pending.append(rec)
            self.recent.append(rec)
            big = len(self._pending) >= self.batch_size
        self._ensure_thread()
        if big:
            self._wake.set()

    def event(self, kind: str, provider: str, payload: dict[str, Any]) -> None:
        """Queue an ``events`` row (actor "system", entity_type "integration")."""
        row = {
            "ts": dt.datetime.now(dt.UTC),
            "actor": "system",
            "kind": kind,
            "entity_type": "integration",
            "entity_id": provider,
            "payload": payload,
        }
        with self._lock:
            self._pending_events.append(row)
        self._ensure_thread()
        self._wake.set()

    # --- consumer side --------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._stop.clear()
                    self._thread = threading.Thread(target=self._run, name="fleetlight-gateway-calllog", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # keep the flusher alive; the rows stay in memory for the page
                log.exception("gateway call log: flush failed")

    def flush(self) -> int:
        """Write every queued row and event now; return the number of call rows written.

        Without a database the queue is emptied into the in-memory ring only (rows dropped from
        the database log are counted in ``dropped``).
        """
        with self._flush_lock:
            return self._flush_locked()

    def _flush_locked(self) -> int:
        with self._lock:
            rows = list(self._pending)
            self._pending.clear()
            events = list(self._pending_events)
            self._pending_events.clear()
        if not rows and not events:
            return 0
        database = self._db_provider() if self._db_provider is not None else None
        if database is None:
            self.dropped += len(rows)
            return 0
        from sqlalchemy import insert

        from data.models import Event, IntegrationCall

        try:
            with database.session() as session:
                if rows:
                    session.execute(insert(IntegrationCall), [asdict(r) for r in rows])
                if events:
                    session.execute(insert(Event), events)
        except Exception as exc:
            self.dropped += len(rows)
            log.warning("gateway call log: %d rows not written (%s)", len(rows), exc)
            return 0
        self.written += len(rows)
        if events and self.on_events is not None:
            try:
                self.on_events(events)
            except Exception:  # the events are stored; a consumer's failure is its dead letter
                log.exception("gateway call log: publishing %d events failed", len(events))
        return len(rows)

    def close(self) -> None:
        """Stop the flusher after a last flush."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.flush()
        except Exception:
            log.exception("gateway call log: final flush failed")

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Return ``{provider: stats}`` of the calls seen by this process."""
        with self._lock:
            return {name: st.as_dict() for name, st in self.stats.items()}
