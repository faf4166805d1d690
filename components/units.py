"""Units shown to people: readable names of stored variables, and the power unit of a chart.

Stored columns carry their unit in a suffix (``ghi_wm2``, ``temperature_c``); charts and tooltips
show ``GHI (W/m²)``. A plant below 1 MW is charted in kW (a 0.5 MW PV system in MW reads 0.0005
on its ticks).
"""
from __future__ import annotations

VARIABLE_LABELS = {
    "output_mw": "output (MW)", "temperature_c": "air temperature (°C)", "cloud_cover_pct": "cloud cover (%)",
    "wind_speed_ms": "wind speed (m/s)", "wind_direction_deg": "wind direction (°)", "ghi_wm2": "GHI (W/m²)",
    "precipitation_mm": "precipitation (mm)", "pressure_hpa": "pressure (hPa)", "irradiance_wm2": "irradiance (W/m²)",
}
KW_BELOW_MW = 1.0


def variable_label(column: str) -> str:
    """Return the readable name with unit of a stored column; ``"x (measured)"`` keeps its suffix."""
    base, _, rest = column.partition(" ")
    label = VARIABLE_LABELS.get(base)
    if label is None:
        return column
    return f"{label} {rest}".strip() if rest else label


def power_unit(capacity_mw: float | None) -> tuple[str, float]:
    """Return (unit, factor from MW) for charting a plant of ``capacity_mw``: ("kW", 1000) below 1 MW, else ("MW", 1)."""
    if capacity_mw is not None and 0 < capacity_mw < KW_BELOW_MW:
        return "kW", 1000.0
    return "MW", 1.0
