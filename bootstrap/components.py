"""The components of a Fleetlight process: each long-lived piece with a name, start, stop and health.

Each class adapts one feature to :class:`core.component.Component`; ``bootstrap.build`` decides
which of them a role gets. Threads are named ``fleetlight-<what>`` and joined on stop.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from alerts.evaluator import RuleEngine
    from bootstrap.services import Services
    from gateway.core import Gateway
    from ingest.retention import RetentionWorker
    from ingest.service import IngestService
    from live.hub import LiveHub
    from live.price_feed import PriceFeed
    from simulator.runner import Simulator

log = logging.getLogger(__name__)

class StoreSetup:
    """Migrates the store, starts SQLite maintenance and seeds an empty store (serving processes)."""

    name = "store"

    def __init__(self, services: Services) -> None:
        self._services = services
        self._state = "stopped"

    def start(self) -> None:
        """Apply migrations, start WAL checkpoints, seed the demo fleet when the store is empty."""
        from data.fleet_admin import fleet_is_empty
        from data.migrate import upgrade_to_head

        svc = self._services
        upgrade_to_head(svc.db)
        svc.db.start_maintenance()
        if svc.settings.seed_on_start and fleet_is_empty(svc.db):
            from demo.fleet import seed_demo_fleet

            svc.fresh_fleet = True
            log.info("seeded the demo fleet: %s", seed_demo_fleet(svc.db, svc.settings.seed_assets))
        self._state = "ok"

    def stop(self, timeout: float) -> None:
        """Nothing runs here; the database (and its maintenance thread) is closed by bootstrap.stop."""
        self._state = "stopped"

    def health(self) -> dict[str, Any]:
        """Return whether the store was prepared and whether the demo fleet was seeded now."""
        return {"status": self._state, "seeded_now": self._services.fresh_fleet}


class IngestConsumer:
    """The store consumer of the telemetry topic (subscribed when built; ``start`` starts the bus)."""

    name = "ingest"

    def __init__(self, ingest: IngestService, bus: Any) -> None:
        self.ingest = ingest
        self.bus = bus
        self._running = False

    def start(self) -> None:
        """Load the asset directory and start consuming (RabbitMQ; the in-process bus is synchronous)."""
        self.ingest.assets.refresh()
        start_bus = getattr(self.bus, "start", None)
        if callable(start_bus):
            start_bus()
        self._running = True

    def stop(self, timeout: float) -> None:
        """Mark stopped; the bus's consumer threads end when bootstrap.stop closes the bus."""
        self._running = False

    def health(self) -> dict[str, Any]:
        """Return the consumer's state and its number of live listeners.

        The in-process bus delivers synchronously from the moment of subscription, so its consumer
        is "ok" even before ``start``; a broker-backed consumer is "stopped" until started.
        """
        synchronous = not callable(getattr(self.bus, "start", None))
        return {"status": "ok" if self._running or synchronous else "stopped",
                "listeners": len(self.ingest.listeners)}


class LiveHubComponent:
    """The Socket.IO live hub (its flush thread)."""

    name = "live_hub"

    def __init__(self, hub: LiveHub, redis: bool) -> None:
        self.hub = hub
        self._redis = redis

    def start(self) -> None:
        """Load the live state and start the flush thread."""
        self.hub.start()

    def stop(self, timeout: float) -> None:
        """Stop the flush thread (joined within ``timeout``)."""
        self.hub.stop(timeout)

    def health(self) -> dict[str, Any]:
        """Return the hub's state, pushes made and sites known."""
        hub = self.hub
        return {"status": "ok" if hub.running else "stopped", "pushes": hub.pushes, "sites": len(hub.state.sites),
                "redis": self._redis}


class PriceFeedComponent:
    """The demo market price feed (publishes recorded prices on the bus every 10 s)."""

    name = "price_feed"

    def __init__(self, make_feed: Callable[[], PriceFeed], on_built: Callable[[PriceFeed], None]) -> None:
        self._make_feed = make_feed
        self._on_built = on_built
        self.feed: PriceFeed | None = None

    def start(self) -> None:
        """Load the price book and start the feed thread."""
        self.feed = self._make_feed()
        self._on_built(self.feed)
        self.feed.start()

    def stop(self, timeout: float) -> None:
        """Stop the feed thread (joined within ``timeout``)."""
        if self.feed is not None:
            self.feed.stop(timeout)

    def health(self) -> dict[str, Any]:
        """Return whether the feed thread runs."""
        running = self.feed is not None and self.feed.running
        return {"status": "ok" if running else "stopped"}


