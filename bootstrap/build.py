"""The composition root: ``build(settings, role)`` wires a process, ``start``/``stop`` run its lifecycle.

Roles:

* ``web``: the Dash/Flask server (``python app.py``, gunicorn): every feature below.
* ``worker``: the store worker (``python -m bus.worker``): the ingest consumer of a RabbitMQ
  consumer group, and the live hub pushing through Redis when configured.
* ``cli``: ``flask --app app <command>`` helpers and scripts: settings, store, bus, ingest; nothing runs.
* ``test``: like ``cli`` plus the ingest consumer (what the test fixtures need).

``FEATURES`` lists every long-lived feature: each entry is a small function that wires the feature
into the services and returns its component, or None when the role or the settings leave it out.
Adding a feature is one component (``bootstrap.components``) and one line in ``FEATURES``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from bootstrap.components import (
    AlertEvaluation,
    IngestConsumer,
    LiveHubComponent,
    PriceFeedComponent,
    ProviderPolling,
    RetentionComponent,
    SimulatorComponent,
    StoreSetup,
)
from bootstrap.jobs import Forecasting
from bootstrap.services import Role, Services
from core.component import THREAD_PREFIX, Component, join_thread
from core.settings import Settings
from data.db import Database

log = logging.getLogger(__name__)

ROLES: tuple[Role, ...] = ("web", "worker", "cli", "test")
STOP_TIMEOUT_S = 10.0


def make_scheduler() -> Any:
    """Return the process's one APScheduler BackgroundScheduler (not started; its threads named)."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1},
        executors={"default": ThreadPoolExecutor(10, pool_kwargs={"thread_name_prefix": f"{THREAD_PREFIX}job"})},
    )


# --- features: each wires itself into the services and returns its component (or None) ---------

def store_setup(services: Services) -> Component | None:
    """Migrations, SQLite maintenance and demo seeding, first thing a serving process does."""
    return StoreSetup(services) if services.role == "web" else None


def ingest_consumer(services: Services) -> Component | None:
    """The store consumer of the telemetry topic (web, worker, test)."""
    if services.role == "cli":
        return None
    from ingest.service import TELEMETRY_TOPIC

    services.bus.subscribe(TELEMETRY_TOPIC, services.ingest.handle_message, group=services.consumer_group)
    return IngestConsumer(services.ingest, services.bus)


def live_hub(services: Services) -> Component | None:
    """The Socket.IO hub fed by the ingest consumer, and the price store pushing to it."""
    from live.hub import LiveHub, make_emitter, make_socketio
    from live.price_feed import PRICES_TOPIC
    from live.prices import PriceStore

    settings = services.settings
    if services.role == "web":
        services.socketio = make_socketio()  # bound to the Flask app by bootstrap.web
        hub = LiveHub(services.socketio, services.db, settings.live_push_interval_ms / 1000.0, serving=True,
                      shared=bool(settings.redis_url))
    elif services.role == "worker" and services.live_push and settings.redis_url:
        hub = LiveHub(make_emitter(settings.redis_url), services.db, settings.live_push_interval_ms / 1000.0,
                      serving=False)
    else:
        return None
    services.hub = hub
    services.ingest.add_listener(hub.on_stored)
    store = PriceStore(services.db, hub)
    services.bus.subscribe(PRICES_TOPIC, store.handle_message, group=services.consumer_group)
    hub.extra_full_state["markets"] = store.full_state
    services.price_store = store
    return LiveHubComponent(hub, bool(settings.redis_url))


def price_feed(services: Services) -> Component | None:
    """The demo market price feed (web, with the simulator on)."""
    if services.role != "web" or not services.settings.simulator_enabled:
        return None
    from live.price_feed import PriceFeed, load_price_book

    def make() -> PriceFeed:
        return PriceFeed(services.bus, load_price_book(services.settings.demo_data_dir))

    def keep(feed: PriceFeed) -> None:
        services.price_feed = feed

    return PriceFeedComponent(make, keep)


def provider_polling(services: Services) -> Component | None:
    """Polling of every provider through the gateway (web; off with provider_polling_enabled=false)."""
    if services.role != "web" or services.gateway is None:
        return None
    return ProviderPolling(services.scheduler, services.db, services.gateway,
                           services.settings.provider_polling_enabled)


def alerts(services: Services) -> Component | None:
    """The rule evaluator on telemetry, prices and events from the bus, the lifecycle publishing
    ``alert.changed``, the live hub's alerts room (web)."""
    if services.role != "web":
        return None
    from alerts.evaluator import RuleEngine
    from alerts.lifecycle import ALERT_CHANGED_TOPIC, AlertBook
    from bus.eventlog import EVENTS_TOPIC, event_message
    from live.price_feed import PRICES_TOPIC

    book = AlertBook(services.db, services.bus)
    engine = RuleEngine(services.db, book)
    services.alert_book, services.rule_engine = book, engine
    from ingest.service import TELEMETRY_TOPIC

    # its own consumer group: every point reaches the evaluator, whichever process stores it; on the
    # in-process bus it runs after the store consumer (subscribed first), in the publishing thread
    services.bus.subscribe(TELEMETRY_TOPIC, engine.on_telemetry, group="alerts")
    services.bus.subscribe(PRICES_TOPIC, engine.on_prices, group="alerts")
    services.bus.subscribe(EVENTS_TOPIC, engine.on_event, group="alerts")
    if services.gateway is not None:
        bus = services.bus

        def publish_events(rows: list[dict[str, Any]]) -> None:
            for row in rows:
                bus.publish(EVENTS_TOPIC, event_message(row))

        services.gateway.call_log.on_events = publish_events
    hub = services.hub
    if hub is not None:
        from live.hub import push_alert_changed

        services.bus.subscribe(ALERT_CHANGED_TOPIC, lambda m: push_alert_changed(hub, m), group="live")
    return AlertEvaluation(engine, services.scheduler)


