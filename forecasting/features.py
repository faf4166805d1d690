"""Feature building: calendar, lagged values, pvlib clear-sky output and wind power curves.

All functions work on one regular grid (see :mod:`forecasting`): ``y`` is a float array on the
grid, an origin ``o`` may use ``y[:o + 1]`` and nothing later. Lag features are built for
(origin, horizon) pairs so that a target never sees data after its origin.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.errors import ForecastInputError


@dataclass(frozen=True)
class SiteContext:
    """What the models know about a site besides its series.

    ``kind`` is "pv", "wind" or "generic". ``latitude``/``longitude`` (deg) enable pvlib clear-sky
    features; ``tilt``/``azimuth`` (deg) add plane-of-array clear-sky irradiance. ``wind_speed_col``
    names the weather column that feeds the power curve, ``irradiance_col`` the GHI column
    [W/m2] for PV physical features; ``power_curve`` optionally fixes the
    curve as (wind speed m/s, power as a fraction of capacity) points instead of fitting it.
    """

    kind: str = "generic"
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    tilt: float | None = None
    azimuth: float | None = None
    wind_speed_col: str | None = None
    irradiance_col: str | None = None
    power_curve: tuple[tuple[float, float], ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("pv", "wind", "generic"):
            raise ForecastInputError(f"site kind must be 'pv', 'wind' or 'generic', not {self.kind!r}")
        if (self.latitude is None) != (self.longitude is None):
            raise ForecastInputError("give both latitude and longitude, or neither")
        if self.latitude is not None and not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise ForecastInputError(f"latitude/longitude out of range: {self.latitude}, {self.longitude}")


def steps_per_day(freq: pd.Timedelta) -> int:
    """Return the number of grid steps in a day; raise when ``freq`` does not divide a day."""
    day = pd.Timedelta(days=1)
    if freq > day or day % freq != pd.Timedelta(0):
        raise ForecastInputError(f"freq {freq} does not divide a day evenly (use e.g. 10min, 15min, 1h)")
    return int(day / freq)


def calendar_features(times: pd.DatetimeIndex, freq: pd.Timedelta) -> dict[str, np.ndarray]:
    """Return cyclic time-of-day and day-of-year encodings at interval midpoints (UTC)."""
    mid = times + freq / 2
    tod = (mid.hour * 3600 + mid.minute * 60 + mid.second).to_numpy() / 86400.0
    doy = (mid.day_of_year.to_numpy() - 1 + tod) / 365.25
    return {
        "tod_sin": np.sin(2 * np.pi * tod),
        "tod_cos": np.cos(2 * np.pi * tod),
        "doy_sin": np.sin(2 * np.pi * doy),
        "doy_cos": np.cos(2 * np.pi * doy),
    }


def clearsky_features(times: pd.DatetimeIndex, freq: pd.Timedelta, site: SiteContext) -> pd.DataFrame:
    """Return pvlib clear-sky features on ``times``: W/m2 at interval midpoints.

    Columns: ``cs_ghi`` (Ineichen GHI), ``sun_elev`` (deg) and, with tilt and azimuth,
    ``cs_poa`` (clear-sky plane-of-array irradiance, isotropic sky).
    """
    import pvlib

    if site.latitude is None:
        raise ForecastInputError("clear-sky features need the site's latitude and longitude")
    mid = times + freq / 2
    loc = pvlib.location.Location(site.latitude, site.longitude, altitude=site.altitude)
    solpos = loc.get_solarposition(mid)
    cs = loc.get_clearsky(mid, model="ineichen", solar_position=solpos)
    out = pd.DataFrame(index=times)
    out["cs_ghi"] = cs["ghi"].to_numpy()
    out["sun_elev"] = solpos["apparent_elevation"].to_numpy()
    if site.tilt is not None and site.azimuth is not None:
        poa = pvlib.irradiance.get_total_irradiance(
            site.tilt, site.azimuth, solpos["apparent_zenith"], solpos["azimuth"],
            cs["dni"], cs["ghi"], cs["dhi"],
        )
        out["cs_poa"] = poa["poa_global"].fillna(0.0).to_numpy()
    return out


class PowerCurve:
    """A monotone wind power curve: wind speed [m/s] to output (same unit as the training target).

    :meth:`fit` bins training pairs by speed (``bin_width`` m/s), takes the median per bin and
    makes it non-decreasing up to the peak; :meth:`from_points` uses a given curve (e.g. the
    manufacturer's table scaled by the turbines' rated power). Speeds beyond the data keep the
    last value; nothing is extrapolated.
    """

    def __init__(self, speeds: np.ndarray, power: np.ndarray) -> None:
        self.speeds = np.asarray(speeds, dtype=float)
        self.power = np.asarray(power, dtype=float)

    @classmethod
    def from_points(cls, points: tuple[tuple[float, float], ...], scale: float = 1.0) -> PowerCurve:
        """Return the curve through ``points`` (speed m/s, output), output multiplied by ``scale``."""
        arr = np.asarray(points, dtype=float)
        order = np.argsort(arr[:, 0])
        return cls(arr[order, 0], arr[order, 1] * scale)

    @classmethod
    def fit(cls, speed: np.ndarray, power: np.ndarray, bin_width: float = 0.5, min_count: int = 5) -> PowerCurve:
        """Return the empirical curve fitted on paired training values (NaNs ignored)."""
        ok = np.isfinite(speed) & np.isfinite(power)
        if ok.sum() < 50:
            raise ForecastInputError(f"power curve: only {int(ok.sum())} paired wind speed/power values, need 50")
        s, p = speed[ok], power[ok]
        bins = np.floor(s / bin_width).astype(int)
        frame = pd.DataFrame({"b": bins, "p": p}).groupby("b")["p"].agg(["median", "count"])
        frame = frame[frame["count"] >= min_count]
        centres = (frame.index.to_numpy() + 0.5) * bin_width
        med = frame["median"].to_numpy()
        peak = int(np.argmax(med))
        med = np.concatenate([np.maximum.accumulate(med[: peak + 1]), med[peak + 1:]])
        return cls(centres, med)

    def __call__(self, speed: np.ndarray) -> np.ndarray:
        """Return the output at ``speed`` (NaN where the speed is NaN)."""
        speed = np.asarray(speed, dtype=float)
        out = np.interp(speed, self.speeds, self.power)
        out[~np.isfinite(speed)] = np.nan
        return out


def rolling_same_time(y: np.ndarray, spd: int, days: int, how: str = "mean") -> np.ndarray:
    """Return, at each position, the mean (or max) of y at the same time of day over ``days`` days.

    The window ends at (and includes) the position itself; NaNs are skipped.
    """
    n = len(y)
    stack = np.full((days, n), np.nan)
    for d in range(days):
        shift = d * spd
        if shift < n:
            stack[d, shift:] = y[: n - shift]
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmax(stack, axis=0) if how == "max" else np.nanmean(stack, axis=0)


def trailing_mean(y: np.ndarray, window: int) -> np.ndarray:
    """Return the mean of the last ``window`` values up to and including each position (NaN skipped)."""
    return pd.Series(y).rolling(window, min_periods=max(1, window // 4)).mean().to_numpy()


@dataclass
class LagTables:
    """Per-position summaries of y used by lag features (each computed from data up to the position)."""

    y: np.ndarray
    spd: int
    y_recent: np.ndarray
    mean_day: np.ndarray
    mean_6: np.ndarray
    prof_7d: np.ndarray
    max_14d: np.ndarray

    @classmethod
    def build(cls, y: np.ndarray, spd: int) -> LagTables:
        """Return the tables for series ``y`` with ``spd`` steps per day."""
        return cls(
            y=y,
            spd=spd,
            y_recent=pd.Series(y).ffill(limit=spd).to_numpy(),
            mean_day=trailing_mean(y, spd),
            mean_6=trailing_mean(y, max(1, spd // 4)),
            prof_7d=rolling_same_time(y, spd, 7),
            max_14d=rolling_same_time(y, spd, 14, how="max"),
        )

    def features(self, origins: np.ndarray, horizons: np.ndarray) -> dict[str, np.ndarray]:
        """Return lag features for (origin, horizon) pairs, using only values at or before the origin."""
        target = origins + horizons
        k = np.ceil(horizons / self.spd).astype(int)
        same_tod = target - k * self.spd  # latest same-time-of-day position known at the origin
        prev = same_tod - self.spd

        def at(table: np.ndarray, pos: np.ndarray) -> np.ndarray:
            return np.where(pos >= 0, table[np.maximum(pos, 0)], np.nan)

        return {
            "h": horizons.astype(float),
            "last": at(self.y, origins),
            "mean_6": at(self.mean_6, origins),
            "mean_day": at(self.mean_day, origins),
            "same_tod": at(self.y, same_tod),
            "same_tod_prev": at(self.y, prev),
            "prof_7d": at(self.prof_7d, same_tod),
            "max_14d": at(self.max_14d, same_tod),
        }
