"""The ingest path every telemetry source uses: validate -> bus -> durable store -> live listeners.

The HTTP API, the built-in simulator and field gateways all call :meth:`IngestService.submit_rows`
(or publish on :data:`TELEMETRY_TOPIC` directly); the store worker is the bus consumer
:meth:`IngestService.handle_message`.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bus.deadletter import dead_letter_many
from data.db import Database
from data.models import Asset
from ingest.store import StoreResult, store_points, store_points_in_session
from ingest.validation import Rejection, ValidPoint, validate_rows
from observability.metrics import INGEST_POINTS

log = logging.getLogger(__name__)

TELEMETRY_TOPIC = "telemetry.v1"
STORE_ATTEMPTS = 4
# PostgreSQL deadlock_detected and serialization_failure: the transaction was rolled back and may run again
_TRANSIENT_SQLSTATES = ("40P01", "40001")
WIRE_VERSION = 1
_last_store: contextvars.ContextVar[StoreResult | None] = contextvars.ContextVar("last_store", default=None)
# In-process delivery runs the consumer in the publishing thread: the consumer can take the points the
# producer already validated instead of decoding the wire message it was just built from.
_published: contextvars.ContextVar[tuple[int, Sequence[ValidPoint], Sequence[int]] | None] = contextvars.ContextVar(
    "published_points", default=None)

StoredListener = Callable[[list[tuple[str, str, dt.datetime, float]]], None]


def encode_points(points: Sequence[ValidPoint], source: str) -> dict[str, Any]:
    """Return the bus message for ``points``: columnar arrays, timestamps as epoch milliseconds (UTC)."""
    return {
        "v": WIRE_VERSION,
        "source": source,
        "asset_id": [p.asset_id for p in points],
        "metric": [p.metric for p in points],
        "ts_ms": [int(p.ts.timestamp() * 1000) for p in points],
        "value": [p.value for p in points],
    }


def encode_columns(columns: dict[str, list[Any]], source: str) -> dict[str, Any]:
    """Return the bus message of validated points given as columns asset_id, metric, ts_ms, value."""
    return {"v": WIRE_VERSION, "source": source, **{name: columns[name] for name in ("asset_id", "metric", "ts_ms", "value")}}


def _all_of(values: list, kinds: tuple[type, ...]) -> bool:
    return set(map(type, values)) <= set(kinds)


def decode_points(message: dict[str, Any]) -> list[ValidPoint]:
    """Return the points of a telemetry bus message; raise ValueError naming what is malformed."""
    if not isinstance(message, dict) or message.get("v") != WIRE_VERSION:
        raise ValueError(f"telemetry message must be an object with v={WIRE_VERSION}")
    asset_ids, metrics, stamps, values = (message.get(name) for name in ("asset_id", "metric", "ts_ms", "value"))
    if not (isinstance(asset_ids, list) and isinstance(metrics, list) and isinstance(stamps, list)
            and isinstance(values, list)):
        raise ValueError("telemetry message needs list fields asset_id, metric, ts_ms and value")
    if not len(asset_ids) == len(metrics) == len(stamps) == len(values):
        raise ValueError("telemetry message columns asset_id, metric, ts_ms and value differ in length")
    if not (_all_of(asset_ids, (str,)) and _all_of(metrics, (str,))):
        raise ValueError("telemetry message: asset_id and metric must be strings")
    if not _all_of(stamps, (int,)):
        raise ValueError("telemetry message: ts_ms must be integers (milliseconds since the epoch)")
    if not _all_of(values, (int, float)) or not all(map(math.isfinite, values)):
        raise ValueError("telemetry message: value must be finite numbers")
    utc = dt.UTC
    from_ts = dt.datetime.fromtimestamp
    return [
        ValidPoint(a, m, from_ts(ms / 1000, utc), float(v))
        for a, m, ms, v in zip(asset_ids, metrics, stamps, values, strict=False)
    ]


@dataclass
class IngestReport:
    """The outcome of one submitted batch."""

    received: int
    accepted: int
    rejected: list[Rejection] = field(default_factory=list)
    inserted: int | None = None
    duplicates: int | None = None

    def as_dict(self, max_errors: int = 100) -> dict[str, Any]:
        """Return the report as a JSON-ready dict (at most ``max_errors`` rejections listed)."""
        return {
            "received": self.received,
            "accepted": self.accepted,
            "stored": self.inserted,
            "duplicates": self.duplicates,
            "rejected": len(self.rejected),
            "errors": [r.as_dict() for r in self.rejected[:max_errors]],
            "errors_truncated": len(self.rejected) > max_errors,
        }


class AssetDirectory:
    """Cache of asset id -> capacity (kW), refreshed when an unknown id shows up."""

    def __init__(self, db: Database, min_refresh_s: float = 5.0) -> None:
        self._db = db
        self._min_refresh_s = min_refresh_s
        self._capacity: dict[str, float] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Reload the whole directory from the store."""
        with self._db.session() as session:
            rows = session.execute(select(Asset.id, Asset.capacity_kw)).all()
        with self._lock:
            self._capacity = {r[0]: float(r[1]) for r in rows}
            self._loaded_at = time.monotonic()

    def capacities(self, wanted: Set[str]) -> dict[str, float]:
        """Return the capacity map, reloading first if any of ``wanted`` is unknown and the cache is old."""
        cap = self._capacity
        if not cap or not cap.keys() >= wanted:
            if time.monotonic() - self._loaded_at > self._min_refresh_s or not cap:
                self.refresh()
        return self._capacity


