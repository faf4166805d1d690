"""Expected output now, from the physics in :mod:`live.physics` applied to the site's own weather.

* PV (inverters of a solar or hybrid site): the site's sensors report global HORIZONTAL
  irradiance; it is transposed to the plane of the modules (tilt/azimuth from the site's profile,
  else the demo's defaults) before the PVWatts chain, with the site's DC/AC ratio. Reading GHI as
  plane-of-array irradiance was what made December solar sites show 236-342 % performance.
* Wind (turbines): the power curve at each turbine's own wind speed, else the site's mean.
* Batteries are dispatched, not weather-driven: no expectation. A site without fresh weather of
  its own has no expectation (None), never a neighbour's.

Over periods (:mod:`domain.performance`) the same chains run on arrays of 15-minute means:
:func:`pv_expected_fraction_series` (with the plant's tracking and losses) and
:func:`wind_expected_kw_series` (the turbine's reference curve at the air density of the
interval, IEC 61400-12-1 normalisation read backwards: the curve holds at 1.225 kg/m3).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pvlib

from live.physics import (
    AIR_DENSITY,
    PV_DC_AC_RATIO,
    PV_SYSTEM_LOSSES,
    cell_temperature_array,
    poa_from_ghi,
    poa_from_ghi_array,
    pv_expected_fraction,
    pv_expected_fraction_array,
    solar_position_array,
    wind_expected_fraction,
    wind_expected_fraction_array,
)

GAS_CONSTANT_DRY_AIR = 287.05  # J/(kg K)
SEA_LEVEL_PRESSURE_PA = 101_325.0


@dataclass(frozen=True)
class PvGeometry:
    """Where a PV array points and how it is sized (degrees; azimuth 180 = south)."""

    latitude: float
    longitude: float
    tilt: float
    azimuth: float
    dc_ac_ratio: float


def pv_geometry(latitude: float, longitude: float, attributes: dict | None) -> PvGeometry:
    """Return the PV geometry of a site from its ``attributes["profile"]`` (defaults as the demo model)."""
    attrs = attributes or {}
    prof = dict(attrs.get("profile") or {})
    lat = float(prof.get("model_lat", latitude))
    lon = float(prof.get("model_lon", longitude))
    # the profile (demo model) first, then the plant's declared tilt_deg / azimuth_deg (measured sites)
    tilt = float(prof.get("tilt", attrs.get("tilt_deg", min(35.0, max(10.0, abs(lat) * 0.7)))))
    azimuth = float(prof.get("azimuth", attrs.get("azimuth_deg", 180.0 if lat >= 0 else 0.0)))
    return PvGeometry(lat, lon, tilt, azimuth, float(prof.get("dc_ac", PV_DC_AC_RATIO)))


def pv_expected_kw(ghi_wm2: float | None, temp_c: float | None, inverter_kw: float, geometry: PvGeometry,
                   t_s: float) -> float | None:
    """Return the expected PV output (kW) of ``inverter_kw`` of inverters, None without irradiance."""
    if ghi_wm2 is None:
        return None
    poa = poa_from_ghi(ghi_wm2, t_s, geometry.latitude, geometry.longitude, geometry.tilt, geometry.azimuth)
    frac = pv_expected_fraction(poa, temp_c, dc_ac_ratio=geometry.dc_ac_ratio)
    return None if frac is None else frac * inverter_kw


def wind_expected_kw(turbines: Sequence[tuple[float, float | None]], site_wind_ms: float | None) -> float | None:
    """Return the expected output (kW) of turbines given as (rating kW, own wind speed or None).

    A turbine without its own speed uses ``site_wind_ms``; None if no turbine has any speed.
    """
    total, known = 0.0, False
    for rating_kw, own in turbines:
        speed = own if own is not None else site_wind_ms
        frac = wind_expected_fraction(speed)
        if frac is not None:
            total += frac * rating_kw
            known = True
    return total if known else None


def site_expected_kw(pv_kw: float | None, wind_kw: float | None) -> float | None:
    """Return a site's expected output (kW): the sum of the parts that have an expectation, else None."""
    parts = [p for p in (pv_kw, wind_kw) if p is not None]
    return sum(parts) if parts else None


@dataclass(frozen=True)
class PvPlant:
    """A PV plant's configuration for the period model: geometry, sizes (kW), tracking, losses.

    ``dc_kw`` is the DC nameplate P0 of IEC 61724-1 (``attributes.dc_kw``, else DC/AC ratio x AC);
    ``tracking`` "fixed" or "single_axis" (N-S axis, +-60 deg, backtracking at ``gcr``).
    """

    geometry: PvGeometry
    ac_kw: float
    dc_kw: float
    tracking: str = "fixed"
    losses: float = PV_SYSTEM_LOSSES
    gcr: float = 0.35

    @property
    def dc_ac_ratio(self) -> float:
        """Return DC / AC (the PVWatts per-unit DC size); the geometry's ratio without AC capacity."""
        return self.dc_kw / self.ac_kw if self.ac_kw > 0 else self.geometry.dc_ac_ratio


def pv_plant(latitude: float, longitude: float, attributes: dict | None, inverter_kw: float) -> PvPlant:
    """Return the :class:`PvPlant` of a site with ``inverter_kw`` of inverters (AC) and its ``attributes``."""
    attrs = attributes or {}
    prof = dict(attrs.get("profile") or {})
    geometry = pv_geometry(latitude, longitude, attrs)
    dc = prof.get("dc_kw", attrs.get("dc_kw"))
    dc_kw = float(dc) if dc is not None else geometry.dc_ac_ratio * inverter_kw
    tracking = str(prof.get("tracking", attrs.get("tracking", "fixed")))
    losses = float(prof.get("losses", attrs.get("losses", PV_SYSTEM_LOSSES)))
    return PvPlant(geometry, float(inverter_kw), dc_kw, tracking, losses, float(prof.get("gcr", attrs.get("gcr", 0.35))))


