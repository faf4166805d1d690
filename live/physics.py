"""Expected output from the weather a site reports: a PVWatts PV model and a wind power curve.

Both return a fraction of the asset's AC capacity (0..1), so callers multiply by capacity in kW.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pvlib

_SAPM = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
PV_GAMMA_PDC = -0.0037  # 1/degC, crystalline silicon
PV_DC_AC_RATIO = 1.2  # default when a site does not declare its own
PV_SYSTEM_LOSSES = 0.14  # PVWatts default losses (soiling, wiring, mismatch, availability)
INVERTER_NOMINAL_EFFICIENCY = 0.96

# Wind: the rotor of a Senvion MM82 (the La Haute Borne turbines, 2.05 MW, 82 m rotor)
AIR_DENSITY = 1.225  # kg/m3 at 15 degC, sea level
ROTOR_AREA_PER_KW = math.pi * 41.0**2 / 2050.0  # m2 per kW of rating
POWER_COEFFICIENT = 0.44
CUT_IN_MS = 3.0
CUT_OUT_MS = 25.0


def solar_position(t_s: float, lat: float, lon: float) -> tuple[float, float]:
    """Return (zenith, azimuth) in degrees at epoch second ``t_s`` (Spencer 1971, ~0.5 deg; azimuth 180 = south)."""
    day = dt_day_of_year(t_s)
    decl = pvlib.solarposition.declination_spencer71(day)
    eot = pvlib.solarposition.equation_of_time_spencer71(day)  # minutes
    hour_angle = ((t_s % 86400) / 3600.0 - 12.0) * 15.0 + lon + eot / 4.0
    lat_r, ha_r = math.radians(lat), math.radians(hour_angle)
    zenith = pvlib.solarposition.solar_zenith_analytical(lat_r, ha_r, decl)
    azimuth = pvlib.solarposition.solar_azimuth_analytical(lat_r, ha_r, decl, zenith)
    return math.degrees(float(zenith)), math.degrees(float(azimuth))


def dt_day_of_year(t_s: float) -> int:
    """Return the UTC day of year (1..366) of epoch second ``t_s``."""
    return dt.datetime.fromtimestamp(t_s, dt.UTC).timetuple().tm_yday


def poa_from_ghi(ghi_wm2: float, t_s: float, lat: float, lon: float, tilt: float, azimuth: float) -> float:
    """Return plane-of-array irradiance (W/m2) from measured GHI: Erbs decomposition, isotropic sky.

    Site sensors measure global HORIZONTAL irradiance; the PV model needs the irradiance on the
    tilted modules, which in winter is 2-3x the horizontal one. 0 with the sun below the horizon.
    """
    zenith, sun_az = solar_position(t_s, lat, lon)
    if zenith >= 90.0 or ghi_wm2 <= 0:
        return 0.0
    parts = pvlib.irradiance.erbs(ghi_wm2, zenith, dt_day_of_year(t_s))
    poa = pvlib.irradiance.get_total_irradiance(tilt, azimuth, zenith, sun_az, float(parts["dni"]), ghi_wm2,
                                               float(parts["dhi"]), model="isotropic")
    value = float(poa["poa_global"])
    return max(value, 0.0) if math.isfinite(value) else 0.0


def pv_expected_fraction(irradiance_wm2: float | None, air_temp_c: float | None, wind_ms: float = 1.0,
                         dc_ac_ratio: float = 1.2) -> float | None:
    """Return expected AC output as a fraction of AC capacity for plane-of-array irradiance (W/m2).

    Chain (pvlib): SAPM cell temperature -> PVWatts DC (gamma -0.37 %/K, DC/AC 1.2, 14 % losses)
    -> PVWatts inverter (96 % nominal efficiency, clipped at AC capacity). None without irradiance.
    """
    if irradiance_wm2 is None or not math.isfinite(irradiance_wm2):
        return None
    poa = max(float(irradiance_wm2), 0.0)
    temp_air = 20.0 if air_temp_c is None or not math.isfinite(air_temp_c) else float(air_temp_c)
    cell = pvlib.temperature.sapm_cell(poa, temp_air, wind_ms, _SAPM["a"], _SAPM["b"], _SAPM["deltaT"])
    pdc0 = dc_ac_ratio  # per unit of AC capacity
    pdc = pvlib.pvsystem.pvwatts_dc(poa, cell, pdc0, PV_GAMMA_PDC) * (1.0 - PV_SYSTEM_LOSSES)
    pac = pvlib.inverter.pvwatts(pdc, pdc0=1.0 / INVERTER_NOMINAL_EFFICIENCY, eta_inv_nom=INVERTER_NOMINAL_EFFICIENCY)
    return float(np.clip(pac, 0.0, 1.0))


def wind_expected_fraction(wind_speed_ms: float | None) -> float | None:
    """Return expected output as a fraction of turbine rating at hub wind speed (m/s).

    Power curve from the rotor: 0.5 rho A v^3 Cp (rho 1.225 kg/m3, Cp 0.44, MM82 swept area per
    kW), zero below cut-in (3 m/s) and from cut-out (25 m/s), capped at rated. None without data.
    """
    if wind_speed_ms is None or not math.isfinite(wind_speed_ms):
        return None
    v = float(wind_speed_ms)
    if v < CUT_IN_MS or v >= CUT_OUT_MS:
        return 0.0
    kw_per_kw = 0.5 * AIR_DENSITY * ROTOR_AREA_PER_KW * v**3 * POWER_COEFFICIENT / 1000.0
    return min(kw_per_kw, 1.0)
