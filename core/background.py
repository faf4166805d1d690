"""Background jobs started when the app serves: history for a fresh demo, forecasts, schedules."""
from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from core import runtime
from data.models import utcnow

log = logging.getLogger(__name__)

HISTORY_DAYS = 45


def make_scheduler(services: runtime.Services) -> Any:
    """Return the process's APScheduler BackgroundScheduler (created and started once)."""
    scheduler = services.extras.get("scheduler")
    if scheduler is None:
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        scheduler.start()
        services.extras["scheduler"] = scheduler
    return scheduler


def _history_then_forecasts(services: runtime.Services, simulator: Any | None, fresh_fleet: bool) -> None:
    try:
        if simulator is not None and fresh_fleet:
            window_end = utcnow() - dt.timedelta(hours=24)
            sent = simulator.backfill(hours=HISTORY_DAYS * 24, step_minutes=60, now=window_end,
                                      max_points=2_000_000, after_latest=False)
            log.info("back-filled %d hourly history points (%d days) for the demo fleet", sent, HISTORY_DAYS)
        from forecasting.service import retrain_all, schedule_retraining

        retrain_all(services.db)
        schedule_retraining(make_scheduler(services), services.db)
        log.info("forecast models trained and retraining scheduled")
    except Exception:
        log.exception("history back-fill or forecast training failed")


def start_alert_raiser(services: runtime.Services, every_s: float = 30.0) -> Any:
    """Schedule the job that turns operational events into alerts; return the raiser."""
    from alerts.raiser import AlertRaiser

    raiser = AlertRaiser(services.db)
    services.extras["alert_raiser"] = raiser
    make_scheduler(services).add_job(raiser.run_once, "interval", seconds=every_s, id="alert-raiser",
                                     replace_existing=True)
    return raiser


def start_history_and_forecasts(services: runtime.Services, simulator: Any | None, fresh_fleet: bool) -> threading.Thread:
    """Start, in a daemon thread, the demo history back-fill (fresh fleets) and forecast training."""
    thread = threading.Thread(target=_history_then_forecasts, args=(services, simulator, fresh_fleet),
                              name="history-and-forecasts", daemon=True)
    thread.start()
    return thread
