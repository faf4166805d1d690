"""The simulator loop: every ``interval_s`` it evaluates the demo fleet model at the current instant
and submits the points through the ingest path (``IngestService.submit_points(points, "simulator")``).

* Rotation: with more assets than ``max_assets``, each tick covers the next ``max_assets`` assets
  (site meters first, every tick, so site totals stay fresh; then the others in turn).
* Back-fill: on start, history is filled on a ``step_minutes`` grid from the latest stored point of a
  simulated asset (or now - 24 h, whichever is later) up to now, within a point budget
  (meters and real-site assets first), so charts have history on the first start.
* Robustness: a failing tick is logged and counted in :meth:`Simulator.status`; the loop goes on.
* The fleet model is rebuilt from the database every ``refresh_s`` seconds (picks up a re-seed).

Timestamps: tick points carry the tick instant (UTC, whole seconds); back-fill points carry
the grid instants (multiples of ``step_minutes``). Values are instantaneous model values.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import func, select

from data.db import Database
from data.models import Asset, AssetLatest, Site

log = logging.getLogger(__name__)

SOURCE = "simulator"
SUBMIT_CHUNK = 20_000


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def load_fleet_rows(db: Database) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return (sites, assets) rows of every site with a simulator profile (``profile_key`` set)."""
    site_cols = [Site.id, Site.kind, Site.latitude, Site.longitude, Site.capacity_mw, Site.profile_key, Site.attributes]
    asset_cols = [Asset.id, Asset.site_id, Asset.kind, Asset.capacity_kw, Asset.attributes]
    with db.session() as session:
        sites = [dict(r._mapping) for r in session.execute(select(*site_cols).where(Site.profile_key != ""))]
        assets = [
            dict(r._mapping)
            for r in session.execute(
                select(*asset_cols).join(Site, Site.id == Asset.site_id).where(Site.profile_key != "").order_by(Asset.id)
            )
        ]
    return sites, assets


