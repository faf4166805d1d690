"""Expected output now, from the physics in :mod:`live.physics` applied to the site's own weather.

* PV (inverters of a solar or hybrid site): the site's sensors report global HORIZONTAL
  irradiance; it is transposed to the plane of the modules (tilt/azimuth from the site's profile,
  else the demo's defaults) before the PVWatts chain, with the site's DC/AC ratio. Reading GHI as
  plane-of-array irradiance was what made December solar sites show 236-342 % performance.
* Wind (turbines): the power curve at each turbine's own wind speed, else the site's mean.
* Batteries are dispatched, not weather-driven: no expectation. A site without fresh weather of
  its own has no expectation (None), never a neighbour's.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from live.physics import PV_DC_AC_RATIO, poa_from_ghi, pv_expected_fraction, wind_expected_fraction


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
    prof = dict((attributes or {}).get("profile") or {})
    lat = float(prof.get("model_lat", latitude))
    lon = float(prof.get("model_lon", longitude))
    tilt = float(prof.get("tilt", min(35.0, max(10.0, abs(lat) * 0.7))))
    azimuth = float(prof.get("azimuth", 180.0 if lat >= 0 else 0.0))
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
