"""The lifecycle every long-lived piece of a Fleetlight process implements.

A component is anything that lives as long as the process: a bus consumer, the live hub, a
poller, a scheduled job, an adapter. The composition root (``bootstrap.build``) starts the
components of a role in order and stops them in reverse order; ``health()`` feeds
``GET /api/v1/health`` and the integrations page. ``core`` imports nothing of the app.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Protocol, runtime_checkable

# Every thread a component starts carries this prefix, so a test (or an operator's thread dump)
# can tell the process's own threads from the libraries' ones.
THREAD_PREFIX = "fleetlight-"


@runtime_checkable
class Component(Protocol):
    """A long-lived part of the process with an explicit start and stop."""

    name: str

    def start(self) -> None:
        """Start the component's work (threads, jobs, subscriptions); returns at once."""

    def stop(self, timeout: float) -> None:
        """Stop the work and wait at most ``timeout`` seconds for its threads to end."""

    def health(self) -> dict[str, Any]:
        """Return ``{"status": "ok" | "degraded" | "stopped" | "disabled" | "down", ...details}``."""


def join_thread(thread: threading.Thread | None, deadline: float) -> bool:
    """Join ``thread`` until the monotonic ``deadline``; return True when it has ended (or was None)."""
    if thread is None or thread is threading.current_thread():
        return True
    thread.join(max(0.0, deadline - time.monotonic()))
    return not thread.is_alive()
