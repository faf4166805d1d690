"""Which stored 15-minute means a KPI may stand on: physically plausible ranges per metric.

Ingest rejects values outside the acceptance ranges of :mod:`ingest.metrics`; these ranges are
tighter, what a working sensor at a plant can report (the -273.2 degC and -92 degC readings of
La Haute Borne's temperature sensor are faults, not weather). A rollup row whose min or max lies
outside them is a sensor fault: its interval is excluded from the KPIs and counted as excluded.
"""
from __future__ import annotations

import polars as pl

# (low, high) of a plausible reading; power-like metrics are per kW of the asset's capacity
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "irradiance_wm2": (-10.0, 1500.0),
    "temperature_c": (-45.0, 60.0),
    "wind_speed_ms": (0.0, 50.0),
}
PLAUSIBLE_POWER_PER_KW: tuple[float, float] = (-0.2, 1.2)


def fault_expr() -> pl.Expr:
    """Return a boolean polars expression over a rollup frame (metric, min, max[, capacity_kw]): True = sensor fault.

    A weather metric is faulty outside :data:`PLAUSIBLE`; ``power_kw`` outside
    :data:`PLAUSIBLE_POWER_PER_KW` x capacity (when the frame carries ``capacity_kw``); a non-finite
    min or max is a fault whatever the metric.
    """
    expr = pl.lit(False)
    for metric, (low, high) in PLAUSIBLE.items():
        expr = expr | ((pl.col("metric") == metric) & ((pl.col("min") < low) | (pl.col("max") > high)))
    return expr | ~pl.col("min").is_finite() | ~pl.col("max").is_finite()


def power_fault_expr() -> pl.Expr:
    """Return True where a power rollup (mean_kw, capacity_kw) is outside the plausible share of capacity."""
    low, high = PLAUSIBLE_POWER_PER_KW
    cap = pl.col("capacity_kw")
    return (cap > 0) & ((pl.col("power_min_kw") < low * cap) | (pl.col("power_max_kw") > high * cap))
