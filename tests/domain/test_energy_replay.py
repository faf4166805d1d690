"""A day of the real demo series replayed through ingest at 5-minute steps: energy today never
decreases, equals the trapezoid of the stored rows at the end (store and live state alike), a late
point replaces its segment and a duplicated batch changes nothing. Substations are never summed."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.settings import get_settings
from data.fleet import energy_today_mwh
from data.models import Asset, Site, TelemetryPoint
from demo.fleet import seed_demo_fleet
from demo.profiles import FleetModel
from domain.kpis import scope_kpis
from ingest.validation import ValidPoint
from live.state import LiveState, to_ms
from simulator.runner import Simulator, load_fleet_rows
from tests.simulator.conftest import demo_data  # noqa: F401

DAY = dt.datetime(2026, 6, 21, tzinfo=dt.UTC)
GENERATING = {"inverter", "turbine", "battery"}


def trapezoid_today_mwh(db, day: dt.datetime) -> float:
    """Energy of generating assets of generating sites: segments starting on ``day``, by hand from SELECTs."""
    gap = get_settings().energy_max_gap_s
    with db.session() as s:
        kinds = {a: (k.value, sk.value) for a, k, sk in s.execute(
            select(Asset.id, Asset.kind, Site.kind).join(Site, Site.id == Asset.site_id))}
        rows = s.execute(select(TelemetryPoint.asset_id, TelemetryPoint.ts, TelemetryPoint.value)
                         .where(TelemetryPoint.metric == "power_kw")
                         .order_by(TelemetryPoint.asset_id, TelemetryPoint.ts)).all()
    total = 0.0
    for (a0, t0, v0), (a1, t1, v1) in zip(rows, rows[1:], strict=False):
        kind, site_kind = kinds[a0]
        if a0 != a1 or kind not in GENERATING or site_kind == "substation" or t0 < day or t0 >= day + dt.timedelta(days=1):
            continue
        seconds = (t1 - t0).total_seconds()
        if 0 < seconds <= gap:
            total += (max(v0, 0.0) + max(v1, 0.0)) / 2 * seconds / 3600
    return total / 1000


def test_day_long_replay_energy_never_decreases_and_equals_the_trapezoid(services, demo_data):  # noqa: F811
    db = services.db
    seed_demo_fleet(db, 120)
    ingest = services.ingest
    ingest.assets.refresh()
    live = LiveState()
    with db.session() as session:
        live.load(session, DAY)
    ingest.add_listener(lambda rows: live.apply(rows))
    sim = Simulator(ingest, db, interval_s=5, max_assets=5000,
                    model_factory=lambda d: FleetModel(*load_fleet_rows(d), demo_data))

    def live_energy(at: dt.datetime) -> float:
        return scope_kpis(live.site_figures(None, to_ms(at)).values(), "fleet", None, {}).energy_today_mwh

    last_store = last_live = 0.0
    end = DAY + dt.timedelta(hours=23, minutes=55)
    at = DAY
    steps = 0
    while at <= end:
        assert sim.tick(at) > 0
        with db.read_session() as session:
            store = energy_today_mwh(session, at)
        now_live = live_energy(at)
        assert store >= last_store - 1e-9, at
        assert now_live >= last_live - 1e-9, at
        assert now_live == pytest.approx(store, rel=1e-9, abs=1e-9), at
        last_store, last_live = store, now_live
        at += dt.timedelta(minutes=5)
        steps += 1
    assert steps == 288 and last_store > 1.0
    assert last_store == pytest.approx(trapezoid_today_mwh(db, DAY), rel=1e-9)

    # a duplicated batch changes nothing
    sim.tick(DAY + dt.timedelta(hours=12))
    with db.read_session() as session:
        assert energy_today_mwh(session, end) == pytest.approx(last_store, rel=1e-12)
    # a late point between two stored ones replaces their segment by two
    with db.session() as s:
        inverter = s.execute(select(Asset.id).where(Asset.kind == "inverter").order_by(Asset.id)).scalars().first()
    ingest.submit_points([ValidPoint(inverter, "power_kw", DAY + dt.timedelta(hours=12, minutes=2, seconds=30), 5000.0)],
                         "test")
    with db.read_session() as session:
        after = energy_today_mwh(session, end)
    assert after > last_store
    assert after == pytest.approx(trapezoid_today_mwh(db, DAY), rel=1e-9)
    # the live state ignores the late point until it reloads from the store; then it agrees again
    with db.session() as session:
        live.load(session, end)
    assert live_energy(end) == pytest.approx(after, rel=1e-9)
