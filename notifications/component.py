"""The notifications component: the outbox's relay thread (escalation stages and due rows)."""
from __future__ import annotations

import logging
import threading
from typing import Any

from notifications.outbox import Outbox

log = logging.getLogger(__name__)
THREAD_NAME = "fleetlight-notifications"


class NotificationsComponent:
    """Runs :meth:`Outbox.tick` when woken (a change wrote rows) and at least every ``poll_s`` seconds."""

    name = "notifications"

    def __init__(self, outbox: Outbox, poll_s: float = 1.0) -> None:
        self.outbox = outbox
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.ticks = 0

    def start(self) -> None:
        """Start the relay thread (returns at once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.outbox.wake.wait(self.poll_s)
            self.outbox.wake.clear()
            if self._stop.is_set():
                break
            try:
                self.outbox.tick()
                self.last_error = None
            except Exception as exc:  # a database outage must not end the thread: the next tick retries
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("notification relay pass failed")
                self._stop.wait(self.poll_s)
            self.ticks += 1

    def stop(self, timeout: float) -> None:
        """Stop the relay thread, joined within ``timeout`` (a send in flight finishes first)."""
        self._stop.set()
        self.outbox.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def health(self) -> dict[str, Any]:
        """Return the thread's state, the outbox counters and the last error."""
        running = self._thread is not None and self._thread.is_alive()
        return {"status": "ok" if running and self.last_error is None else ("degraded" if running else "stopped"),
                "ticks": self.ticks, "last_error": self.last_error, **self.outbox.stats}
