"""A store worker process: consumes the bus (RabbitMQ), stores durably, pushes live updates.

    python -m bus.worker [--group store] [--no-push]

Settings come from the environment as for the app (FLEETLIGHT_DATABASE_URL, FLEETLIGHT_RABBITMQ_URL,
FLEETLIGHT_REDIS_URL). With a Redis URL the worker's live hub pushes to browsers connected to any
web process (Socket.IO ``message_queue``); without one it only stores. Stops cleanly on SIGTERM or
SIGINT; a SIGKILL loses nothing either (unacknowledged messages are redelivered).
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from bus.rabbitmq import RabbitMQBus
from core.logging_setup import configure_logging
from core.settings import SettingsError, load_settings
from data.db import Database

log = logging.getLogger("bus.worker")


def main(argv: list[str] | None = None) -> int:
    """Run the worker until a stop signal; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bus.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--group", default="store", help="consumer group (queue fleetlight.<topic>.<group>)")
    parser.add_argument("--no-push", action="store_true", help="store only, no live pushes")
    parser.add_argument("--batch-max", type=int, default=200, help="messages stored per transaction at most")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"worker cannot start: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    from ingest.service import TELEMETRY_TOPIC, IngestService

    db = Database(settings.resolved_database_url())
    bus = RabbitMQBus(settings.rabbitmq_url, db, batch_max=args.batch_max)
    ingest = IngestService(db, bus, settings.ingest_max_future_s, settings.ingest_max_age_days)
    bus.subscribe(TELEMETRY_TOPIC, ingest.handle_message, group=args.group)
    hub = None
    if settings.redis_url and not args.no_push:
        from live.hub import LiveHub, make_emitter
        from live.prices import PriceStore

        hub = LiveHub(make_emitter(settings.redis_url), db, settings.live_push_interval_ms / 1000.0, serving=False)
        ingest.add_listener(hub.on_stored)
        bus.subscribe("prices.v1", PriceStore(db, hub).handle_message, group=args.group)
        hub.start()
    ingest.assets.refresh()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    bus.start()
    log.info("worker consuming %s as group %r (live push: %s)", TELEMETRY_TOPIC, args.group, hub is not None)
    print("worker ready", flush=True)
    stop.wait()
    log.info("worker stopping")
    bus.close()
    if hub is not None:
        hub.stop()
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
