"""The one definition of energy: a trapezoid over the measured power points of the UTC day.

* Segments join consecutive power points of one asset; a segment belongs to the bucket (15 min,
  hour, UTC day) of its START (interval-start convention), so a day's energy is the sum of the
  segments that start that day.
* A gap longer than ``energy_max_gap_s`` is not bridged (the segment counts 0).
* Only the exported part counts: each point's power is clipped at 0 before the trapezoid, so a
  battery charging adds nothing and a day's energy never decreases in a replay.

The store (ingest) keeps these segment sums in ``telemetry_rollups.energy_kwh``; the live hub
advances the same sum with the same :func:`segment_kwh`.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from core.settings import Settings, get_settings


def max_gap_s(settings: Settings | None = None) -> float:
    """Return the longest gap (seconds) between two power points the integral bridges."""
    return float((settings or get_settings()).energy_max_gap_s)


def segment_kwh(p0_kw: float, p1_kw: float, dt_s: float, max_gap: float) -> float:
    """Return the energy (kWh) of one segment: trapezoid of the exported power, 0 over a long gap."""
    if dt_s <= 0 or dt_s > max_gap:
        return 0.0
    return (max(p0_kw, 0.0) + max(p1_kw, 0.0)) / 2.0 * dt_s / 3600.0


def segment_kwh_array(p0_kw: np.ndarray, p1_kw: np.ndarray, dt_s: np.ndarray, max_gap: float) -> np.ndarray:
    """Return :func:`segment_kwh` of each element of the arrays (kWh; 0 where the gap is not bridged)."""
    bridged = (dt_s > 0) & (dt_s <= max_gap)
    kwh = (np.maximum(p0_kw, 0.0) + np.maximum(p1_kw, 0.0)) / 2.0 * dt_s / 3600.0
    return np.where(bridged, kwh, 0.0)


def trapezoid_kwh(points: Iterable[tuple[float, float]], max_gap: float) -> float:
    """Return the energy (kWh) of ``points`` ((epoch seconds, kW), any order) by :func:`segment_kwh`."""
    ordered = sorted(points)
    return sum(segment_kwh(a[1], b[1], b[0] - a[0], max_gap) for a, b in zip(ordered, ordered[1:], strict=False))