class ProviderPolling:
    """Polling of every provider through the gateway, as jobs on the process scheduler."""

    name = "provider_polling"

    def __init__(self, scheduler: BackgroundScheduler, db: Any, gateway: Gateway, enabled: bool) -> None:
        self._scheduler = scheduler
        self._db = db
        self.gateway = gateway
        self.enabled = enabled
        self.job_ids: list[str] = []

    def start(self) -> None:
        """Add the polling jobs (none when ``provider_polling_enabled`` is false)."""
        if not self.enabled:
            log.info("provider polling disabled (FLEETLIGHT_PROVIDER_POLLING_ENABLED=false)")
            return
        from connectors.polling import add_polling_jobs

        self.job_ids = add_polling_jobs(self._scheduler, self._db, self.gateway)

    def stop(self, timeout: float) -> None:
        """Remove the polling jobs (a poll in progress ends with the scheduler's pool)."""
        for job_id in self.job_ids:
            try:
                self._scheduler.remove_job(job_id)
            except Exception:  # already ran (one-off replay jobs) or the scheduler is gone
                pass
        self.job_ids = []

    def health(self) -> dict[str, Any]:
        """Return the providers' gateway states; degraded when a breaker is open or a provider degraded."""
        states = {row["provider"]: row["state"] for row in self.gateway.status()}
        bad = [p for p, s in states.items() if s in ("breaker open", "degraded")]
        return {"status": "degraded" if bad else "ok", "polling": self.enabled, "jobs": list(self.job_ids),
                "providers": states}


class RetentionComponent:
    """Pruning of raw telemetry and rollups older than their retention settings."""

    name = "retention"

    def __init__(self, worker: RetentionWorker) -> None:
        self.worker = worker

    def start(self) -> None:
        """Start the pruning thread."""
        self.worker.start()

    def stop(self, timeout: float) -> None:
        """Stop the pruning thread (joined within ``timeout``)."""
        self.worker.stop(timeout)

    def health(self) -> dict[str, Any]:
        """Return whether pruning runs and how many points the last pass deleted."""
        return {"status": "ok" if self.worker.running else "stopped", "last_pruned": self.worker.last_pruned,
                "last_pruned_rollups": dict(self.worker.last_pruned_rollups)}


class SimulatorComponent:
    """The built-in simulator feeding the ingest path from the real demo data."""

    name = "simulator"

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    def start(self) -> None:
        """Start the simulator thread (back-fill, then a tick every interval)."""
        self.simulator.start()

    def stop(self, timeout: float) -> None:
        """Stop the simulator thread (joined within ``timeout``)."""
        self.simulator.stop(timeout)

    def health(self) -> dict[str, Any]:
        """Return the simulator's status (running, ticks, points, errors)."""
        status = self.simulator.status()
        return {"status": "ok" if status.get("running") else "stopped", **status}


class AlertEvaluation:
    """The rule evaluator: subscribed to stored telemetry, prices and events when built; ``start``
    loads the rules (creating the built-in ones on an empty table) and schedules the sweep (every
    ``sweep_s``) and the underperformance detector (every ``underperformance_s``, first after 60 s)."""

    name = "alerts"

    def __init__(self, engine: RuleEngine, scheduler: BackgroundScheduler, *, sweep_s: float = 60.0,
                 underperformance_s: float = 900.0) -> None:
        self.engine = engine
        self._scheduler = scheduler
        self.sweep_s = sweep_s
        self.underperformance_s = underperformance_s
        self._jobs: list[Any] = []
        self.runs: dict[str, int] = {"sweep": 0, "underperformance": 0}
        self.last_error: str | None = None
        self.last_result: dict[str, Any] = {}

    def _job(self, name: str, run: Callable[[], Any]) -> Callable[[], None]:
        def tick() -> None:
            try:
                self.last_result[name] = run()
                self.last_error = None
            except Exception as exc:
                self.last_error = f"{name}: {type(exc).__name__}: {exc}"[:300]
                log.exception("alert %s failed", name)
            self.runs[name] += 1
        return tick

    def start(self) -> None:
        """Create the built-in rules if none exist, load rules and assets, add the two jobs."""
        import datetime as dt

        from alerts.rules import ensure_default_rules

        made = ensure_default_rules(self.engine.db)
        if made:
            log.info("created %d built-in alert rules", made)
        self.engine.load()
        first = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
        self._jobs = [
            self._scheduler.add_job(self._job("sweep", self.engine.sweep), "interval", seconds=self.sweep_s,
                                    id="alerts-sweep", replace_existing=True),
            self._scheduler.add_job(self._job("underperformance", self.engine.underperformance), "interval",
                                    seconds=self.underperformance_s, id="alerts-underperformance",
                                    replace_existing=True, next_run_time=first),
        ]

    def stop(self, timeout: float) -> None:
        """Remove the jobs (a run in progress ends with the scheduler's pool)."""
        for job in self._jobs:
            try:
                job.remove()
            except Exception:  # the scheduler has already dropped it
                pass
        self._jobs = []

    def health(self) -> dict[str, Any]:
        """Return the rules loaded, evaluations made, alert changes published and job runs."""
        status = "stopped" if not self._jobs else ("degraded" if self.last_error else "ok")
        return {"status": status, "rules": len(self.engine.rules), "evaluations": self.engine.evaluations,
                "published": self.engine.book.published, "runs": dict(self.runs), "last_error": self.last_error}
