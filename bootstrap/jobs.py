"""Background work as jobs on the process's one scheduler: forecast training.

* :class:`Forecasting`: at start, the demo history back-fill of a freshly seeded fleet, then
  forecast training site by site (a stop is honoured between sites), then the retraining job
  on the scheduler every ``forecast_retrain_hours``.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from core.component import THREAD_PREFIX, join_thread

if TYPE_CHECKING:

    from bootstrap.services import Services

log = logging.getLogger(__name__)

HISTORY_DAYS = 45  # hourly demo history back-filled for a freshly seeded fleet


class Forecasting:
    """Trains the forecast models once at start (after the demo history back-fill of a fresh fleet),
    then retrains on the process scheduler every ``forecast_retrain_hours``."""

    name = "forecasting"

    def __init__(self, services: Services) -> None:
        self._services = services
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = "stopped"
        self.trained = 0
        self.last_error: str | None = None

    def start(self) -> None:
        """Start the training thread (returns at once)."""
        self._stop.clear()
        self.state = "starting"
        self._thread = threading.Thread(target=self._run, name=f"{THREAD_PREFIX}forecasting", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from data.forecast_queries import forecast_sites
        from data.models import utcnow
        from forecasting.service import retrain_all, schedule_retraining

        svc = self._services
        try:
            simulator = svc.simulator
            if simulator is not None and svc.fresh_fleet:
                self.state = "back-filling history"
                window_end = utcnow() - dt.timedelta(hours=24)
                sent = simulator.backfill(hours=HISTORY_DAYS * 24, step_minutes=60, now=window_end,
                                          max_points=2_000_000, after_latest=False)
                log.info("back-filled %d hourly history points (%d days) for the demo fleet", sent, HISTORY_DAYS)
            self.state = "training"
            with svc.db.session() as session:
                site_ids = [s["id"] for s in forecast_sites(session, None)]
            for site_id in site_ids:  # one site at a time, so that a stop is honoured between sites
                if self._stop.is_set():
                    self.state = "stopped"
                    return
                retrain_all(svc.db, site_ids=[site_id])
                self.trained += 1
            schedule_retraining(svc.scheduler, svc.db, svc.settings.forecast_retrain_hours)
            self.state = "ok"
            log.info("forecast models trained for %d sites and retraining scheduled", self.trained)
        except Exception as exc:
            self.state = "degraded"
            self.last_error = f"{type(exc).__name__}: {exc}"[:200]
            log.exception("history back-fill or forecast training failed")

    def stop(self, timeout: float) -> None:
        """Stop after the site being trained and remove the retraining job."""
        self._stop.set()
        join_thread(self._thread, time.monotonic() + timeout)
        try:
            self._services.scheduler.remove_job("forecast-retrain")
        except Exception:  # never scheduled (training was stopped or failed)
            pass
        self.state = "stopped"

    def health(self) -> dict[str, Any]:
        """Return the training state, sites trained and the last error."""
        status = self.state if self.state in ("ok", "degraded", "stopped") else "ok"
        return {"status": status, "state": self.state, "sites_trained": self.trained, "last_error": self.last_error}
