"""In-process bus: synchronous delivery in the publishing thread, failures dead-lettered."""
from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any

from bus.base import DeliveryFailed, Handler
from bus.deadletter import dead_letter
from data.db import Database

log = logging.getLogger(__name__)


class InProcessBus:
    """Delivers each message to every subscriber group before ``publish`` returns.

    A handler that raises does not stop other groups: the message is dead-lettered with the
    reason for that group and ``publish`` raises :class:`DeliveryFailed` once all groups ran.
    """

    def __init__(self, db: Database | None) -> None:
        self._db = db
        self._handlers: dict[str, list[tuple[str, Handler]]] = defaultdict(list)
        self._lock = threading.Lock()

    def subscribe(self, topic: str, handler: Handler, group: str = "default") -> None:
        """Register ``handler`` for ``topic`` under ``group``."""
        with self._lock:
            self._handlers[topic].append((group, handler))

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Run every handler of ``topic`` on ``message``; raise DeliveryFailed if any failed.

        A message on a topic of the schema registry is validated against its registered version
        first; an invalid one is dead-lettered with the reason and raises SchemaError.
        """
        from bus.registry import REGISTRY, SchemaError

        if topic in REGISTRY.topics():
            try:
                REGISTRY.validate(topic, message)
            except SchemaError as exc:
                if self._db is not None:
                    dead_letter(self._db, "bus.publish", topic, str(exc), message)
                raise
        failures = []
        for group, handler in list(self._handlers.get(topic, ())):
            try:
                handler(message)
            except Exception as exc:
                reason = f"{group}: {type(exc).__name__}: {exc}"
                log.exception("handler %s failed on topic %s", group, topic)
                if self._db is not None:
                    try:
                        dead_letter(self._db, f"bus.{group}", topic, reason, message)
                    except Exception:
                        log.exception("could not dead-letter a message on %s", topic)
                failures.append(reason)
        if failures:
            raise DeliveryFailed("; ".join(failures))

    def close(self, timeout: float = 5.0) -> None:
        """Drop every subscription (nothing to wait for: delivery is synchronous)."""
        with self._lock:
            self._handlers.clear()
