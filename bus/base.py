"""The bus interface every backend implements."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Handler = Callable[[dict[str, Any]], None]


class DeliveryFailed(RuntimeError):
    """A handler could not process a message; the message was kept in the dead-letter store."""


class MessageBus(Protocol):
    """Publish/subscribe of JSON-ready dict messages on named topics."""

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Deliver ``message`` to every subscriber group of ``topic``."""

    def subscribe(self, topic: str, handler: Handler, group: str = "default") -> None:
        """Register ``handler`` for ``topic`` under consumer ``group``."""

    def close(self, timeout: float = 5.0) -> None:
        """Stop consumers and release connections, waiting at most ``timeout`` seconds in all."""
