"""Battery dispatch against real day-ahead prices: charge in the cheap hours, discharge in the dear ones.

A simple, transparent rule (no optimiser): for each UTC day of the price series, the battery
charges at full power in the ``duration_h`` cheapest hours and discharges in the ``duration_h``
dearest hours, provided the spread covers the round-trip losses plus a margin. State of charge is
tracked hour by hour over the whole series and kept within [soc_min, soc_max].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DispatchSchedule:
    """Hourly schedule aligned with the price series.

    ``power_frac`` (n,): power as a fraction of rated power during hour i, positive = discharge
    (export), negative = charge. ``soc_pct`` (n + 1,): state of charge [%] at the START of hour i
    (``soc_pct[n]`` is the end of the last hour).
    """

    power_frac: np.ndarray
    soc_pct: np.ndarray


def dispatch(prices: np.ndarray, duration_h: float, round_trip_eff: float = 0.88, soc_min: float = 5.0,
             soc_max: float = 95.0, soc_start: float = 50.0, min_spread: float = 5.0) -> DispatchSchedule:
    """Return the schedule of a battery of ``duration_h`` hours on hourly ``prices`` [EUR/MWh].

    ``prices`` length must be a multiple of 24 (whole days, hour-beginning labels). Charging
    stores ``sqrt(eff)`` of the energy drawn; discharging delivers ``sqrt(eff)`` of the energy taken.
    A day trades only if its dearest-hours price times the efficiency exceeds the cheapest-hours
    price by ``min_spread`` EUR/MWh.
    """
    p = np.asarray(prices, dtype=float)
    if p.ndim != 1 or len(p) % 24:
        raise ValueError(f"prices must be 1-D whole days of hourly values; got shape {p.shape}")
    if not duration_h > 0:
        raise ValueError(f"duration_h must be positive; got {duration_h}")
    days = p.reshape(-1, 24)
    k = int(max(1, min(12, round(duration_h))))
    ordered = np.sort(days, axis=1)
    low = ordered[:, k - 1 : k]
    high = ordered[:, 24 - k : 24 - k + 1]
    trade = (high * round_trip_eff - low) > min_spread
    want = np.where(trade & (days <= low), -1.0, np.where(trade & (days >= high), 1.0, 0.0)).ravel()
    eta = float(np.sqrt(round_trip_eff))
    step_pct = 100.0 / duration_h  # % of energy capacity per hour at full power
    soc = np.empty(len(p) + 1)
    soc[0] = soc_start
    frac = np.zeros(len(p))
    for i, w in enumerate(want):
        s = soc[i]
        if w < 0:
            f = -min(1.0, max(0.0, (soc_max - s) / (step_pct * eta)))
            s = s - f * step_pct * eta
        elif w > 0:
            f = min(1.0, max(0.0, (s - soc_min) * eta / step_pct))
            s = s - f * step_pct / eta
        else:
            f = 0.0
        frac[i] = f
        soc[i + 1] = min(soc_max, max(soc_min, s))
    return DispatchSchedule(frac, soc)