class IngestService:
    """Validates batches, publishes good points on the bus and stores them as the bus consumer."""

    def __init__(self, db: Database, bus: Any, max_future_s: int = 300, max_age_days: int = 3650) -> None:
        self.db = db
        self.bus = bus
        self.assets = AssetDirectory(db)
        self.max_future_s = max_future_s
        self.max_age_days = max_age_days
        self._listeners: list[StoredListener] = []

    @property
    def listeners(self) -> tuple[StoredListener, ...]:
        """Return the listeners called after every stored batch."""
        return tuple(self._listeners)

    def add_listener(self, listener: StoredListener) -> None:
        """Call ``listener`` with the newly stored rows after every stored batch (live push path)."""
        self._listeners.append(listener)

    def start_consumer(self) -> None:
        """Subscribe the store worker to the telemetry topic."""
        self.bus.subscribe(TELEMETRY_TOPIC, self.handle_message, group="store")

    def submit_rows(self, rows: Sequence[Any], source: str, now: dt.datetime | None = None, *,
                    text: bool = False) -> IngestReport:
        """Validate ``rows``, dead-letter the bad ones with their reason, publish the good ones.

        ``text=True`` for CSV rows (every field is text; see :mod:`ingest.validation`). Each
        rejected row becomes one dead letter ``{"index", "row", "format"}`` so that a replay
        validates it by the same rules. Returns the report; with the in-process bus the points
        are stored before it returns and ``inserted``/``duplicates`` are filled in.
        """
        now = now or dt.datetime.now(dt.UTC)
        outcome = validate_rows(rows, self.assets.capacities, now, self.max_future_s, self.max_age_days, text=text)
        if outcome.rejected:
            row_format = "csv" if text else "json"
            dead_letter_many(
                self.db, source, TELEMETRY_TOPIC,
                [(f"{r.field}: {r.error}", {"index": r.index, "row": r.as_dict()["row"], "format": row_format})
                 for r in outcome.rejected],
            )
        if outcome.rejected:
            INGEST_POINTS.labels("rejected").inc(len(outcome.rejected))
        report = IngestReport(received=len(rows), accepted=len(outcome.points), rejected=outcome.rejected)
        if outcome.points:
            token = _last_store.set(None)
            message = encode_columns(outcome.columns, source)
            handoff = _published.set((id(message), outcome.points, outcome.ts_us))
            try:
                self.bus.publish(TELEMETRY_TOPIC, message)
                stored = _last_store.get()
            finally:
                _published.reset(handoff)
                _last_store.reset(token)
            if stored is not None:
                report.inserted, report.duplicates = stored.inserted, stored.duplicates
        else:
            report.inserted, report.duplicates = 0, 0
        return report

    def submit_points(self, points: Sequence[ValidPoint], source: str) -> None:
        """Publish already-validated points (trusted internal producers such as the simulator)."""
        if points:
            self.bus.publish(TELEMETRY_TOPIC, encode_points(points, source))

    def _store(self, points: Sequence[ValidPoint], ts_us: Sequence[int] | None) -> tuple[StoreResult, list]:
        """Store ``points`` in one transaction, run again if the database aborted it as a deadlock
        victim or a serialization failure (it was rolled back whole, so a retry stores each point once)."""
        for attempt in range(1, STORE_ATTEMPTS + 1):
            try:
                with self.db.session() as session:
                    return store_points_in_session(session, points, ts_us)
            except OperationalError as exc:
                code = getattr(exc.orig, "sqlstate", None)
                if code not in _TRANSIENT_SQLSTATES or attempt == STORE_ATTEMPTS:
                    raise
                log.warning("telemetry store transaction aborted (%s, attempt %d of %d); running it again",
                            code, attempt, STORE_ATTEMPTS)
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def handle_message(self, message: dict[str, Any]) -> None:
        """Bus consumer: decode, store durably, then notify live listeners."""
        handed = _published.get()
        if handed is not None and handed[0] == id(message):
            points, ts_us = handed[1], handed[2]
        else:
            points = decode_points(message)
            ts_us = [ms * 1000 for ms in message["ts_ms"]]  # decode_points checked they are integers
        result, inserted = self._store(points, ts_us)
        INGEST_POINTS.labels("stored").inc(result.inserted)
        INGEST_POINTS.labels("duplicate").inc(result.duplicates)
        _last_store.set(result)
        for listener in self._listeners:
            try:
                listener(inserted)
            except Exception:
                log.exception("live listener failed")


__all__ = ["IngestReport", "IngestService", "TELEMETRY_TOPIC", "decode_points", "encode_columns", "encode_points",
           "store_points"]
