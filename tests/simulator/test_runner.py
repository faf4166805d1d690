"""The simulator feeds the demo fleet through the real ingest path (bus -> store), rotates through
large fleets, back-fills history once, and survives bad ticks."""
from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import func, select

from data.models import AssetLatest, DeadLetter, TelemetryPoint, TelemetryRollup
from demo.fleet import seed_demo_fleet
from demo.profiles import FleetModel
from demo.series import DemoData
from simulator.runner import Simulator, load_fleet_rows

NOW = dt.datetime(2026, 6, 21, 12, 0, 7, 250000, tzinfo=dt.UTC)


@pytest.fixture()
def fleet(services, demo_data: DemoData):
    """Seed a 200-asset demo fleet; return (ingest, db, model_factory)."""
    seed_demo_fleet(services.db, 200)
    ingest = services.ingest
    ingest.assets.refresh()

    def factory(db):
        return FleetModel(*load_fleet_rows(db), demo_data)

    return ingest, services.db, factory


def _count(db, model=TelemetryPoint, **where) -> int:
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    with db.session() as s:
        return s.scalar(stmt)


def test_tick_stores_points_through_ingest(fleet) -> None:
    ingest, db, factory = fleet
    sim = Simulator(ingest, db, interval_s=5, max_assets=5000, model_factory=factory)
    sent = sim.tick(NOW)
    assert sent > 200  # every asset's power plus weather and SoC metrics
    assert _count(db) == sent
    assert _count(db, ts=NOW.replace(microsecond=0)) == sent
    assert _count(db, DeadLetter) == 0
    assert _count(db, TelemetryRollup, resolution="15min") == sent  # rollups advanced by the store worker
    with db.session() as s:
        latest = s.get(AssetLatest, ("FR-LHB-MTR-01", "power_kw"))
    assert latest is not None and latest.ts == NOW.replace(microsecond=0)
    assert sim.tick(NOW) == sent  # re-sent points are stored once
    assert _count(db) == sent
    status = sim.status()
    assert status["points_last_tick"] == sent and status["errors"] == 0 and status["assets"] == 200
    assert status["last_tick"].startswith("2026-06-21T12:00:07")


def test_rotation_covers_every_asset(fleet) -> None:
    ingest, db, factory = fleet
    sim = Simulator(ingest, db, interval_s=5, max_assets=60, model_factory=factory)
    model = sim.model()
    n_meters = len(model.meter_rows)
    per_tick = 60 - n_meters
    ticks = -(-(200 - n_meters) // per_tick)
    for i in range(ticks):
        sim.tick(NOW + dt.timedelta(seconds=5 * i))
    with db.session() as s:
        reported = set(s.scalars(select(TelemetryPoint.asset_id).where(TelemetryPoint.metric == "power_kw")))
    assert reported == set(model.asset_ids)
    with db.session() as s:  # meters report every tick
        assert s.scalar(select(func.count()).select_from(TelemetryPoint).where(
            TelemetryPoint.asset_id == "FR-LHB-MTR-01", TelemetryPoint.metric == "power_kw")) == ticks


def test_backfill_fills_grid_then_resumes_from_latest(fleet) -> None:
    ingest, db, factory = fleet
    sim = Simulator(ingest, db, interval_s=5, max_assets=5000, model_factory=factory)
    sent = sim.backfill(hours=3, step_minutes=15, now=NOW)
    assert sent > 0 and _count(db) == sent
    with db.session() as s:
        stamps = sorted(set(s.scalars(select(TelemetryPoint.ts).where(TelemetryPoint.asset_id == "FR-LHB-MTR-01"))))
    assert stamps[0] == dt.datetime(2026, 6, 21, 9, 15, tzinfo=dt.UTC)
    assert stamps[-1] == dt.datetime(2026, 6, 21, 12, 0, tzinfo=dt.UTC) and len(stamps) == 12
    assert sim.backfill(hours=3, step_minutes=15, now=NOW) == 0  # nothing newer than the latest point
    later = sim.backfill(hours=3, step_minutes=15, now=NOW + dt.timedelta(minutes=31))
    assert later > 0
    with db.session() as s:
        assert s.scalar(select(func.max(TelemetryPoint.ts))) == dt.datetime(2026, 6, 21, 12, 30, tzinfo=dt.UTC)


def test_backfill_budget_puts_meters_and_real_sites_first(fleet) -> None:
    ingest, db, factory = fleet
    sim = Simulator(ingest, db, interval_s=5, max_assets=5000, model_factory=factory)
    sim.backfill(hours=2, step_minutes=15, now=NOW, max_points=8 * 2 * 20)  # 20 assets
    with db.session() as s:
        assets = set(s.scalars(select(TelemetryPoint.asset_id).distinct()))
    assert "FR-LHB-WTG-R80711" in assets and "US-PVDAQ50-INV-01" in assets
    assert all(a.endswith("MTR-01") or a.startswith(("FR-LHB", "US-")) for a in assets)
    assert len(assets) == 20


def test_bad_ticks_are_counted_not_raised(fleet) -> None:
    ingest, db, factory = fleet

    def broken(_db):
        raise RuntimeError("model exploded")

    sim = Simulator(ingest, db, interval_s=5, max_assets=50, model_factory=broken)
    assert sim.tick(NOW) == 0
    assert sim.status()["errors"] == 1 and "model exploded" in sim.status()["last_error"]

    class FailingIngest:
        def submit_points(self, points, source):
            raise ConnectionError("bus down")

    sim = Simulator(FailingIngest(), db, interval_s=5, max_assets=50, model_factory=factory)
    assert sim.tick(NOW) == 0 and sim.tick(NOW) == 0
    assert sim.status()["errors"] == 2


def test_start_backfills_and_ticks_until_stopped(fleet) -> None:
    ingest, db, factory = fleet
    sim = Simulator(ingest, db, interval_s=0.2, max_assets=5000, model_factory=factory, backfill_hours=1)
    sim.start()
    try:
        deadline = time.monotonic() + 20
        while sim.status()["ticks"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        status = sim.status()
        assert status["running"] and status["state"] == "running" and status["ticks"] >= 2
        assert status["backfilled_points"] > 0 and status["errors"] == 0
    finally:
        sim.stop()
    assert not sim.status()["running"] and sim.status()["state"] == "stopped"


def test_bad_arguments_are_refused(fleet) -> None:
    ingest, db, _ = fleet
    with pytest.raises(ValueError, match="interval_s"):
        Simulator(ingest, db, interval_s=0, max_assets=10)
    with pytest.raises(ValueError, match="max_assets"):
        Simulator(ingest, db, interval_s=1, max_assets=0)
