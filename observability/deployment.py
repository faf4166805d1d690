"""The deployment-wide gauges of a set of services: bus queue depths and dead letters waiting."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from data.db import Database
from data.models import DeadLetter
from observability.metrics import add_deployment_reader, clear_deployment_readers


def dead_letters_waiting(db: Database) -> dict[str, float]:
    """Return {topic (or source when it has none): dead letters not replayed yet}."""
    name = func.coalesce(func.nullif(DeadLetter.topic, ""), DeadLetter.source)
    with db.read_session() as session:
        rows = session.execute(
            select(name, func.count()).where(DeadLetter.replayed_at.is_(None)).group_by(name)
        ).all()
    return {str(name): float(count) for name, count in rows}


def queue_depths(bus: Any) -> dict[str, float]:
    """Return {queue: ready messages} of a broker bus; the in-process bus keeps no queue (empty)."""
    depths = getattr(bus, "queue_depths", None)
    return {} if depths is None else {name: float(n) for name, n in depths().items()}


def install_deployment_gauges(db: Database, bus: Any) -> None:
    """Publish the queue depth and dead-letter gauges of ``db`` and ``bus`` (replacing earlier ones)."""
    clear_deployment_readers()
    add_deployment_reader("fleetlight_bus_queue_depth", "Messages ready in each bus queue (RabbitMQ; the "
                          "in-process bus has none)", lambda: queue_depths(bus))
    add_deployment_reader("fleetlight_dead_letters_waiting", "Dead letters not replayed yet, by topic or source",
                          lambda: dead_letters_waiting(db))
