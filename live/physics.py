"""Expected output from the weather a site reports: a PVWatts PV model and a wind power curve.

Both return a fraction of the asset's AC capacity (0..1), so callers multiply by capacity in kW.
"""
from __future__ import annotations

import datetime as dt
import functools
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


@functools.lru_cache(maxsize=16_384)
def _minute_solar_position(minute: int, lat: float, lon: float) -> tuple[float, float]:
    # the sun moves 0.25 deg a minute: one position per site and minute (at its middle) serves every push
    return solar_position(minute * 60 + 30.0, lat, lon)


def poa_from_ghi(ghi_wm2: float, t_s: float, lat: float, lon: float, tilt: float, azimuth: float) -> float:
    """Return plane-of-array irradiance (W/m2) from measured GHI: Erbs decomposition, isotropic sky.

    Site sensors measure global HORIZONTAL irradiance; the PV model needs the irradiance on the
    tilted modules, which in winter is 2-3x the horizontal one. 0 with the sun below the horizon.
    """
    zenith, sun_az = _minute_solar_position(int(t_s // 60), lat, lon)
    if zenith >= 90.0 or ghi_wm2 <= 0:
        return 0.0
    parts = pvlib.irradiance.erbs(ghi_wm2, zenith, dt_day_of_year(t_s))
    poa = pvlib.irradiance.get_total_irradiance(tilt, azimuth, zenith, sun_az, float(parts["dni"]), ghi_wm2,
                                               float(parts["dhi"]), model="isotropic")
    value = float(poa["poa_global"])
    return max(value, 0.0) if math.isfinite(value) else 0.0


def pv_expected_fraction(irradiance_wm2: float | None, air_temp_c: float | None, wind_ms: float = 1.0,
                         dc_ac_ratio: float = 1.2, losses: float = PV_SYSTEM_LOSSES) -> float | None:
    """Return expected AC output as a fraction of AC capacity for plane-of-array irradiance (W/m2).

    Chain (pvlib): SAPM cell temperature -> PVWatts DC (gamma -0.37 %/K, DC/AC 1.2, 14 % losses)
    -> PVWatts inverter (96 % nominal efficiency, clipped at AC capacity). None without irradiance.
    The same numbers as :func:`pv_expected_fraction_array` on one value.
    """
    if irradiance_wm2 is None or not math.isfinite(irradiance_wm2):
        return None
    temp_air = 20.0 if air_temp_c is None or not math.isfinite(air_temp_c) else float(air_temp_c)
    out = pv_expected_fraction_array(np.array([float(irradiance_wm2)]), np.array([temp_air]), wind_ms, dc_ac_ratio, losses)
    return float(out[0])


def cell_temperature_array(poa_wm2: np.ndarray, air_temp_c: np.ndarray, wind_ms: float = 1.0) -> np.ndarray:
    """Return the SAPM cell temperature (degC, open rack glass/polymer) for POA irradiance and air temperature."""
    return np.asarray(pvlib.temperature.sapm_cell(poa_wm2, air_temp_c, wind_ms, _SAPM["a"], _SAPM["b"], _SAPM["deltaT"]),
                      dtype=float)


def pv_expected_fraction_array(poa_wm2: np.ndarray, air_temp_c: np.ndarray, wind_ms: float = 1.0,
                               dc_ac_ratio: float = PV_DC_AC_RATIO, losses: float = PV_SYSTEM_LOSSES) -> np.ndarray:
    """Return expected AC output / AC capacity (0..1) per element of plane-of-array irradiance (W/m2).

    The chain of :func:`pv_expected_fraction` on arrays: NaN irradiance gives NaN, NaN air
    temperature is taken as 20 degC, negative irradiance as 0.
    """
    poa = np.clip(np.asarray(poa_wm2, dtype=float), 0.0, None)
    temp_air = np.where(np.isfinite(air_temp_c), air_temp_c, 20.0).astype(float)
    cell = cell_temperature_array(poa, temp_air, wind_ms)
    pdc = pvlib.pvsystem.pvwatts_dc(poa, cell, dc_ac_ratio, PV_GAMMA_PDC) * (1.0 - losses)
    pac = pvlib.inverter.pvwatts(pdc, pdc0=1.0 / INVERTER_NOMINAL_EFFICIENCY, eta_inv_nom=INVERTER_NOMINAL_EFFICIENCY)
    return np.clip(np.asarray(pac, dtype=float), 0.0, 1.0)


def solar_position_array(t_s: np.ndarray, lat: float, lon: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (zenith, azimuth) in degrees per epoch second of ``t_s`` (the formulas of :func:`solar_position`)."""
    t = np.asarray(t_s, dtype=float)
    doy = _day_of_year_array(t)
    decl = pvlib.solarposition.declination_spencer71(doy)
    eot = pvlib.solarposition.equation_of_time_spencer71(doy)
    hour_angle = ((t % 86400) / 3600.0 - 12.0) * 15.0 + lon + eot / 4.0
    lat_r, ha_r = math.radians(lat), np.radians(hour_angle)
    zenith = pvlib.solarposition.solar_zenith_analytical(lat_r, ha_r, decl)
    azimuth = pvlib.solarposition.solar_azimuth_analytical(lat_r, ha_r, decl, zenith)
    return np.degrees(np.asarray(zenith, dtype=float)), np.degrees(np.asarray(azimuth, dtype=float))


def _day_of_year_array(t_s: np.ndarray) -> np.ndarray:
    days = np.floor(np.asarray(t_s, dtype=float) / 86400.0).astype("datetime64[D]")
    return (days - days.astype("datetime64[Y]")).astype(int) + 1


def poa_from_ghi_array(ghi_wm2: np.ndarray, t_s: np.ndarray, lat: float, lon: float, tilt: float | np.ndarray,
                       azimuth: float | np.ndarray) -> np.ndarray:
    """Return plane-of-array irradiance (W/m2) per element: :func:`poa_from_ghi` on arrays.

    The sun is placed at the middle of the minute of each ``t_s`` as the scalar path does; NaN
    GHI gives NaN; 0 with the sun below the horizon or GHI <= 0. ``tilt``/``azimuth`` may be
    arrays (a tracker's surface angles).
    """
    t = np.asarray(t_s, dtype=float)
    ghi = np.asarray(ghi_wm2, dtype=float)
    zenith, sun_az = solar_position_array(np.floor(t / 60.0) * 60.0 + 30.0, lat, lon)
    doy = _day_of_year_array(t)
    with np.errstate(invalid="ignore", divide="ignore"):
        parts = pvlib.irradiance.erbs(np.clip(ghi, 0.0, None), zenith, doy)
        poa = pvlib.irradiance.get_total_irradiance(tilt, azimuth, zenith, sun_az, np.asarray(parts["dni"], float),
                                                   np.clip(ghi, 0.0, None), np.asarray(parts["dhi"], float),
                                                   model="isotropic")
    value = np.asarray(poa["poa_global"], dtype=float)
    value = np.where(np.isfinite(value), np.clip(value, 0.0, None), 0.0)
    value = np.where((zenith >= 90.0) | (ghi <= 0), 0.0, value)
    return np.where(np.isnan(ghi), np.nan, value)


def wind_expected_fraction(wind_speed_ms: float | None, air_density: float = AIR_DENSITY) -> float | None:
    """Return expected output as a fraction of turbine rating at hub wind speed (m/s).

    Power curve from the rotor: 0.5 rho A v^3 Cp (rho 1.225 kg/m3, Cp 0.44, MM82 swept area per
    kW), zero below cut-in (3 m/s) and from cut-out (25 m/s), capped at rated. None without data.
    ``air_density`` scales the power below rated (the curve is the one at 1.225 kg/m3).
    """
    if wind_speed_ms is None or not math.isfinite(wind_speed_ms):
        return None
    return float(wind_expected_fraction_array(np.array([float(wind_speed_ms)]), air_density)[0])


def wind_expected_fraction_array(wind_speed_ms: np.ndarray, air_density: float | np.ndarray = AIR_DENSITY) -> np.ndarray:
    """Return :func:`wind_expected_fraction` per element (NaN speed gives NaN)."""
    v = np.asarray(wind_speed_ms, dtype=float)
    kw_per_kw = 0.5 * np.asarray(air_density, dtype=float) * ROTOR_AREA_PER_KW * v**3 * POWER_COEFFICIENT / 1000.0
    out = np.where((v < CUT_IN_MS) | (v >= CUT_OUT_MS), 0.0, np.minimum(kw_per_kw, 1.0))
    return np.where(np.isnan(v), np.nan, out)
