"""A store worker process: consumes the bus (RabbitMQ), stores durably, pushes live updates.

    python -m bus.worker [--group store] [--no-push]

Settings come from the environment as for the app (FLEETLIGHT_DATABASE_URL, FLEETLIGHT_RABBITMQ_URL,
FLEETLIGHT_REDIS_URL). With a Redis URL the worker's live hub pushes to browsers connected to any
web process (Socket.IO ``message_queue``); without one it only stores. The services are those of
``bootstrap.build.build(settings, "worker")``. Stops cleanly on SIGTERM or SIGINT; a SIGKILL loses
nothing either (unacknowledged messages are redelivered).
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from core.logging_setup import configure_logging
from core.settings import SettingsError, load_settings

log = logging.getLogger("bus.worker")


def main(argv: list[str] | None = None) -> int:
    """Run the worker until a stop signal; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bus.worker", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--group", default="store", help="consumer group (queue fleetlight.<topic>.<group>)")
    parser.add_argument("--no-push", action="store_true", help="store only, no live pushes")
    parser.add_argument("--batch-max", type=int, default=200, help="messages stored per transaction at most")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"worker cannot start: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    from bootstrap.build import build, start, stop
    from bus.rabbitmq import RabbitMQBus
    from data.db import Database
    from ingest.service import TELEMETRY_TOPIC

    db = Database(settings.resolved_database_url())
    bus = RabbitMQBus(settings.rabbitmq_url, db, batch_max=args.batch_max)
    services = build(settings, "worker", db=db, bus=bus, consumer_group=args.group, live_push=not args.no_push)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    start(services)
    log.info("worker consuming %s as group %r (live push: %s)", TELEMETRY_TOPIC, args.group, services.hub is not None)
    print("worker ready", flush=True)
    # wait in short steps: a signal that lands just before a blocking wait begins is only handled when
    # the wait returns (a wait without a timeout then never ends: the worker ignored SIGTERM 1 run in 5)
    while not stopping.wait(0.25):
        pass
    log.info("worker stopping")
    stop(services)
    return 0


if __name__ == "__main__":
    sys.exit(main())
