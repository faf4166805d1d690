"""Server-side cost of one telemetry batch, without HTTP: POST /api/v1/telemetry through Flask's
test client into SQLite, against the bare SQLAlchemy insert of the same rows, interleaved.

    .venv/bin/python bench/ingest_inprocess.py [--batches 30] [--batch-size 5000] [--assets 1000]

Same fleet and batches as ``bench/ingest_throughput.py``; runs the app's components in this
process (simulator and seeding off). Prints ms per batch of each path (median of the batches) and
their ratio: the part of ``ingest_throughput.py``'s ratio that is the server's own work.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--assets", type=int, default=1000)
    args = parser.parse_args()
    from ingest_throughput import RawInsert, batches, make_fleet

    work = Path(tempfile.mkdtemp(prefix="fl-bench-"))
    url = f"sqlite:///{work / 'bench.db'}"
    ids = make_fleet(url, args.assets)
    raw_url = f"sqlite:///{work / 'raw.db'}"
    make_fleet(raw_url, args.assets)
    raw = RawInsert(raw_url)
    os.environ.update({"FLEETLIGHT_DATABASE_URL": url, "FLEETLIGHT_INSTANCE_DIR": str(work),
                       "FLEETLIGHT_SIMULATOR_ENABLED": "false", "FLEETLIGHT_SEED_ON_START": "false",
                       "FLEETLIGHT_LOG_LEVEL": "ERROR"})
    os.chdir(ROOT)
    import app as app_module
    from bootstrap.web import start, stop
    from core.runtime import services
    from data.models import Role
    from security.tokens import create_token

    svc = services()
    start(svc)
    try:
        token = create_token(svc.db, "bench", ["telemetry:write"], Role.admin)
        client = app_module.server.test_client()
        start_ts = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=2)
        all_batches = batches(ids, args.batches + 1, args.batch_size, start_ts)
        bodies = [orjson.dumps({"points": b}) for b in all_batches]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        api_ms, raw_ms = [], []
        for i, (batch, body) in enumerate(zip(all_batches, bodies, strict=True)):
            t = time.perf_counter()
            r = client.post("/api/v1/telemetry", data=body, headers=headers)
            elapsed = time.perf_counter() - t
            assert r.status_code == 200 and r.json["stored"] == len(batch), r.data[:300]
            before = raw.elapsed
            raw.insert(batch)
            if i:  # the first batch warms caches
                api_ms.append(elapsed * 1000)
                raw_ms.append((raw.elapsed - before) * 1000)
    finally:
        stop(svc)
    api, bare = statistics.median(api_ms), statistics.median(raw_ms)
    print(f"ingest in process (SQLite, {args.batches} batches of {args.batch_size:,}, {args.assets:,} assets)")
    print(f"  API path  : {api:7.1f} ms per batch (median; {args.batch_size / api * 1000:,.0f} points/s)")
    print(f"  raw insert: {bare:7.1f} ms per batch (median; {args.batch_size / bare * 1000:,.0f} points/s)")
    print(f"  ratio raw / API time: {bare / api:.2f}")


if __name__ == "__main__":
    main()
