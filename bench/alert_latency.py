"""Alert figures: condition true -> ``alert.changed`` published (p50/p95), and evaluations per second
against 10,000 assets.

    .venv/bin/python bench/alert_latency.py [--trials 200] [--assets 10000]

Both on a fresh SQLite file with the in-process bus, wired as the composition root wires the web
process (ingest listener -> rule engine -> lifecycle -> bus).

1. Latency: a threshold rule (raise at 70, clear at 65, no durations) on ``temperature_c``. Each
   trial (on its own asset) submits one point above 70 through the ingest path (``IngestService.submit_points``:
   encode -> bus -> store consumer, then the evaluator's ``alerts`` group -> lifecycle commit -> publish);
   the clock starts just before the submit (the condition is true from the moment the point
   exists) and stops in an ``alert.changed`` subscriber. Then a point below 65 clears it.
2. Throughput: ``--assets`` turbines; the evaluator takes ``telemetry.v1`` messages of one point
   per asset for the threshold rule (values under the level: each point is an evaluation without
   a change),
   and the communication-loss sweep judges every asset. Rates = evaluations / wall time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from alerts.evaluator import RuleEngine  # noqa: E402
from alerts.lifecycle import ALERT_CHANGED_TOPIC, AlertBook  # noqa: E402
from alerts.rules import create_rule  # noqa: E402
from bus.inprocess import InProcessBus  # noqa: E402
from data.db import Database  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402
from data.models import Asset, AssetKind, Portfolio, Site, SiteKind  # noqa: E402
from ingest.service import TELEMETRY_TOPIC, IngestService  # noqa: E402
from ingest.validation import ValidPoint  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile (0..1) of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]


def make_fleet(db: Database, assets: int, per_site: int = 50) -> list[str]:
    """Create ``assets`` 1 MW inverters on wind-kind sites (no daylight excuse in the sweep); return ids."""
    ids = []
    with db.session() as s:
        s.add(Portfolio(id="bench", name="Bench"))
        for i in range((assets + per_site - 1) // per_site):
            s.add(Site(id=f"b-{i:04d}", portfolio_id="bench", name=f"Bench {i:04d}", kind=SiteKind.wind,
                       capacity_mw=float(per_site), market="ERCOT", latitude=31.0, longitude=-100.0))
        s.flush()
        rows = []
        for k in range(assets):
            aid = f"b-{k // per_site:04d}-WTG-{k % per_site:03d}"
            ids.append(aid)
            rows.append({"id": aid, "site_id": f"b-{k // per_site:04d}", "name": aid, "kind": AssetKind.turbine,
                         "capacity_kw": 1000.0, "attributes": {}})
        s.execute(Asset.__table__.insert(), rows)
    return ids


def main() -> None:
    """Run both measurements and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--assets", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade_to_head(db)
        ids = make_fleet(db, args.assets)
        bus = InProcessBus(db)
        ingest = IngestService(db, bus)
        bus.subscribe(TELEMETRY_TOPIC, ingest.handle_message, group="store")
        ingest.assets.refresh()
        book = AlertBook(db, bus)
        engine = RuleEngine(db, book)
        bus.subscribe(TELEMETRY_TOPIC, engine.on_telemetry, group="alerts")
        received: list[float] = []
        bus.subscribe(ALERT_CHANGED_TOPIC, lambda m: received.append(time.perf_counter()) if m["change"] == "raised"
                      else None, group="bench")
        create_rule(db, {"kind": "threshold", "name": "hot", "metric": "temperature_c", "direction": "above",
                         "raise_level": 70, "clear_level": 65}, "bench")
        engine.load()

        # 1. latency, condition true -> alert.changed published
        base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
        latencies = []
        for i in range(args.trials):
            probe = ids[i % len(ids)]  # a key per trial: one asset raised and cleared every 2 s would be flapping
            ts = base + dt.timedelta(seconds=2 * i)
            before = len(received)
            t0 = time.perf_counter()
            ingest.submit_points([ValidPoint(probe, "temperature_c", ts, 75.0)], "bench")
            if len(received) != before + 1:
                raise SystemExit(f"trial {i}: no alert.changed published")
            latencies.append((received[-1] - t0) * 1000.0)
            ingest.submit_points([ValidPoint(probe, "temperature_c", ts + dt.timedelta(seconds=1), 60.0)], "bench")
        print(f"condition true -> alert.changed published ({args.trials} trials, in-process bus, SQLite): "
              f"p50 {percentile(latencies, 0.5):.2f} ms, p95 {percentile(latencies, 0.95):.2f} ms, "
              f"max {max(latencies):.2f} ms")

        # 2. evaluations per second against N assets
        batches = 20
        messages = []
        for b in range(batches):  # telemetry.v1 messages as the bus carries them (columns)
            ts_ms = int((base + dt.timedelta(minutes=30, seconds=b)).timestamp() * 1000)
            messages.append({"v": 1, "source": "bench", "asset_id": ids, "metric": ["temperature_c"] * len(ids),
                             "ts_ms": [ts_ms] * len(ids), "value": [40.0 + (k % 20) for k in range(len(ids))]})
        engine.evaluations = 0
        t0 = time.perf_counter()
        for message in messages:
            engine.on_telemetry(message)
        took = time.perf_counter() - t0
        print(f"threshold rule on telemetry.v1 messages: {engine.evaluations:,} evaluations in {took:.2f} s = "
              f"{engine.evaluations / took:,.0f} evaluations/s ({args.assets:,} assets, {batches} messages of one "
              "point per asset)")
        create_rule(db, {"kind": "comm_loss", "name": "comms", "stale_after_min": 30}, "bench")
        engine.reload_rules()
        sweeps = 5
        now = base + dt.timedelta(minutes=31)  # every asset heard from within the limit: no alert raised
        engine.evaluations = 0
        t0 = time.perf_counter()
        for _ in range(sweeps):
            engine._comm_loss(now)
        took = time.perf_counter() - t0
        print(f"communication-loss sweep: {engine.evaluations:,} asset evaluations in {took:.2f} s = "
              f"{engine.evaluations / took:,.0f} evaluations/s ({sweeps} sweeps of {args.assets:,} assets)")
        bus.close()
        db.dispose()


if __name__ == "__main__":
    main()