def pv_poa_series(plant: PvPlant, ghi_wm2: np.ndarray, t_mid_s: np.ndarray) -> np.ndarray:
    """Return plane-of-array irradiance (W/m2) per interval from measured GHI at interval middles ``t_mid_s``."""
    g = plant.geometry
    if plant.tracking != "single_axis":
        return poa_from_ghi_array(ghi_wm2, t_mid_s, g.latitude, g.longitude, g.tilt, g.azimuth)
    zenith, sun_az = solar_position_array(np.floor(np.asarray(t_mid_s, float) / 60.0) * 60.0 + 30.0, g.latitude, g.longitude)
    track = pvlib.tracking.singleaxis(zenith, sun_az, axis_tilt=0.0, axis_azimuth=180.0, max_angle=60.0,
                                      backtrack=True, gcr=plant.gcr)
    tilt = np.nan_to_num(np.asarray(track["surface_tilt"], float), nan=0.0)
    azimuth = np.nan_to_num(np.asarray(track["surface_azimuth"], float), nan=180.0)
    return poa_from_ghi_array(ghi_wm2, t_mid_s, g.latitude, g.longitude, tilt, azimuth)


def pv_expected_fraction_series(plant: PvPlant, poa_wm2: np.ndarray, air_temp_c: np.ndarray) -> np.ndarray:
    """Return expected AC / AC capacity per interval (the PVWatts chain with the plant's DC/AC and losses)."""
    return pv_expected_fraction_array(poa_wm2, air_temp_c, dc_ac_ratio=plant.dc_ac_ratio, losses=plant.losses)


def pv_cell_temperature_series(poa_wm2: np.ndarray, air_temp_c: np.ndarray) -> np.ndarray:
    """Return the modelled cell temperature (degC) per interval; air temperature NaN is taken as 20 degC."""
    temp_air = np.where(np.isfinite(air_temp_c), air_temp_c, 20.0)
    return cell_temperature_array(np.clip(np.nan_to_num(poa_wm2), 0.0, None), temp_air)


def air_density(temp_c: np.ndarray, altitude_m: float = 0.0) -> np.ndarray:
    """Return air density (kg/m3) from air temperature and the site's altitude (barometric pressure).

    rho = p / (R T), p = 101,325 Pa x (1 - 2.25577e-5 h)^5.25588 (ISA); NaN temperature gives the
    reference 1.225 kg/m3.
    """
    pressure = SEA_LEVEL_PRESSURE_PA * (1.0 - 2.25577e-5 * altitude_m) ** 5.25588
    t = np.asarray(temp_c, dtype=float)
    rho = pressure / (GAS_CONSTANT_DRY_AIR * (t + 273.15))
    return np.where(np.isfinite(rho), rho, AIR_DENSITY)


@dataclass(frozen=True)
class ReferenceCurve:
    """A turbine's reference power curve at 1.225 kg/m3: wind speeds (m/s) and power (kW), or the generic rotor model."""

    rating_kw: float
    speeds_ms: tuple[float, ...] = ()
    power_kw: tuple[float, ...] = ()
    cut_out_ms: float = 25.0

    @property
    def source(self) -> str:
        """Return 'declared' for a table from the asset, 'generic' for the rotor model of :mod:`live.physics`."""
        return "declared" if self.speeds_ms else "generic"

    def power(self, speed_ms: np.ndarray, density: np.ndarray | float = AIR_DENSITY) -> np.ndarray:
        """Return expected kW per element at hub wind speed and air density (NaN speed gives NaN).

        A declared table is read at the density-normalised speed v (rho/1.225)^(1/3) (IEC 61400-12-1);
        the generic model scales its power with rho directly (the same thing for v^3).
        """
        v = np.asarray(speed_ms, dtype=float)
        if not self.speeds_ms:
            return wind_expected_fraction_array(v, density) * self.rating_kw
        v_norm = v * (np.asarray(density, dtype=float) / AIR_DENSITY) ** (1.0 / 3.0)
        out = np.interp(v_norm, self.speeds_ms, self.power_kw, left=0.0, right=self.power_kw[-1])
        out = np.where(v >= self.cut_out_ms, 0.0, np.clip(out, 0.0, self.rating_kw))
        return np.where(np.isnan(v), np.nan, out)


def reference_curve(rating_kw: float, attributes: dict[str, Any] | None) -> ReferenceCurve | None:
    """Return a turbine's reference curve from ``attributes["power_curve"]``, or None when it has none.

    ``{"ws": [...], "kw": [...]}`` declares a table; a missing key means the generic rotor model
    (what the live expectation uses); an explicit ``None`` (or an unusable table) means the
    turbine has no reference curve, so no expected energy, shown as a dash with that reason.
    """
    attrs = attributes or {}
    if "power_curve" not in attrs:
        return ReferenceCurve(float(rating_kw)) if rating_kw > 0 else None
    table = attrs["power_curve"]
    if not isinstance(table, dict):
        return None
    ws, kw = list(table.get("ws") or []), list(table.get("kw") or [])
    if len(ws) < 2 or len(ws) != len(kw) or any(not math.isfinite(float(x)) for x in ws + kw):
        return None
    order = np.argsort(ws)
    return ReferenceCurve(float(rating_kw), tuple(float(ws[i]) for i in order), tuple(float(kw[i]) for i in order),
                          float(table.get("cut_out_ms", 25.0)))
