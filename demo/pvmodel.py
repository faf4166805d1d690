"""Vectorised clear-sky PV output for many sites at once, built from pvlib's array functions.

Every function broadcasts site parameters of shape ``(n_sites, 1)`` against timestamps of shape
``(n_times,)``; timestamps are UTC epoch seconds (instants; callers choose the interval convention).
The chain is pvlib's: Spencer (1971) solar position, Kasten-Young air mass, Ineichen-Perez clear sky
with the monthly Linke turbidity climatology shipped with pvlib, isotropic transposition,
SAPM cell temperature, PVWatts DC and PVWatts inverter.
"""
from __future__ import annotations

import functools

import numpy as np
import pvlib

_MID_MONTH_DOY = np.array([15.5, 45.0, 74.5, 105.0, 135.5, 166.0, 196.5, 227.5, 258.0, 288.5, 319.0, 349.5])
_SAPM = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
GAMMA_PDC = -0.0037  # 1/degC, c-Si
INVERTER_EFFICIENCY = 0.965


def day_of_year(t_s: np.ndarray) -> np.ndarray:
    """Return the fractional day of year (1.0 = Jan 1 00:00 UTC) of epoch seconds ``t_s``."""
    t = np.asarray(t_s, dtype=np.int64)
    year_start = t.astype("datetime64[s]").astype("datetime64[Y]").astype("datetime64[s]").astype(np.int64)
    return 1.0 + (t - year_start) / 86400.0


def solar_position(t_s: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (zenith, azimuth) in degrees for every site x time (Spencer 1971, ~0.5 deg accuracy).

    ``t_s``: epoch seconds UTC, shape (n_t,); ``lat``/``lon``: degrees, broadcastable to (n_s, 1).
    Azimuth is clockwise from north (180 = south).
    """
    t = np.asarray(t_s, dtype=np.int64)
    doy = day_of_year(t)
    decl = pvlib.solarposition.declination_spencer71(np.floor(doy))
    eot = pvlib.solarposition.equation_of_time_spencer71(np.floor(doy))  # minutes
    hours_utc = (t % 86400) / 3600.0
    hour_angle = (hours_utc - 12.0) * 15.0 + np.asarray(lon, dtype=float) + eot / 4.0
    lat_r = np.radians(np.asarray(lat, dtype=float))
    ha_r = np.radians(hour_angle)
    zenith = pvlib.solarposition.solar_zenith_analytical(lat_r, ha_r, decl)
    azimuth = pvlib.solarposition.solar_azimuth_analytical(lat_r, ha_r, decl, zenith)
    return np.degrees(zenith), np.degrees(azimuth)


@functools.lru_cache(maxsize=4096)
def _linke_cell(lat_q: float, lon_q: float) -> tuple[float, ...]:
    import pandas as pd

    months = pd.date_range("2021-01-15", periods=12, freq=pd.DateOffset(months=1), tz="UTC")
    values = pvlib.clearsky.lookup_linke_turbidity(months, lat_q, lon_q, interp_turbidity=False)
    return tuple(float(v) for v in values)


def linke_turbidity_monthly(lat: float | None, lon: float | None) -> np.ndarray:
    """Return the 12 monthly Linke turbidity values (pvlib climatology) at a 0.25-degree cell."""
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return np.full(12, 3.0)
    return np.array(_linke_cell(round(lat * 4) / 4, round(lon * 4) / 4))


def _turbidity_at(linke: np.ndarray, doy: np.ndarray) -> np.ndarray:
    """Interpolate monthly turbidity (n_s, 12) linearly between mid-months to (n_s, n_t)."""
    pos = np.interp(doy, _MID_MONTH_DOY, np.arange(12.0), period=365.0)
    i0 = np.floor(pos).astype(int) % 12
    i1 = (i0 + 1) % 12
    w = pos - np.floor(pos)
    return linke[:, i0] * (1.0 - w) + linke[:, i1] * w


def clearsky_pv(
    t_s: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    tilt: np.ndarray,
    azimuth: np.ndarray,
    dc_ac_ratio: np.ndarray,
    altitude_m: np.ndarray,
    linke_monthly: np.ndarray,
    temp_air_c: float | np.ndarray = 20.0,
    wind_ms: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (AC output per kW of AC rating [kW/kW, 0..1], clear-sky GHI [W/m2]), shape (n_s, n_t).

    Site parameters are 1-D arrays of length n_s (tilt/azimuth in degrees, azimuth 180 = south,
    ``dc_ac_ratio`` = DC nameplate / AC rating, ``linke_monthly`` shape (n_s, 12)); ``t_s`` are
    instants in UTC epoch seconds. Output is 0 whenever the sun is below the horizon.
    """
    t = np.atleast_1d(np.asarray(t_s, dtype=np.int64))
    col = lambda a: np.asarray(a, dtype=float).reshape(-1, 1)  # noqa: E731
    lat, lon, tilt, azimuth, dc_ac, alt = map(col, (lat, lon, tilt, azimuth, dc_ac_ratio, altitude_m))
    zen, azi = solar_position(t, lat, lon)
    doy = day_of_year(t)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        am_rel = pvlib.atmosphere.get_relative_airmass(zen)
        am_abs = pvlib.atmosphere.get_absolute_airmass(am_rel, pvlib.atmosphere.alt2pres(alt))
        dni_extra = pvlib.irradiance.get_extra_radiation(np.floor(doy))
        lt = _turbidity_at(np.asarray(linke_monthly, dtype=float).reshape(len(lat), 12), doy)
        cs = pvlib.clearsky.ineichen(zen, am_abs, lt, altitude=alt, dni_extra=dni_extra)
        ghi = np.nan_to_num(np.asarray(cs["ghi"], dtype=float))
        dni = np.nan_to_num(np.asarray(cs["dni"], dtype=float))
        dhi = np.nan_to_num(np.asarray(cs["dhi"], dtype=float))
        poa = pvlib.irradiance.get_total_irradiance(tilt, azimuth, zen, azi, dni, ghi, dhi, model="isotropic")
        poa_global = np.clip(np.nan_to_num(np.asarray(poa["poa_global"], dtype=float)), 0.0, None)
        cell = pvlib.temperature.sapm_cell(poa_global, temp_air_c, wind_ms, **_SAPM)
        pdc = pvlib.pvsystem.pvwatts_dc(poa_global, cell, dc_ac, GAMMA_PDC)
        pac = pvlib.inverter.pvwatts(pdc, 1.0 / INVERTER_EFFICIENCY, eta_inv_nom=INVERTER_EFFICIENCY)
    night = zen >= 90.0
    pac = np.where(night, 0.0, np.clip(np.nan_to_num(pac), 0.0, 1.0))
    ghi = np.where(night, 0.0, ghi)
    return pac, ghi