class Simulator:
    """Replays the demo fleet onto the current clock through the ingest path.

    ``ingest`` needs ``submit_points(points, source)``; ``db`` is the fleet's Database.
    ``model_factory(db)`` builds the fleet model (default: :class:`demo.profiles.FleetModel` on the
    sites and assets in ``db`` with the process's demo data).
    """

    def __init__(self, ingest: Any, db: Database, interval_s: float = 5.0, max_assets: int = 5000, *,
                 backfill_hours: float = 24.0, backfill_step_minutes: int = 15, backfill_max_points: int = 150_000,
                 refresh_s: float = 300.0, model_factory: Callable[[Database], Any] | None = None) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be positive; got {interval_s}")
        if max_assets < 1:
            raise ValueError(f"max_assets must be at least 1; got {max_assets}")
        self.ingest = ingest
        self.db = db
        self.interval_s = float(interval_s)
        self.max_assets = int(max_assets)
        self.backfill_hours = backfill_hours
        self.backfill_step_minutes = backfill_step_minutes
        self.backfill_max_points = backfill_max_points
        self.refresh_s = refresh_s
        self._model_factory = model_factory or _default_model
        self._model: Any = None
        self._model_built = 0.0
        self._cursor = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = "stopped"
        self._last_tick: dt.datetime | None = None
        self._points_last_tick = 0
        self._points_total = 0
        self._ticks = 0
        self._errors = 0
        self._last_error: str | None = None
        self._backfilled = 0

    # -- model -------------------------------------------------------------------------------

    def model(self, force: bool = False) -> Any:
        """Return the fleet model, rebuilding it when older than ``refresh_s`` (or ``force``)."""
        if force or self._model is None or time.monotonic() - self._model_built > self.refresh_s:
            self._model = self._model_factory(self.db)
            self._model_built = time.monotonic()
            n = len(self._model.asset_ids)
            self._cursor = self._cursor % n if n else 0
        return self._model

    def _rotation(self, model: Any) -> np.ndarray:
        """Return the asset rows for this tick (meters first, then the next slice of the others)."""
        n = len(model.asset_ids)
        if n <= self.max_assets:
            return np.arange(n)
        meters = np.asarray(model.meter_rows, dtype=np.int64)
        if len(meters) >= self.max_assets:
            chosen = np.take(meters, np.arange(self._cursor, self._cursor + self.max_assets), mode="wrap")
            self._cursor = (self._cursor + self.max_assets) % len(meters)
            return chosen
        others = np.setdiff1d(np.arange(n), meters, assume_unique=True)
        k = self.max_assets - len(meters)
        chosen = np.take(others, np.arange(self._cursor, self._cursor + k), mode="wrap")
        self._cursor = (self._cursor + k) % len(others)
        return np.concatenate([meters, np.unique(chosen)])

    # -- work --------------------------------------------------------------------------------

    def _submit(self, points: list) -> None:
        for start in range(0, len(points), SUBMIT_CHUNK):
            self.ingest.submit_points(points[start : start + SUBMIT_CHUNK], source=SOURCE)

    def tick(self, now: dt.datetime | None = None) -> int:
        """Evaluate the model at ``now`` (default: the current time) and submit; return the points sent.

        Never raises: an error is logged, counted in :meth:`status` and 0 is returned.
        """
        now = (now or _utcnow()).astimezone(dt.UTC).replace(microsecond=0)
        try:
            with self._lock:
                model = self.model()
                if not model.asset_ids:
                    count = 0
                else:
                    rows = self._rotation(model)
                    evaluation = model.evaluate([int(now.timestamp())])
                    points = model.points(evaluation, rows)
                    self._submit(points)
                    count = len(points)
            self._ticks += 1
            self._last_tick = now
            self._points_last_tick = count
            self._points_total += count
            return count
        except Exception as exc:
            self._errors += 1
            self._last_error = f"{type(exc).__name__}: {exc}"
            log.exception("simulator tick at %s failed", now.isoformat())
            return 0

    def latest_stored(self) -> dt.datetime | None:
        """Return the latest stored timestamp of any simulated asset (from ``asset_latest``), or None."""
        with self.db.session() as session:
            return session.execute(
                select(func.max(AssetLatest.ts))
                .join(Asset, Asset.id == AssetLatest.asset_id)
                .join(Site, Site.id == Asset.site_id)
                .where(Site.profile_key != "")
            ).scalar()

    def backfill(self, hours: float | None = None, step_minutes: int | None = None, now: dt.datetime | None = None,
                 max_points: int | None = None, after_latest: bool = True) -> int:
        """Fill history up to ``now`` on a ``step_minutes`` grid; return the number of points submitted.

        Starts after the latest stored point of a simulated asset or at ``now - hours``, whichever
        is later (``after_latest=False`` fills the whole window; stored points are skipped by the
        exactly-once store); a :meth:`stop` ends it after the block of 24 steps in progress. At most
        ``max_points`` points (default ``backfill_max_points``): when the fleet
        is too large, meters and real-site assets are filled first, then as many other assets as
        fit. Errors propagate (callers in the loop log and count them).
        """
        hours = self.backfill_hours if hours is None else hours
        step_s = int((step_minutes or self.backfill_step_minutes) * 60)
        if step_s <= 0:
            raise ValueError(f"step_minutes must be positive; got {step_minutes}")
        budget = self.backfill_max_points if max_points is None else max_points
        now = (now or _utcnow()).astimezone(dt.UTC)
        start = now - dt.timedelta(hours=hours)
        latest = self.latest_stored() if after_latest else None
        if latest is not None and latest > start:
            start = latest
        first = (int(start.timestamp()) // step_s + 1) * step_s
        times = np.arange(first, int(now.timestamp()) + 1, step_s, dtype=np.int64)
        if not len(times):
            return 0
        with self._lock:
            model = self.model()
            n = len(model.asset_ids)
            if not n:
                return 0
            rows = self._backfill_rows(model, budget // max(1, 2 * len(times)))
            sent = 0
            for block in np.array_split(times, max(1, len(times) // 24)):
                if self._stop.is_set():  # stopping: the rest is filled after the next start
                    break
                evaluation = model.evaluate(block)
                points = model.points(evaluation, rows)
                self._submit(points)
                sent += len(points)
        self._backfilled += sent
        return sent

    @staticmethod
    def _backfill_rows(model: Any, max_rows: int) -> np.ndarray:
        n = len(model.asset_ids)
        if n <= max_rows:
            return np.arange(n)
        real = {s["id"] for s in model.sites if s.get("profile_key") in ("wind:lhb", "pv:pvdaq50", "pv:serf_east")}
        first = np.array([i for i, a in enumerate(model.assets) if a["site_id"] in real], dtype=np.int64)
        meters = np.asarray(model.meter_rows, dtype=np.int64)
        priority = np.concatenate([first, meters[~np.isin(meters, first)]])
        if len(priority) >= max_rows:
            return priority[: max(1, max_rows)]
        rest = np.setdiff1d(np.arange(n), priority)
        return np.concatenate([priority, rest[: max_rows - len(priority)]])

    # -- thread ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the daemon thread: back-fill once, then tick every ``interval_s`` until :meth:`stop`."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._state = "starting"
        self._thread = threading.Thread(target=self._run, name="fleetlight-simulator", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to stop and wait up to ``timeout`` seconds for it."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._state = "stopped"

    def _run(self) -> None:
        try:
            self._state = "backfilling"
            sent = self.backfill()
            log.info("simulator back-filled %d points", sent)
        except Exception as exc:
            self._errors += 1
            self._last_error = f"backfill: {type(exc).__name__}: {exc}"
            log.exception("simulator back-fill failed")
        self._state = "running"
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.tick()
            next_at += self.interval_s
            delay = next_at - time.monotonic()
            if delay < 0:  # running late: skip missed ticks rather than bursting
                next_at = time.monotonic()
                delay = 0.0
            if self._stop.wait(delay):
                break
        self._state = "stopped"

    def status(self) -> dict[str, Any]:
        """Return the simulator's state for the health endpoint (JSON-ready)."""
        thread = self._thread
        model = self._model
        return {
            "running": bool(thread is not None and thread.is_alive() and not self._stop.is_set()),
            "state": self._state,
            "last_tick": self._last_tick.isoformat() if self._last_tick else None,
            "points_last_tick": self._points_last_tick,
            "points_total": self._points_total,
            "ticks": self._ticks,
            "errors": self._errors,
            "last_error": self._last_error,
            "backfilled_points": self._backfilled,
            "assets": len(model.asset_ids) if model is not None else None,
            "interval_s": self.interval_s,
            "max_assets": self.max_assets,
        }


def _default_model(db: Database) -> Any:
    from demo.profiles import FleetModel
    from demo.series import default_data

    sites, assets = load_fleet_rows(db)
    return FleetModel(sites, assets, default_data())