def notifications(services: Services) -> Component | None:
    """The notification outbox: alert.changed and provider callbacks in, relay thread out (web)."""
    if services.role != "web" or services.gateway is None:
        return None
    from notifications.component import NotificationsComponent
    from notifications.outbox import Outbox
    from notifications.receipts import Receipts

    services.outbox = Outbox.from_settings(services.db, services.bus, services.gateway, services.settings)
    services.outbox.subscribe()
    from alerts.lifecycle import book_of

    Receipts(services.db, services.outbox, book_of(services)).subscribe(services.bus)
    return NotificationsComponent(services.outbox)


def forecasting(services: Services) -> Component | None:
    """Forecast training at start and scheduled retraining (web)."""
    return Forecasting(services) if services.role == "web" else None


def retention(services: Services) -> Component | None:
    """Pruning of raw telemetry and rollups past their retention windows (web)."""
    if services.role != "web":
        return None
    from ingest.retention import RetentionWorker

    services.retention = RetentionWorker(services.db, services.settings.raw_retention_days,
                                         rollup_days=services.settings.rollup_retention_days())
    return RetentionComponent(services.retention)


def scada(services: Services) -> Component | None:
    """The SCADA adapters of ``FLEETLIGHT_SCADA_CONFIG`` (web; none without the setting)."""
    path = services.settings.scada_config
    if services.role != "web" or path is None:
        return None
    from scada.component import ScadaAdapters

    return ScadaAdapters.from_file(path, services.ingest, services.db, services.settings.stale_after_s)


def simulator(services: Services) -> Component | None:
    """The built-in simulator (web, with simulator_enabled)."""
    if services.role != "web" or not services.settings.simulator_enabled:
        return None
    from simulator.runner import Simulator

    settings = services.settings
    services.simulator = Simulator(services.ingest, services.db, settings.simulator_interval_s,
                                   settings.simulator_max_assets)
    return SimulatorComponent(services.simulator)


# Start order; stop runs in reverse. The store is ready before anything reads it, the hub has its
# state before the bus delivers, the simulator starts last so every consumer of its points runs.
FEATURES: list[Callable[[Services], Component | None]] = [
    store_setup, live_hub, ingest_consumer, price_feed, provider_polling, alerts, notifications, forecasting,
    retention, scada, simulator,
]


def build(settings: Settings, role: Role, *, db: Database | None = None, bus: Any = None,
          consumer_group: str = "store", live_push: bool = True) -> Services:
    """Return the wired, not yet started, services of a process of ``role``, installed as current.

    ``db`` and ``bus`` may be given (tests pass their database, the worker its RabbitMQ bus);
    ``consumer_group`` names the bus consumer group of the worker, ``live_push=False`` keeps a
    worker from pushing to browsers. Raises ValueError for an unknown role.
    """
    if role not in ROLES:
        raise ValueError(f"unknown process role {role!r}; expected one of {', '.join(ROLES)}")
    from bus import make_bus
    from connectors.recorded import register_recordings
    from core import runtime
    from ingest.service import IngestService

    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    database = db if db is not None else Database(settings.resolved_database_url(), echo=settings.db_echo)
    the_bus = bus if bus is not None else make_bus(settings, database)
    ingest = IngestService(database, the_bus, settings.ingest_max_future_s, settings.ingest_max_age_days)
    services = Services(settings=settings, db=database, bus=the_bus, ingest=ingest, scheduler=make_scheduler(),
                        role=role, consumer_group=consumer_group, live_push=live_push)
    register_recordings()
    if role == "web":
        from gateway.core import Gateway, install_gateway

        services.gateway = Gateway(settings)
        previous = install_gateway(services.gateway)
        if previous is not None:
            previous.close()
    for feature in FEATURES:
        component = feature(services)
        if component is not None:
            services.components.append(component)
    from observability.deployment import install_deployment_gauges

    install_deployment_gauges(database, the_bus)
    return runtime.install(services)


def start(services: Services) -> None:
    """Start the scheduler, then every component in order (idempotent)."""
    if services.started:
        return
    services.scheduler.start()
    services.scheduler._thread.name = f"{THREAD_PREFIX}scheduler"  # APScheduler names it "APScheduler"
    for component in services.components:
        log.info("starting %s", component.name)
        component.start()
    services.started = True
    log.info("started: %s", ", ".join(c.name for c in services.components) or "no components")


def stop(services: Services, timeout: float = STOP_TIMEOUT_S) -> list[str]:
    """Stop the components in reverse order, then the scheduler, bus, gateway and database.

    Shares ``timeout`` seconds among them; returns the names of our threads still alive after it
    (empty when everything stopped).
    """
    deadline = time.monotonic() + timeout
    for component in reversed(services.components):
        log.info("stopping %s", component.name)
        try:
            component.stop(max(0.1, deadline - time.monotonic()))
        except Exception:
            log.exception("stopping %s failed", component.name)
    if services.scheduler.running:
        services.scheduler.shutdown(wait=False)
    if services.bus is not None and hasattr(services.bus, "close"):
        services.bus.close(max(0.1, deadline - time.monotonic()))
    if services.gateway is not None:
        from gateway.core import install_gateway

        current = install_gateway(None)
        if current is not services.gateway:
            install_gateway(current)  # another gateway was installed since: leave it
        services.gateway.close()
    services.db.dispose()
    services.started = False
    for thread in threading.enumerate():
        if thread.name.startswith(THREAD_PREFIX):
            join_thread(thread, deadline)
    left = [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX) and t.is_alive()]
    if left:
        log.warning("threads still running after stop: %s", ", ".join(left))
    return left
