"""The conditions of the rules, as pure state machines over (time, value) samples.

The live evaluator, the rules editor's 7-day preview and ``bench/alert_noise.py`` all run these
same machines, so what the preview shows is what the evaluator would have raised.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from live.physics import _minute_solar_position

Transition = Literal["raise", "clear"]
# the sun is "up" for a PV expectation when its zenith is below this (elevation above 0 degrees)
DAYLIGHT_MAX_ZENITH_DEG = 90.0


def is_daylight(ts: dt.datetime, latitude: float | None, longitude: float | None) -> bool:
    """Return True when the sun is above the horizon at ``ts`` for a site at (latitude, longitude).

    A site without coordinates counts as always in daylight (its silence is never excused).
    Uses the one solar position of the live expectation (:mod:`live.physics`), per minute.
    """
    if latitude is None or longitude is None:
        return True
    zenith, _azimuth = _minute_solar_position(int(ts.timestamp() // 60), float(latitude), float(longitude))
    return zenith < DAYLIGHT_MAX_ZENITH_DEG


@dataclass
class ThresholdMachine:
    """Hysteresis plus durations for one series.

    ``direction`` "above": the condition is value >= raise_level; it raises once the condition
    held for ``raise_after`` (a sample below raise_level before then cancels it); once raised, it
    clears when values stay at or below ``clear_level`` for ``clear_after`` (a sample above
    clear_level restarts that quiet time). "below" mirrors it. Durations of zero act at once.
    """

    direction: Literal["above", "below"]
    raise_level: float
    clear_level: float
    raise_after: dt.timedelta = dt.timedelta(0)
    clear_after: dt.timedelta = dt.timedelta(0)
    active: bool = False
    pending_since: dt.datetime | None = None
    last_value: float | None = None
    last_ts: dt.datetime | None = None

    def _on(self, value: float) -> bool:
        return value >= self.raise_level if self.direction == "above" else value <= self.raise_level

    def _off(self, value: float) -> bool:
        return value <= self.clear_level if self.direction == "above" else value >= self.clear_level

    def feed(self, ts: dt.datetime, value: float) -> Transition | None:
        """Take one sample (in time order); return "raise" or "clear" when the state changes."""
        if self.last_ts is not None and ts <= self.last_ts:
            return None  # late or repeated sample: the machine only moves forward
        self.last_ts, self.last_value = ts, value
        if not self.active:
            if not self._on(value):
                self.pending_since = None
                return None
            if self.pending_since is None:
                self.pending_since = ts
            if ts - self.pending_since >= self.raise_after:
                self.active, self.pending_since = True, None
                return "raise"
            return None
        if not self._off(value):
            self.pending_since = None
            return None
        if self.pending_since is None:
            self.pending_since = ts
        if ts - self.pending_since >= self.clear_after:
            self.active, self.pending_since = False, None
            return "clear"
        return None


def plain_threshold(direction: Literal["above", "below"], level: float) -> ThresholdMachine:
    """A threshold without hysteresis or durations (the baseline of the noise benchmark)."""
    return ThresholdMachine(direction, level, level)


@dataclass
class FlapDetector:
    """Flap detection per dedup key: ``max_changes`` raise/clear changes within ``window`` make a key
    flapping; it stops flapping once it made no change for a whole ``window``.

    While flapping, the lifecycle keeps the alert raised and suppressed (one alert, no new pages)
    instead of resolving and re-raising it on every change.
    """

    window: dt.timedelta = dt.timedelta(hours=1)
    max_changes: int = 4
    changes: dict[str, list[dt.datetime]] = field(default_factory=dict)

    def record(self, key: str, ts: dt.datetime) -> int:
        """Record one change of ``key`` at ``ts``; return the changes within the window ending at ``ts``."""
        kept = [t for t in self.changes.get(key, []) if ts - t < self.window]
        kept.append(ts)
        self.changes[key] = kept
        return len(kept)

    def flapping(self, key: str, ts: dt.datetime) -> bool:
        """Return True if ``key`` made ``max_changes`` or more changes in the window ending at ``ts``."""
        return len([t for t in self.changes.get(key, []) if ts - t < self.window]) >= self.max_changes

    def quiet_since(self, key: str) -> dt.datetime | None:
        """Return the time of the last change of ``key`` (None if never seen)."""
        times = self.changes.get(key)
        return times[-1] if times else None


def run_machine(machine: ThresholdMachine, samples: Iterable[tuple[dt.datetime, float]]
                ) -> list[tuple[dt.datetime, Transition]]:
    """Feed ``samples`` in order; return the transitions with their times."""
    out: list[tuple[dt.datetime, Transition]] = []
    for ts, value in samples:
        change = machine.feed(ts, value)
        if change is not None:
            out.append((ts, change))
    return out
