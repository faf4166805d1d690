"""What an adapter knows of its devices: when each last answered, its last error, whether it is stale."""
from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class DeviceState:
    """One device (a topic's asset, a Modbus unit) as its adapter saw it."""

    last_value_at: dt.datetime | None = None
    last_value_mono: float | None = None
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    points: int = 0
    rejected: int = 0


class DeviceBook:
    """Thread-safe device states of one adapter; stale after ``stale_after_s`` without a value."""

    def __init__(self, stale_after_s: float) -> None:
        self.stale_after_s = stale_after_s
        self._devices: dict[str, DeviceState] = {}
        self._lock = threading.Lock()

    def seen(self, name: str, points: int, rejected: int = 0) -> None:
        """Record that ``name`` delivered ``points`` good points (and ``rejected`` bad ones) now."""
        with self._lock:
            state = self._devices.setdefault(name, DeviceState())
            state.last_value_at, state.last_value_mono = dt.datetime.now(dt.UTC), time.monotonic()
            state.points += points
            state.rejected += rejected

    def failed(self, name: str, error: str) -> None:
        """Record ``error`` for device ``name``."""
        with self._lock:
            state = self._devices.setdefault(name, DeviceState())
            state.last_error, state.last_error_at = error[:500], dt.datetime.now(dt.UTC)

    def known(self, name: str) -> None:
        """Make sure ``name`` is listed (a configured device that never answered is stale)."""
        with self._lock:
            self._devices.setdefault(name, DeviceState())

    def stale(self) -> list[str]:
        """Return the devices without a value for longer than ``stale_after_s`` (or never)."""
        now = time.monotonic()
        with self._lock:
            return sorted(n for n, s in self._devices.items()
                          if s.last_value_mono is None or now - s.last_value_mono > self.stale_after_s)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Return every device's state as plain values (times as ISO text), with its stale flag."""
        stale = set(self.stale())
        with self._lock:
            return {n: {"last_value_at": s.last_value_at.isoformat() if s.last_value_at else None,
                        "last_error": s.last_error,
                        "last_error_at": s.last_error_at.isoformat() if s.last_error_at else None,
                        "points": s.points, "rejected": s.rejected, "stale": n in stale}
                    for n, s in sorted(self._devices.items())}
