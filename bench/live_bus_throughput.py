"""Throughput of the store path: RabbitMQ -> PostgreSQL vs the in-process bus -> SQLite.

    .venv/bin/python bench/live_bus_throughput.py [--points 200000] [--batch 500]

Both paths store the same points (raw rows, 15-min/hourly/daily rollups, latest values) through
IngestService.handle_message. In-process: submit_points publishes and stores synchronously.
RabbitMQ: the points are published as persistent confirmed messages to a private queue, then a
RabbitMQBus consumer (batches of up to 200 messages per transaction) stores them; the figure is
points per second from the first publish until the last point is committed. Needs RabbitMQ on
127.0.0.1:5672 and PostgreSQL on 127.0.0.1:5432 (user postgres, trust).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bus import InProcessBus
from bus.rabbitmq import RabbitMQBus, queue_name
from data.db import Database
from data.migrate import upgrade_to_head
from data.models import Asset, AssetKind, Portfolio, Site, SiteKind, TelemetryPoint
from ingest.service import TELEMETRY_TOPIC, IngestService
from ingest.validation import ValidPoint

RABBIT = "amqp://guest:guest@127.0.0.1:5672/%2F"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ASSETS = 500


def make_fleet(db: Database) -> list[str]:
    """Create one site with ASSETS inverters; return their ids."""
    ids = [f"bench-INV-{i:04d}" for i in range(ASSETS)]
    with db.session() as s:
        s.add(Portfolio(id="bench", name="Bench"))
        s.add(Site(id="bench-site", portfolio_id="bench", name="Bench", kind=SiteKind.solar, capacity_mw=500.0,
                   market="ERCOT"))
        s.flush()
        s.add_all(Asset(id=a, site_id="bench-site", name=a, kind=AssetKind.inverter, capacity_kw=1000.0) for a in ids)
    return ids


def batches(ids: list[str], n_points: int, batch: int) -> list[list[ValidPoint]]:
    """Return ``n_points`` distinct points (1 s apart per asset, starting 2 days ago) in batches."""
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=2)
    points = [ValidPoint(ids[i % len(ids)], "power_kw", start + dt.timedelta(seconds=i // len(ids)), float(i % 800))
              for i in range(n_points)]
    return [points[i : i + batch] for i in range(0, n_points, batch)]


def count(db: Database) -> int:
    """Return the number of raw telemetry rows."""
    with db.session() as s:
        return s.execute(select(func.count()).select_from(TelemetryPoint)).scalar_one()


def run_inprocess(db: Database, work: list[list[ValidPoint]]) -> float:
    """Return points/s through the in-process bus into ``db``."""
    bus = InProcessBus(db)
    ingest = IngestService(db, bus)
    ingest.start_consumer()
    t0 = time.perf_counter()
    for chunk in work:
        ingest.submit_points(chunk, "bench")
    return sum(map(len, work)) / (time.perf_counter() - t0)


def run_rabbitmq(db: Database, work: list[list[ValidPoint]]) -> tuple[float, float]:
    """Return (publish points/s, end-to-end points/s) through RabbitMQ into ``db``."""
    group = f"bench-{uuid.uuid4().hex[:8]}"
    bus = RabbitMQBus(RABBIT, db)
    ingest = IngestService(db, bus)
    bus.subscribe(TELEMETRY_TOPIC, ingest.handle_message, group=group)
    bus.start()
    total = sum(map(len, work))
    t0 = time.perf_counter()
    for chunk in work:
        ingest.submit_points(chunk, "bench")
    published = time.perf_counter() - t0
    while count(db) < total:
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    bus.close()
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(RABBIT))
    conn.channel().queue_delete(queue_name(TELEMETRY_TOPIC, group))
    conn.close()
    return total / published, total / elapsed


def pg_database(name: str) -> Database:
    """Create a fresh migrated PostgreSQL database ``name``."""
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    db = Database(make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False))
    upgrade_to_head(db)
    return db


def drop_pg(db: Database, name: str) -> None:
    """Drop the bench database."""
    db.dispose()
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    """Run both paths (and the two crossed combinations) and print points per second."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, backend in (("in-process -> SQLite", "sqlite"), ("RabbitMQ -> PostgreSQL", "pg"),
                               ("in-process -> PostgreSQL", "pg-inproc"), ("RabbitMQ -> SQLite", "sqlite-rabbit")):
            name = f"fl_bench_{uuid.uuid4().hex[:6]}"
            db = pg_database(name) if backend.startswith("pg") else Database(f"sqlite:///{Path(tmp) / (name + '.db')}")
            if not backend.startswith("pg"):
                upgrade_to_head(db)
            work = batches(make_fleet(db), args.points, args.batch)
            if "rabbit" in backend or backend == "pg":
                pub, e2e = run_rabbitmq(db, work)
                results.append((label, e2e, f"publish {pub:,.0f} points/s"))
            else:
                results.append((label, run_inprocess(db, work), "stored before submit returns"))
            assert count(db) == args.points, "every point stored exactly once"
            if backend.startswith("pg"):
                drop_pg(db, name)
            else:
                db.dispose()
    print(f"store path throughput, {args.points:,} points in batches of {args.batch} (raw + rollups + latest)")
    for label, rate, note in results:
        print(f"  {label:<26} {rate:>10,.0f} points/s   ({note})")


if __name__ == "__main__":
    main()
