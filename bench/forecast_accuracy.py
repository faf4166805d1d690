"""Forecast accuracy on real data: skill over persistence per model, with and without weather.

    .venv/bin/python bench/forecast_accuracy.py [--json bench/out/forecast_accuracy.json]

Datasets (hourly, horizons 1-48 h, origins every 6 h, one fit on the training span):

* La Haute Borne wind farm (8.2 MW): train 2014, test 2015; ERA5 100 m wind as weather.
* PVDAQ system 50 (~3 kW PV): train 2011-04-15..2012, test 2013; PSM3 GHI as weather.
* Germany solar and wind (ENTSO-E): train 2017-2019, test 2020; normalised by installed
  capacity. No national weather series exists in demo_data, so only the no-weather variant runs.

ERA5 and PSM3 are observed (reanalysis / satellite) weather: a model fed with them sees a
*perfect* weather forecast, so that variant is labelled "perfect weather". "no weather" uses
calendar, pvlib clear-sky (astronomy, not weather) and lagged output only.

Bands: each model's p10-p90 band is recalibrated online during the test year by adaptive
conformal inference (forecasting/calibration.py): the multiplier used at an origin is learned
only from forecasts whose targets are already in the past then. "fixed cov" is the coverage the
model's own band (calibrated once on the training span) would have had; ``--band-step 0``
switches the online calibration off.

Goals at day-ahead (lead 12-36 h): perfect weather skill >= 50 % PV and >= 40 % wind; no
weather >= 10 % PV and > 0 wind; p10-p90 coverage 75-85 %.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forecasting.backtest import run_backtest
from forecasting.calibration import DEFAULT_STEP
from forecasting.datasets import load_entsoe_de, load_la_haute_borne, load_pvdaq50

MODELS = ["persistence", "climatology", "prophet", "xgboost"]

CASES = [
    ("wind", load_la_haute_borne, "2014-01-01", "2015-01-01", True),
    ("pv", load_pvdaq50, "2011-04-15", "2013-01-01", True),
    ("pv", lambda: load_entsoe_de("Solar"), "2017-01-01", "2020-01-01", False),
    ("wind", lambda: load_entsoe_de("Wind"), "2017-01-01", "2020-01-01", False),
]

GOALS = {("pv", True): 0.50, ("wind", True): 0.40, ("pv", False): 0.10, ("wind", False): 0.0}


def main() -> int:
    """Run every case and print the day-ahead and intraday table; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default="bench/out/forecast_accuracy.json")
    parser.add_argument("--band-step", type=float, default=DEFAULT_STEP,
                        help="learning rate of the online band calibration (0 = keep the models' fixed bands)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows, dump = [], {}
    started = time.perf_counter()
    for kind, loader, start, test_start, has_weather in CASES:
        data = loader()
        y = data.y[data.y.index >= start]
        variants = [("perfect weather", True), ("no weather", False)] if has_weather else [("no weather", False)]
        for label, use_weather in variants:
            t0 = time.perf_counter()
            result = run_backtest(
                y, freq=data.freq, horizon=48, exog=data.weather.reindex(y.index) if use_weather else None,
                capacity=data.capacity, site=data.site, models=MODELS, use_weather=use_weather,
                test_start=test_start, band_step=args.band_step,
            )
            dump[f"{data.name} | {label}"] = result.to_json_dict()
            for model in MODELS:
                da = result.summary[model]["day_ahead"]
                intra = result.summary[model]["intraday"]
                fixed = result.calibration.get(model, {}).get("model_band_coverage", {}).get("day_ahead", da["coverage_p10_p90"])
                rows.append({
                    "dataset": data.name, "variant": label, "model": model,
                    "da_nmae": da["nmae"], "da_skill_rmse": da["skill_rmse"], "da_skill_mae": da["skill_mae"],
                    "da_cov": da["coverage_p10_p90"], "da_pinball_n": da["pinball"] / float(data.y.max()),
                    "da_cov_fixed": fixed,
                    "id_skill_rmse": intra["skill_rmse"], "n": da["n"],
                    "goal": GOALS[(kind, use_weather)] if model == "xgboost" else None,
                })
            print(f"  {data.name} / {label}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print_table(rows)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dump, indent=1))
    print(f"per-horizon metrics written to {out}")
    return 0


def print_table(rows: list[dict]) -> None:
    """Print the accuracy table (day-ahead = lead 12-36 h, intraday = lead <= 6 h).

    DA pinball is the mean pinball loss of p10/p50/p90 in % of the series' peak.
    """
    head = (f"{'dataset':30} {'variant':16} {'model':12} {'DA nMAE':>8} {'DA skill':>9} {'(MAE)':>7} "
            f"{'DA cov':>7} {'fixed cov':>9} {'DA pinball':>10} {'ID skill':>9}  goal")
    print(head)
    print("-" * len(head))
    for r in rows:
        goal = ""
        if r["goal"] is not None:
            ok = r["da_skill_rmse"] >= r["goal"] if r["goal"] > 0 else r["da_skill_rmse"] > 0
            cov_ok = 0.75 <= r["da_cov"] <= 0.85
            goal = f"skill {'>=' if r['goal'] else '>'}{r['goal']:.0%}: {'met' if ok else 'MISSED'}; cov {'met' if cov_ok else 'MISSED'}"
        print(f"{r['dataset']:30} {r['variant']:16} {r['model']:12} {r['da_nmae']:8.3f} {r['da_skill_rmse']:9.1%} "
              f"{r['da_skill_mae']:7.1%} {r['da_cov']:7.1%} {r['da_cov_fixed']:9.1%} {r['da_pinball_n']:10.2%} "
              f"{r['id_skill_rmse']:9.1%}  {goal}")


if __name__ == "__main__":
    raise SystemExit(main())
