"""The references' own methods on the same demo data, run in a SIDE environment (not the product's):

    python3 -m venv /tmp/side && /tmp/side/bin/pip install openoa==3.2 pvanalytics
    /tmp/side/bin/python bench/reference_check.py

* La Haute Borne, per turbine and year: OpenOA 3.2's filters as its example analysis uses them
  (``filters.range_flag`` on power, ``window_range_flag`` flagging stops: wind 5..40 m/s with power
  under 20 kW, ``bin_filter`` 2 standard deviations of wind speed in 100-kW power bins) and its
  ``power_curve.IEC`` fit (0.5 m/s bins) on the 10-min SCADA; the curve read at 4..14 m/s and the
  capacity factor of the raw 10-min energy (no density normalisation: OpenOA leaves it to the user).
* PVDAQ system 50 in 2012: pvanalytics 0.2.2's QC (``quality.gaps.stale_values_round`` on power,
  daytime by irradiance) and its weather-corrected PR ``metrics.performance_ratio_nrel`` (NREL,
  gamma -0.433 %/K, SAPM cell temperature), with POA from pvlib (Erbs + Perez) at tilt 45,
  azimuth 158, P_DC0 = 3.0 kW; wind speed 1 m/s (PSM3 file has none).

Imports nothing of Fleetlight; compare its lines with ``bench/real_data_check.py``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
from openoa.utils import filters, power_curve
from pvanalytics import metrics
from pvanalytics.quality import gaps

DATA = Path(__file__).resolve().parent.parent / "demo_data"


def lhb() -> None:
    """Print OpenOA's curve at 4..14 m/s and the raw capacity factor per turbine and year."""
    df = pd.read_csv(DATA / "wind/la_haute_borne_scada_2014_2015_10min.csv.gz",
                     usecols=["time_utc", "turbine", "P_avg", "Ws_avg"])
    df["t"] = pd.to_datetime(df["time_utc"], utc=True, format="ISO8601")
    df = df.drop_duplicates(["t", "turbine"]).dropna(subset=["P_avg", "Ws_avg"])
    print("OpenOA 3.2 (10-min SCADA): turbine year  CF %  kept %  IEC curve 4..14 m/s (kW)")
    for (turbine, year), part in df.groupby([df["turbine"], df["t"].dt.year]):
        ws, p = part["Ws_avg"], part["P_avg"]
        flag = filters.range_flag(p, lower=-100, upper=2200)
        flag |= filters.window_range_flag(ws, 5.0, 40.0, p, 20.0, 2100.0)
        flag |= filters.bin_filter(p, ws, bin_width=100.0, threshold=2, center_type="median", bin_min=0.05 * 2050,
                                   bin_max=0.95 * 2050, threshold_type="std", direction="all")
        keep = ~flag
        curve = power_curve.IEC(ws[keep], p[keep], bin_width=0.5, windspeed_start=0, windspeed_end=30.0)
        hours = (pd.Timestamp(f"{year + 1}-01-01", tz="UTC") - pd.Timestamp(f"{year}-01-01", tz="UTC")).total_seconds() / 3600
        cf = 100 * (p.clip(lower=0).sum() / 6) / (2050 * hours)
        pts = " ".join(f"{v:.0f}" for v in curve(np.arange(4.0, 15.0)))
        print(f"  {turbine} {year}  {cf:5.1f}  {100 * keep.mean():5.1f}  {pts}")


def pvdaq() -> None:
    """Print pvanalytics' QC share and weather-corrected PR for 2012."""
    p = pd.read_csv(DATA / "solar/pvdaq_system50_ac_power_2011_2013_15min.csv.gz")
    local = pd.to_datetime(p["measured_on"].str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S")
    stamps = pd.DatetimeIndex(local).tz_localize("America/Denver", ambiguous="NaT", nonexistent="NaT")
    p = p.assign(start=(stamps - pd.Timedelta(minutes=15)).tz_convert("UTC")).dropna(subset=["start"])
    power = p.drop_duplicates("start").set_index("start")["ac_power_2"] / 1000.0
    w = pd.read_csv(DATA / "solar/pvdaq_system50_psm3_weather_2011_2013_30min.csv.gz")
    w.index = pd.to_datetime(w["time"], utc=True)
    weather = w[["ghi", "temp_air"]].resample("15min").ffill()
    frame = pd.concat([power.rename("pac"), weather], axis=1).loc["2012-01-01":"2012-12-31 23:59"].dropna()
    stale = gaps.stale_values_round(frame["pac"].where(frame["ghi"] > 50), window=6, decimals=3)
    clean = frame[~stale.fillna(False)]
    mid = clean.index + pd.Timedelta(minutes=7.5)
    sol = pvlib.solarposition.get_solarposition(mid, 39.7406, -105.1775, altitude=1800)
    erbs = pvlib.irradiance.erbs(clean["ghi"].to_numpy(), sol["apparent_zenith"].to_numpy(), mid)
    poa = pvlib.irradiance.get_total_irradiance(45.0, 158.0, sol["apparent_zenith"].to_numpy(), sol["azimuth"].to_numpy(),
                                               erbs["dni"], clean["ghi"].to_numpy(), erbs["dhi"], model="perez",
                                               dni_extra=pvlib.irradiance.get_extra_radiation(mid).to_numpy(),
                                               airmass=pvlib.atmosphere.get_relative_airmass(sol["apparent_zenith"]).to_numpy())
    poa_global = pd.Series(np.nan_to_num(np.asarray(poa["poa_global"], float)), index=clean.index).clip(lower=0)
    pr = metrics.performance_ratio_nrel(poa_global, clean["temp_air"], pd.Series(1.0, index=clean.index), clean["pac"], 3.0)
    energy = frame["pac"].clip(lower=0).sum() * 0.25
    print(f"\npvanalytics 0.2.2, PVDAQ 50, 2012: energy {energy:,.0f} kWh on {len(frame):,} aligned intervals; "
          f"stale (QC) {int(stale.sum()):,}; NREL weather-corrected PR (Perez POA, P_DC0 3.0 kW) {100 * pr:.1f} %")


if __name__ == "__main__":
    lhb()
    pvdaq()
