"""Seed time of the demo fleet at 1k, 10k and 100k assets on SQLite, plus the simulator's cost there.

Run: ``.venv/bin/python bench/seed_scale.py [--sizes 1000 10000 100000] [--no-simulator]``

For each size, on a fresh migrated SQLite file: ``build_fleet`` alone, ``seed_demo_fleet`` (first
seed), a re-seed of the same size (replace), then the simulator's model build
and a back-fill of 3 h at 15 min (default point budget), then one tick (``max_assets`` 5,000); points
are stored through the in-process bus, the same path as in the app.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bus import InProcessBus
from core.settings import REPO_ROOT
from data.db import Database
from data.migrate import upgrade_to_head
from demo.fleet import build_fleet, seed_demo_fleet
from demo.profiles import FleetModel
from demo.series import DemoData
from ingest.service import IngestService
from simulator.runner import Simulator, load_fleet_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--no-simulator", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = DemoData(REPO_ROOT / "demo_data", Path(tmp) / "cache")
        started = time.perf_counter()
        _ = data.wind, data.pvdaq, data.serf_east, data.prices, data.era5, data.power_curve
        cold = time.perf_counter() - started
        started = time.perf_counter()
        again = DemoData(REPO_ROOT / "demo_data", Path(tmp) / "cache")
        _ = again.wind, again.pvdaq, again.serf_east, again.prices, again.era5, again.power_curve
        print(f"demo series load: cold {cold:.2f} s (parse + write cache), warm {time.perf_counter() - started:.2f} s")
        print(f"{'assets':>8} {'sites':>6} {'build s':>8} {'seed s':>8} {'reseed s':>9} "
              f"{'model s':>8} {'tick s':>7} {'tick pts':>9} {'backfill s':>11} {'bf pts':>8}")
        for n in args.sizes:
            db = Database(f"sqlite:///{Path(tmp) / f'seed_{n}.db'}")
            upgrade_to_head(db)
            t0 = time.perf_counter()
            plan = build_fleet(n)
            t_build = time.perf_counter() - t0
            t0 = time.perf_counter()
            summary = seed_demo_fleet(db, n)
            t_seed = time.perf_counter() - t0
            t0 = time.perf_counter()
            seed_demo_fleet(db, n)
            t_reseed = time.perf_counter() - t0
            row = f"{n:>8} {summary['sites']:>6} {t_build:>8.2f} {t_seed:>8.2f} {t_reseed:>9.2f}"
            if not args.no_simulator:
                bus = InProcessBus(db)
                ingest = IngestService(db, bus)
                ingest.start_consumer()
                t0 = time.perf_counter()
                sim = Simulator(ingest, db, 5.0, 5000, model_factory=lambda d: FleetModel(*load_fleet_rows(d), data))
                sim.model()
                t_model = time.perf_counter() - t0
                now = dt.datetime.now(dt.UTC)
                t0 = time.perf_counter()
                bf = sim.backfill(hours=3, step_minutes=15, now=now - dt.timedelta(seconds=30))
                t_bf = time.perf_counter() - t0
                t0 = time.perf_counter()
                pts = sim.tick(now)
                t_tick = time.perf_counter() - t0
                row += f" {t_model:>8.2f} {t_tick:>7.2f} {pts:>9} {t_bf:>11.2f} {bf:>8}"
            print(row, flush=True)
            assert len(plan.assets) == n
            db.dispose()


if __name__ == "__main__":
    main()
