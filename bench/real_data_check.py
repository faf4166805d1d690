"""The performance model on the real demo data: La Haute Borne per turbine and year, PVDAQ system 50 in 2012.

    .venv/bin/python bench/real_data_check.py

The source files are turned into the 15-minute rollups the store would hold, then go through
exactly what the product runs (:func:`domain.quality.flag_rollups`,
:func:`domain.performance.interval_frame`, :func:`domain.performance_kpis.period_kpis`,
:func:`domain.power_curve.measured_curve`):

* La Haute Borne SCADA (10-min averages, UTC): each 10-min record is split into its two 5-min
  halves and each half goes to the 15-min bucket it falls in (3 halves per bucket, energy =
  max(P, 0) x 5 min), per turbine: power, nacelle wind speed, outdoor temperature. Reference curve:
  the generic rotor model (no declared table), altitude 411 m.
* PVDAQ system 50 (15-min averages, stamps = END, local America/Denver clock, W): interval start =
  stamp - 15 min, kW; weather: NSRDB PSM3 30-min GHI and air temperature, each record on its two
  15-min buckets. DC capacity: 3.0 kW (see the note printed), and 6.0 kW for comparison.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.series import PVDAQ50_AC_KW, PVDAQ50_AZIMUTH, PVDAQ50_DC_KW, PVDAQ50_LAT, PVDAQ50_LON, PVDAQ50_TILT  # noqa: E402
from domain.expected import ReferenceCurve, pv_plant  # noqa: E402
from domain.performance import ROLLUP_SCHEMA, AssetConfig, SiteConfig, interval_frame  # noqa: E402
from domain.performance_kpis import period_kpis  # noqa: E402
from domain.power_curve import measured_curve  # noqa: E402
from domain.quality import flag_rollups  # noqa: E402

DATA = ROOT / "demo_data"
GAP_S = 3900.0


def _rollups(frame: pd.DataFrame, asset_col: str, metrics: dict[str, str], energy_metric: str | None) -> pl.DataFrame:
    """Return rollup rows (ROLLUP_SCHEMA) from long rows (asset, bucket_start, value columns), one per (asset, metric, bucket)."""
    out = []
    for column, metric in metrics.items():
        g = frame.dropna(subset=[column]).groupby([asset_col, "bucket_start"])[column]
        agg = g.agg(["count", "sum", "min", "max"]).reset_index()
        agg["energy_kwh"] = 0.0
        if metric == energy_metric:
            agg["energy_kwh"] = frame.dropna(subset=[column]).assign(e=lambda d: d[column].clip(lower=0) * d["hours"]) \
                .groupby([asset_col, "bucket_start"])["e"].sum().to_numpy()
        agg["metric"] = metric
        out.append(pl.from_pandas(agg.rename(columns={asset_col: "asset_id"})))
    return pl.concat([o.select(list(ROLLUP_SCHEMA)).cast(ROLLUP_SCHEMA) for o in out])  # type: ignore[arg-type]


def lhb() -> None:
    """Print per turbine and year: capacity factor, availabilities, data quality and the measured curve at 4-14 m/s."""
    df = pd.read_csv(DATA / "wind/la_haute_borne_scada_2014_2015_10min.csv.gz",
                     usecols=["time_utc", "turbine", "P_avg", "Ws_avg", "Ot_avg"])
    df["t"] = pd.to_datetime(df["time_utc"], utc=True, format="ISO8601")
    df = df.drop_duplicates(["t", "turbine"])
    halves = pd.concat([df.assign(t=df["t"]), df.assign(t=df["t"] + pd.Timedelta(minutes=5))])
    halves["bucket_start"] = halves["t"].dt.floor("15min")
    halves["hours"] = 5 / 60
    halves["asset"] = "FR-LHB-WTG-" + halves["turbine"].astype(str)
    roll = _rollups(halves, "asset", {"P_avg": "power_kw", "Ws_avg": "wind_speed_ms", "Ot_avg": "temperature_c"},
                    "power_kw")
    turbines = sorted(halves["asset"].unique())
    curve = ReferenceCurve(2050.0)
    site = SiteConfig("FR-LHB", "La Haute Borne", "wind", 8.2, 48.45, 5.59,
                      tuple(AssetConfig(a, "turbine", 2050.0, curve) for a in turbines), None, 411.0, tuple(turbines))
    faults = int(((roll["metric"] == "temperature_c") & (roll["min"] < -45)).sum())
    print(f"La Haute Borne: {roll.height:,} rollup rows; temperature buckets below -45 degC (the -273.2/-92 faults): {faults}")
    capacity = {a: 2050.0 for a in turbines}
    print("turbine      year  CF %   tech.av %  oper.av %  energy.av %  coverage  excluded  actual/expected %  "
          "curve 4..14 m/s (kW per 1 m/s bin centre)  filtered")
    for year in (2014, 2015):
        start, end = dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
        part = flag_rollups(roll.filter((pl.col("bucket_start") >= start) & (pl.col("bucket_start") < end)), capacity)
        for aid in turbines:
            one = SiteConfig(site.site_id, site.name, site.kind, 2.05, site.latitude, site.longitude,
                             tuple(a for a in site.assets if a.asset_id == aid), None, 411.0, (aid,))
            frame = interval_frame([one], part.filter(pl.col("asset_id") == aid), start, end, GAP_S)
            k = period_kpis(frame)
            mc = measured_curve(aid, 2050.0, curve, part, 411.0)
            at = mc.bins.filter(pl.col("speed_bin_ms").is_in([float(v) for v in range(4, 15)]))
            pts = " ".join(f"{p:.0f}" for p in at["power_kw"].to_list())
            print(f"{aid[-6:]:12} {year}  {k['capacity_factor_pct'].value:5.1f}  "
                  f"{k['availability_time_technical_pct'].value:9.1f}  {k['availability_time_operational_pct'].value:9.1f}  "
                  f"{k['availability_energy_pct'].value:11.1f}  {k['capacity_factor_pct'].coverage:8.1%}  "
                  f"{k['capacity_factor_pct'].excluded:8d}  {k['performance_index_pct'].value:17.1f}  {pts}  {mc.filtered}")


def pvdaq() -> None:
    """Print PVDAQ system 50's 2012 energy, expected energy, actual/expected and PR (plain, temperature-corrected)."""
    p = pd.read_csv(DATA / "solar/pvdaq_system50_ac_power_2011_2013_15min.csv.gz")
    local = pd.to_datetime(p["measured_on"].str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S")
    stamps = pd.DatetimeIndex(local).tz_localize("America/Denver", ambiguous="NaT", nonexistent="NaT")
    p = p.assign(end=stamps).dropna(subset=["end"])
    p["bucket_start"] = (p["end"] - pd.Timedelta(minutes=15)).dt.tz_convert("UTC")
    p["kw"] = p["ac_power_2"] / 1000.0
    p["hours"] = 0.25
    p["asset"] = "INV"
    p = p.drop_duplicates(["bucket_start"])
    w = pd.read_csv(DATA / "solar/pvdaq_system50_psm3_weather_2011_2013_30min.csv.gz")
    w["t"] = pd.to_datetime(w["time"], utc=True)
    w = pd.concat([w.assign(bucket_start=w["t"]), w.assign(bucket_start=w["t"] + pd.Timedelta(minutes=15))])
    w["asset"] = "MET"
    w["hours"] = 0.25
    roll = pl.concat([_rollups(p, "asset", {"kw": "power_kw"}, "power_kw"),
                      _rollups(w, "asset", {"ghi": "irradiance_wm2", "temp_air": "temperature_c"}, None)])
    start, end = dt.datetime(2012, 1, 1, tzinfo=dt.UTC), dt.datetime(2013, 1, 1, tzinfo=dt.UTC)
    roll = roll.filter((pl.col("bucket_start") >= start) & (pl.col("bucket_start") < end))
    print(f"\nPVDAQ system 50, 2012: {roll.filter(pl.col('metric') == 'power_kw').height:,} power buckets, "
          f"AC max {roll.filter(pl.col('metric') == 'power_kw')['max'].max():.2f} kW")
    for dc in (PVDAQ50_DC_KW, 6.0):
        plant = pv_plant(PVDAQ50_LAT, PVDAQ50_LON, {"tilt_deg": PVDAQ50_TILT, "azimuth_deg": PVDAQ50_AZIMUTH, "dc_kw": dc},
                         PVDAQ50_AC_KW)
        site = SiteConfig("PV50", "PVDAQ 50", "solar", PVDAQ50_AC_KW / 1000, PVDAQ50_LAT, PVDAQ50_LON,
                          (AssetConfig("INV", "inverter", PVDAQ50_AC_KW),), plant, 1800.0, ("INV", "MET"))
        k = period_kpis(interval_frame([site], flag_rollups(roll, {"INV": PVDAQ50_AC_KW}), start, end, GAP_S))
        print(f"  DC {dc:.1f} kW: energy {k['actual_energy_mwh'].value * 1000:,.0f} kWh ({k['actual_energy_mwh'].coverage_text}), "
              f"expected {k['expected_energy_mwh'].value * 1000:,.0f} kWh, actual/expected {k['performance_index_pct'].value:.1f} %, "
              f"PR {k['performance_ratio_pct'].value:.1f} %, PR temperature-corrected {k['performance_ratio_temp_pct'].value:.1f} %, "
              f"specific yield {k['specific_yield_kwh_kw'].value:,.0f} kWh/kWp, CF {k['capacity_factor_pct'].value:.1f} %")
    print(f"  (air temperature from PSM3 is clipped at 0 degC; {int((w['temp_air'] == 0).sum()):,} of {len(w):,} "
          "15-min weather values are exactly 0)")


if __name__ == "__main__":
    lhb()
    pvdaq()
