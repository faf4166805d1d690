"""The process-wide accessor of the services built by the composition root (``bootstrap``).

Dash callbacks and Flask routes cannot take arguments, so they reach the process's services
through :func:`services`; everything else receives what it needs as arguments. ``core`` imports
nothing of the app at run time: the types below are for the type checker only.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bootstrap.services import Services
    from data.db import Database

_current: Any = None


def install(services: Services) -> Services:
    """Make ``services`` the process-wide services and return them."""
    global _current
    _current = services
    return services


def installed() -> Services | None:
    """Return the installed services, or None before start-up has installed them."""
    return _current


def services() -> Services:
    """Return the installed services; raises RuntimeError before start-up has installed them."""
    if _current is None:
        raise RuntimeError("Fleetlight services are not initialised (create the app first)")
    return _current


def db() -> Database:
    """Return the process's Database."""
    return services().db
