"""The definition of each period KPI: label, unit, formula and the standard it follows.

The /performance page's help popovers, the site page and ``GET /api/v1/kpis`` show these texts;
:mod:`domain.performance_kpis` computes exactly what they say.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class KpiDefinition:
    """One KPI's key, label, unit, formula (plain text) and standard."""

    key: str
    label: str
    unit: str
    formula: str
    standard: str

    def as_dict(self) -> dict[str, str]:
        """Return the definition as a JSON-ready dict."""
        return asdict(self)


_VALID = "over the intervals with power data, an expectation and no sensor fault"
DEFINITIONS: dict[str, KpiDefinition] = {d.key: d for d in (
    KpiDefinition("actual_energy_mwh", "Actual energy", "MWh",
                  "Σ E_AC: the exported energy of each 15-min power rollup (trapezoid of measured power, negative "
                  "power counts 0), over the intervals with power data", "IEC 61724-1 E_out"),
    KpiDefinition("expected_energy_mwh", "Expected energy", "MWh",
                  "Σ E_exp: PV = PVWatts (pvlib) on measured GHI transposed to the plane of array (Erbs, isotropic "
                  "sky), the plant's DC/AC, tilt, azimuth, tracking and losses; wind = the turbine's reference power "
                  f"curve at the air density of the interval; {_VALID}", "IEC 61724-1 (PVWatts model); IEC 61400-12-1"),
    KpiDefinition("performance_index_pct", "Actual / expected", "%",
                  f"100 × Σ E_AC / Σ E_exp {_VALID}; a dash when Σ E_exp is under 5 % of capacity × hours",
                  "performance index, IEC 61724-1 / NREL weather-corrected"),
    KpiDefinition("performance_ratio_pct", "Performance ratio", "%",
                  "PR = Y_f / Y_r = (Σ E_AC / P0) / (Σ G_POA·Δt / G_STC), P0 the DC nameplate (kWp), G_STC = 1 kW/m², "
                  f"G_POA transposed from measured GHI; PV only, {_VALID}", "IEC 61724-1:2021 §10.3 (PR)"),
    KpiDefinition("performance_ratio_temp_pct", "PR, temperature-corrected", "%",
                  "PR' = Σ E_AC / Σ (P0 · G_POA/G_STC · (1 + γ (T_cell − 25 °C)) · Δt), γ = −0.37 %/K, T_cell from the "
                  "SAPM model on measured air temperature", "IEC 61724-1:2021 §10.3 (PR_STC, C_k); NREL/TP-5200-57991"),
    KpiDefinition("capacity_factor_pct", "Capacity factor", "%",
                  "100 × Σ E_AC / (P_AC × hours of the intervals with power data)", "IEC 61724-1 (capacity utilisation)"),
    KpiDefinition("specific_yield_kwh_kw", "Specific yield", "kWh/kW",
                  "Σ E_AC / P0 (PV: DC nameplate kWp; wind: rated kW) over the intervals with power data",
                  "IEC 61724-1 Y_f (final yield)"),
    KpiDefinition("availability_time_technical_pct", "Availability (time, technical)", "%",
                  "100 × intervals running, curtailed or without resource / intervals (asset × 15 min) "
                  f"{_VALID}; a curtailment (requested stop) counts as available",
                  "IEC 61400-26-1 (technical, time-based)"),
    KpiDefinition("availability_time_operational_pct", "Availability (time, operational)", "%",
                  f"100 × intervals running or without resource / intervals {_VALID}; a curtailment counts as unavailable",
                  "IEC 61400-26-1 (operational, time-based)"),
    KpiDefinition("availability_energy_pct", "Availability (energy)", "%",
                  "100 × Σ E_AC / (Σ E_AC + downtime loss)", "IEC 61400-26-2 (production-based)"),
    KpiDefinition("loss_downtime_mwh", "Lost to downtime", "MWh",
                  "Σ (E_exp − E_AC) over the intervals an asset was down: resource there (E_exp > 1 % of capacity), "
                  "no output over 1 %, no curtailment", "IEC 61400-26-2 lost production"),
    KpiDefinition("loss_curtailment_mwh", "Lost to curtailment", "MWh",
                  "Σ (E_exp − E_AC) over the intervals with a curtailment setpoint (curtailment_kw > 1 % of capacity)",
                  "IEC 61400-26-2 (requested shutdown / derating)"),
    KpiDefinition("loss_underperformance_mwh", "Underperformance", "MWh",
                  "Σ (E_exp − E_AC) over the remaining intervals (running or without resource); negative = "
                  "over-performance. Expected − downtime − curtailment − underperformance = actual exactly",
                  "loss waterfall (OpenOA / IEC 61724-3 style)"),
)}
