"""The /performance callback's computation on a large fleet vs the bare polars query on the same rollups.

    .venv/bin/python bench/performance_callback.py --assets 1000 --days 7 30 --runs 5

Builds, in memory, the 15-min rollups a fleet of ``--assets`` generating assets (half PV
inverters on 10-inverter sites, half 2 MW turbines on 10-turbine sites, one met sensor per site)
would have stored over ``--days`` (power with energy, GHI, temperature, wind speed: 4 rollup rows
per asset-interval for turbines, 1 + the site's weather for inverters), then times, ``--runs``
times each, alternating:

* model: :func:`domain.performance.interval_frame` + :func:`domain.performance_kpis.performance_report`
  (what :func:`data.performance_queries.performance_for` runs after its SELECT), for the whole fleet;
* bare: the polars query a page would need at least: actual energy per site and day from the same
  rollup frame (filter, truncate, group-by, sum).

Prints p50 and p95 of each and their ratio. The store's SELECT is not in either (the same for both).
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.expected import PvGeometry, PvPlant, ReferenceCurve
from domain.performance import ROLLUP_SCHEMA, AssetConfig, SiteConfig, interval_frame
from domain.performance_kpis import performance_report

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def fleet(n_assets: int) -> list[SiteConfig]:
    """Return sites of 10 assets each: PV (inverters, 1 MW) and wind (turbines, 2 MW) alternately, each with a met sensor."""
    sites = []
    for k in range(max(n_assets // 10, 1)):
        sid = f"s{k:04d}"
        if k % 2 == 0:
            assets = tuple(AssetConfig(f"{sid}-INV-{i:02d}", "inverter", 1000.0) for i in range(10))
            pv = PvPlant(PvGeometry(35.0 + k % 10, -100.0 + k % 20, 25.0, 180.0, 1.2), 10_000.0, 12_000.0)
        else:
            assets = tuple(AssetConfig(f"{sid}-WTG-{i:02d}", "turbine", 2000.0, ReferenceCurve(2000.0)) for i in range(10))
            pv = None
        sensors = (*(a.asset_id for a in assets), f"{sid}-MET")
        sites.append(SiteConfig(sid, sid, "solar" if pv else "wind", 10.0, 35.0, -100.0, assets, pv, 200.0, sensors))
    return sites


def rollups(sites: list[SiteConfig], days: int, seed: int = 1) -> pl.DataFrame:
    """Return synthetic 15-min rollups of ``sites`` over ``days`` days (every interval present)."""
    rng = np.random.default_rng(seed)
    n = days * 96
    t = np.arange(n)
    starts = pl.datetime_range(START, START + dt.timedelta(minutes=15 * (n - 1)), dt.timedelta(minutes=15), eager=True,
                               time_unit="us", time_zone="UTC")
    hour = (t % 96) / 4.0
    parts = []

    def block(asset: str, metric: str, mean: np.ndarray, energy: np.ndarray | None = None) -> pl.DataFrame:
        return pl.DataFrame({"asset_id": [asset] * n, "metric": [metric] * n, "bucket_start": starts,
                             "count": np.full(n, 90, np.int64), "sum": mean * 90, "min": mean - 1.0, "max": mean + 1.0,
                             "energy_kwh": energy if energy is not None else np.zeros(n)}, schema=ROLLUP_SCHEMA)

    for s in sites:
        met = f"{s.site_id}-MET"
        ghi = np.clip(np.sin((hour - 6.0) / 12.0 * np.pi), 0, None) * 900 * rng.uniform(0.6, 1.0, n)
        temp = 10 + 8 * np.sin((hour - 9) / 24 * 2 * np.pi) + rng.normal(0, 0.5, n)
        wind = np.clip(7 + 3 * np.sin(t / 40.0) + rng.normal(0, 1.0, n), 0, None)
        parts += [block(met, "irradiance_wm2", ghi), block(met, "temperature_c", temp), block(met, "wind_speed_ms", wind)]
        for a in s.assets:
            if a.kind == "inverter":
                kw = ghi / 1000 * a.capacity_kw * rng.uniform(0.8, 0.95)
            else:
                kw = np.clip((wind / 12.0) ** 3, 0, 1) * a.capacity_kw * rng.uniform(0.85, 1.0)
                parts.append(block(a.asset_id, "wind_speed_ms", wind + rng.normal(0, 0.3, n)))
            parts.append(block(a.asset_id, "power_kw", kw, kw * 0.25))
    return pl.concat(parts)


def bare(frame: pl.DataFrame) -> pl.DataFrame:
    """Return actual energy per site and day: the least a performance page must compute from the rollups."""
    return (frame.filter(pl.col("metric") == "power_kw")
            .with_columns(site_id=pl.col("asset_id").str.slice(0, 5), day=pl.col("bucket_start").dt.truncate("1d"))
            .group_by("site_id", "day").agg(pl.col("energy_kwh").sum()))


def model(sites: list[SiteConfig], frame: pl.DataFrame, days: int) -> object:
    """Return the report the /performance callback builds for the whole fleet over the period."""
    end = START + dt.timedelta(days=days)
    return performance_report(interval_frame(sites, frame, START, end, 3900.0), "1d")


def pct(values: list[float], q: float) -> float:
    """Return the ``q`` quantile (0..1) of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))]


def main() -> None:
    """Run the bench for each ``--days`` and print p50/p95 of the model and the bare query."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--days", type=int, nargs="+", default=[7, 30])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sites = fleet(args.assets)
    n_assets = sum(len(s.assets) for s in sites)
    for days in args.days:
        t0 = time.perf_counter()
        frame = rollups(sites, days)
        built = time.perf_counter() - t0
        print(f"{n_assets} assets x {days} days: {n_assets * days * 96:,} asset-intervals, {frame.height:,} rollup rows "
              f"(built in {built:.1f} s)", flush=True)
        times: dict[str, list[float]] = {"model": [], "bare": []}
        for _ in range(args.runs):
            for name, fn in (("model", lambda f=frame, d=days: model(sites, f, d)), ("bare", lambda f=frame: bare(f))):
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
        for name, values in times.items():
            print(f"  {name:5}: p50 {1000 * statistics.median(values):8.0f} ms  p95 {1000 * pct(values, 0.95):8.0f} ms")
        print(f"  model / bare (p50): {statistics.median(times['model']) / statistics.median(times['bare']):.1f}x",
              flush=True)


if __name__ == "__main__":
    main()
