"""Loaders for the real demo series used by the benchmarks, tests and demo pages.

Each returns a :class:`Dataset`: a regular UTC series labelled by interval start, the weather
columns on the same grid, the site context and the capacity. The clock fixes below were checked
against the weather data (see ``docs/forecasting.md``):

* **La Haute Borne SCADA**: the source's wall-clock times were converted to UTC with
  Europe/Paris offsets, but the clock itself runs on UTC. Against ERA5 the wind-speed
  cross-correlation peaks 80 min (winter) and 140 min (summer) later, and the daily temperature
  peak sits at 13:10/12:40 "UTC" instead of ERA5's 14:00/15:00. Re-reading the wall clock as UTC
  brings both seasons into line (peaks 14:10/14:40). Duplicated stamps (the spring DST change of
  the offset labels) are dropped before resampling.
* **PVDAQ system 50**: the wall clock is America/Denver local time (summer time in summer) although
  every stamp says -07:00; each stamp marks the END of its 15-min average.
* **PSM3** (NSRDB) 30-min values are labelled at the end of their interval here (the power/GHI
  cross-correlation peaks 22 min after the label); converted to interval start.
* **ERA5** values are instantaneous at the hour; an interval [t, t+freq) gets the mean of the
  values interpolated linearly inside it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.features import SiteContext

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo_data"


@dataclass
class Dataset:
    """A real series ready to forecast: ``y`` (unit in ``unit``), ``weather`` and ``capacity``."""

    name: str
    y: pd.Series
    weather: pd.DataFrame
    site: SiteContext
    capacity: float | pd.Series
    unit: str
    freq: pd.Timedelta


def _regular(frame: pd.DataFrame | pd.Series, freq: str) -> pd.DataFrame | pd.Series:
    frame = frame[~frame.index.duplicated(keep=False)].sort_index()
    return frame.resample(freq).mean()


def load_la_haute_borne(freq: str = "1h", demo_dir: Path = DEMO_DIR) -> Dataset:
    """Return the La Haute Borne farm output [kW] (4 x 2.05 MW) with ERA5 weather at 100 m.

    Farm output is the mean of the available turbines times four (an interval with no turbine
    reporting is missing). Weather columns: ``ws_100m`` [m/s], ``u_100``, ``v_100`` [m/s],
    ``dens_100m`` [kg/m3].
    """
    scada = pd.read_csv(demo_dir / "wind" / "la_haute_borne_scada_2014_2015_10min.csv.gz",
                        usecols=["time_utc", "turbine", "P_avg"])
    stamp = pd.to_datetime(scada["time_utc"], utc=True)
    dup = scada.assign(t=stamp).duplicated(["t", "turbine"], keep=False)
    scada = scada[~dup.to_numpy()]
    wall = stamp[~dup.to_numpy()].dt.tz_convert("Europe/Paris").dt.tz_localize(None).dt.tz_localize("UTC")
    wide = scada.assign(t=wall.to_numpy()).pivot_table(index="t", columns="turbine", values="P_avg", aggfunc="mean")
    turbines = pd.read_csv(demo_dir / "wind" / "la_haute_borne_turbines.csv")
    farm = wide.mean(axis=1) * len(turbines)
    y = _regular(farm, freq).rename("power_kw")
    era5 = pd.read_csv(demo_dir / "wind" / "la_haute_borne_era5_2014_2015_hourly.csv.gz")
    era5.index = pd.to_datetime(era5.pop("time_utc"), utc=True)
    cols = ["ws_100m", "u_100", "v_100", "dens_100m"]
    inst = era5[cols].resample("5min").interpolate("time")
    weather = inst.resample(freq).mean().reindex(y.index)
    site = SiteContext(kind="wind", latitude=float(turbines["Latitude"].mean()),
                       longitude=float(turbines["Longitude"].mean()), wind_speed_col="ws_100m")
    return Dataset("La Haute Borne (wind, 8.2 MW)", y, weather, site,
                   float(turbines["Rated_power"].sum()), "kW", pd.Timedelta(freq))


def load_pvdaq50(freq: str = "1h", demo_dir: Path = DEMO_DIR) -> Dataset:
    """Return PVDAQ system 50 AC power [kW] with PSM3 GHI [W/m2] on the same grid.

    Capacity is 3.0 kW: this channel peaks near 2.7 kW AC on clear days and its 99.9th
    percentile is 3.08 kW (SOURCES.md: about 3 kW DC, half of the 6 kW system).
    """
    raw = pd.read_csv(demo_dir / "solar" / "pvdaq_system50_ac_power_2011_2013_15min.csv.gz")
    wall = pd.to_datetime(raw["measured_on"].str[:19])
    local = wall.dt.tz_localize("America/Denver", ambiguous="NaT", nonexistent="NaT")
    ok = local.notna().to_numpy()
    start = (local[ok] - pd.Timedelta("15min")).dt.tz_convert("UTC")
    power = pd.Series(raw["ac_power_2"].to_numpy()[ok] / 1000.0, index=pd.DatetimeIndex(start))
    y = _regular(power.clip(lower=0), freq).rename("power_kw")
    wx = pd.read_csv(demo_dir / "solar" / "pvdaq_system50_psm3_weather_2011_2013_30min.csv.gz")
    wx.index = pd.to_datetime(wx.pop("time"), utc=True) - pd.Timedelta("30min")
    weather = _regular(wx[["ghi"]], freq).reindex(y.index)
    site = SiteContext(kind="pv", latitude=39.7406, longitude=-105.1775, altitude=1800.0, tilt=45.0, azimuth=158.0,
                       irradiance_col="ghi")
    return Dataset("PVDAQ system 50 (PV, ~3 kW)", y, weather, site, 3.0, "kW", pd.Timedelta(freq))


def entsoe_capacity(column: str, demo_dir: Path = DEMO_DIR) -> pd.Series:
    """Return installed capacity [MW] of ``column`` ("Solar" or "Wind") at each 1 January (UTC).

    "Wind" sums onshore and offshore. Between two 1 January values the capacity is interpolated
    linearly by the context; after the last one it is held (what a forecaster knows then).
    """
    table = pd.read_csv(demo_dir / "grid" / "entsoe_de_installed_capacity_2017_2020.csv")
    values = table["Wind Onshore"] + table["Wind Offshore"] if column == "Wind" else table[column]
    index = pd.to_datetime(table["year"].astype(str) + "-01-01").dt.tz_localize("UTC")
    return pd.Series(values.to_numpy(dtype=float), index=pd.DatetimeIndex(index), name="capacity_mw")


def load_entsoe_de(column: str, freq: str = "1h", demo_dir: Path = DEMO_DIR) -> Dataset:
    """Return German national generation [MW] of "Solar" or "Wind" (onshore + offshore), 2017-2020.

    No weather is available for Germany in the demo data, so ``weather`` is empty.
    """
    raw = pd.read_csv(demo_dir / "grid" / "entsoe_de_solar_wind_2017_2020_15min.csv.gz")
    raw.index = pd.to_datetime(raw.pop("time_utc"), utc=True)
    series = raw["Wind Onshore"] + raw["Wind Offshore"] if column == "Wind" else raw[column]
    y = _regular(series.astype(float), freq).rename("power_mw")
    site = SiteContext(kind="pv" if column == "Solar" else "wind",
                       latitude=51.0 if column == "Solar" else None, longitude=10.0 if column == "Solar" else None)
    return Dataset(f"Germany {column} (ENTSO-E)", y, pd.DataFrame(index=y.index), site,
                   entsoe_capacity(column, demo_dir), "MW", pd.Timedelta(freq))


def best_lag(a: pd.Series, b: pd.Series, max_steps: int = 3) -> int:
    """Return the shift (steps) of ``a`` that maximises its correlation with ``b`` (0 = aligned)."""
    scores = {k: a.shift(k).corr(b) for k in range(-max_steps, max_steps + 1)}
    return int(max(scores, key=lambda k: -np.inf if pd.isna(scores[k]) else scores[k]))
