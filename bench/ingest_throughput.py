"""Ingest throughput: POST /api/v1/telemetry into SQLite in batches of 5,000 points, against the
limit of a raw SQLAlchemy ``insert`` of the same rows.

    .venv/bin/python bench/ingest_throughput.py [--batches 20] [--batch-size 5000] [--assets 1000]

Starts the real app (``python app.py``) on a free port with a fresh SQLite file and the simulator
off, creates an ingest token through the CLI, then posts JSON batches over HTTP from one client.
After each posted batch the same rows are inserted bare (SQLAlchemy core ``insert``, no validation,
no rollups) into a second fresh SQLite file with the same schema and fleet, so that both paths are
timed under the same load of this shared machine (the two used to run one after the other, and a
change of load between them moved the ratio by +-0.15). Prints points/s for the API path and for
the raw insert, and their ratio.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_fleet(url: str, n_assets: int) -> list[str]:
    """Create one portfolio and sites of 50 assets each; return the asset ids."""
    from sqlalchemy import insert

    from data.db import Database
    from data.migrate import upgrade_to_head
    from data.models import Asset, Portfolio, Site

    db = Database(url)
    upgrade_to_head(db)
    ids = [f"bench-{i:06d}" for i in range(n_assets)]
    with db.session() as s:
        s.execute(insert(Portfolio), [{"id": "bench", "name": "Bench"}])
        n_sites = (n_assets + 49) // 50
        s.execute(insert(Site), [{"id": f"bench-s{j}", "portfolio_id": "bench", "name": f"Bench {j}", "kind": "solar",
                                  "capacity_mw": 100.0, "market": "ERCOT", "latitude": 30.0, "longitude": -97.0}
                                 for j in range(n_sites)])
        s.execute(insert(Asset), [{"id": a, "site_id": f"bench-s{i // 50}", "name": a, "kind": "inverter",
                                   "capacity_kw": 2000.0} for i, a in enumerate(ids)])
    db.dispose()
    return ids


def batches(ids: list[str], n_batches: int, size: int, start: dt.datetime) -> list[list[dict]]:
    """Return ``n_batches`` batches of distinct points (each asset one point per 10 s step)."""
    out, k = [], 0
    for _ in range(n_batches):
        batch = []
        for _ in range(size):
            asset = ids[k % len(ids)]
            ts = start + dt.timedelta(seconds=10 * (k // len(ids)))
            batch.append({"asset_id": asset, "metric": "power_kw", "ts": ts.isoformat(), "value": float(k % 1500)})
            k += 1
        out.append(batch)
    return out


class RawInsert:
    """Bare SQLAlchemy core inserts of batches into their own database (no validation, no rollups)."""

    def __init__(self, url: str) -> None:
        from data.db import Database

        self.db = Database(url)
        self.elapsed = 0.0
        self.points = 0

    def insert(self, batch: list[dict]) -> None:
        """Insert ``batch`` in one transaction and add its time to ``elapsed``."""
        from sqlalchemy import insert

        from data.models import TelemetryPoint

        rows = [{"asset_id": p["asset_id"], "metric": p["metric"], "ts": dt.datetime.fromisoformat(p["ts"]),
                 "value": p["value"]} for p in batch]
        t0 = time.perf_counter()
        with self.db.session() as s:
            s.execute(insert(TelemetryPoint), rows)
        self.elapsed += time.perf_counter() - t0
        self.points += len(rows)

    def rate(self) -> float:
        """Return the points/s of the inserts so far."""
        return self.points / self.elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--assets", type=int, default=1000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fl-bench-"))
    url = f"sqlite:///{work / 'bench.db'}"
    ids = make_fleet(url, args.assets)
    raw_url = f"sqlite:///{work / 'raw.db'}"
    make_fleet(raw_url, args.assets)
    raw = RawInsert(raw_url)
    port = free_port()
    env = {**os.environ, "FLEETLIGHT_DATABASE_URL": url, "FLEETLIGHT_PORT": str(port), "FLEETLIGHT_INSTANCE_DIR": str(work),
           "FLEETLIGHT_SIMULATOR_ENABLED": "false", "FLEETLIGHT_SEED_ON_START": "false", "FLEETLIGHT_LOG_LEVEL": "WARNING"}
    py = sys.executable
    token = subprocess.run([py, "-m", "flask", "--app", "app", "create-token", "--name", "bench"], cwd=ROOT, env=env,
                           check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    server = subprocess.Popen([py, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=2)
        all_batches = batches(ids, args.batches + 1, args.batch_size, start)
        bodies = [orjson.dumps({"points": b}) for b in all_batches]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            r = client.post("/api/v1/telemetry", content=bodies[0])  # warm-up (caches, JIT of the path)
            r.raise_for_status()
            raw.insert(all_batches[0])
            latencies = []
            stored = 0
            raw.elapsed, raw.points = 0.0, 0
            for batch, body in zip(all_batches[1:], bodies[1:], strict=True):
                t = time.perf_counter()
                r = client.post("/api/v1/telemetry", content=body)
                r.raise_for_status()
                latencies.append(time.perf_counter() - t)
                stored += r.json()["stored"]
                raw.insert(batch)
            elapsed = sum(latencies)
        n = args.batches * args.batch_size
        api_rate = n / elapsed
        assert stored == n, f"stored {stored} of {n}"
    finally:
        server.terminate()
        server.wait(10)
    raw_rate = raw.rate()
    raw.db.dispose()
    latencies.sort()
    print(f"ingest via POST /api/v1/telemetry (SQLite, batches of {args.batch_size:,}, {args.batches} batches, "
          f"{args.assets:,} assets)")
    print(f"  API path : {api_rate:10,.0f} points/s   (batch latency p50 {latencies[len(latencies)//2]*1000:.0f} ms, "
          f"max {latencies[-1]*1000:.0f} ms; validation + raw + 3 rollups + latest, exactly-once)")
    print(f"  raw insert: {raw_rate:10,.0f} points/s   (SQLAlchemy core insert of the same rows, nothing else; "
          "interleaved with the API batches)")
    print(f"  ratio API / raw insert: {api_rate / raw_rate:.2f}")


if __name__ == "__main__":
    main()
