"""The process's long-lived services (settings, database, bus), built once at start-up.

Pages, callbacks, API routes and CLI commands reach them through :func:`services` instead of
building their own; tests build their own :class:`Services` and install it with :func:`install`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.settings import Settings
from data.db import Database


@dataclass
class Services:
    """Everything with a lifetime of the process."""

    settings: Settings
    db: Database
    bus: Any = None
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Close the bus and the database pool."""
        if self.bus is not None and hasattr(self.bus, "close"):
            self.bus.close()
        self.db.dispose()


_current: Services | None = None


def install(services: Services) -> Services:
    """Make ``services`` the process-wide services and return them."""
    global _current
    _current = services
    return services


def services() -> Services:
    """Return the installed services; raises RuntimeError before start-up has installed them."""
    if _current is None:
        raise RuntimeError("Fleetlight services are not initialised (create the app first)")
    return _current


def db() -> Database:
    """Return the process's Database."""
    return services().db
