"""The telemetry metrics Fleetlight accepts, with units and physically plausible ranges."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSpec:
    """A metric name, its unit and the closed range a value must fall in.

    ``per_capacity`` ranges are multiples of the asset's capacity in kW (for power-like metrics).
    """

    name: str
    unit: str
    low: float
    high: float
    per_capacity: bool = False
    description: str = ""


METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec("power_kw", "kW", -1.5, 1.5, True, "active power, positive = export"),
        MetricSpec("reactive_power_kvar", "kvar", -2.0, 2.0, True, "reactive power"),
        MetricSpec("energy_kwh", "kWh", 0.0, 1e12, False, "cumulative energy meter"),
        MetricSpec("availability_pct", "%", 0.0, 100.0),
        MetricSpec("wind_speed_ms", "m/s", 0.0, 80.0),
        MetricSpec("wind_direction_deg", "deg", 0.0, 360.0),
        MetricSpec("irradiance_wm2", "W/m2", -10.0, 1600.0, False, "plane-of-array or global irradiance"),
        MetricSpec("temperature_c", "degC", -60.0, 90.0, False, "ambient or module temperature"),
        MetricSpec("soc_pct", "%", 0.0, 100.0, False, "battery state of charge"),
        MetricSpec("voltage_kv", "kV", 0.0, 800.0),
        MetricSpec("frequency_hz", "Hz", 40.0, 70.0),
        MetricSpec("curtailment_kw", "kW", 0.0, 1.5, True, "power held back by a setpoint"),
    )
}


def range_for(metric: str, capacity_kw: float) -> tuple[float, float]:
    """Return the (low, high) bounds a value of ``metric`` must lie in for an asset of ``capacity_kw``."""
    spec = METRICS[metric]
    if spec.per_capacity:
        # a small absolute allowance keeps tiny assets from rejecting sensor noise
        return spec.low * capacity_kw - 1.0, spec.high * capacity_kw + 1.0
    return spec.low, spec.high
