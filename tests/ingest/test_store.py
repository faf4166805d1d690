"""Durable storage: exactly once, rollups and latest values consistent with the raw rows."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from data.models import AssetLatest, TelemetryPoint, TelemetryRollup
from ingest.store import bucket_start, store_points
from ingest.validation import ValidPoint

T0 = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


def points(asset: str, values: list[float], step_min: int = 5) -> list[ValidPoint]:
    return [ValidPoint(asset, "power_kw", T0 + dt.timedelta(minutes=step_min * i), v) for i, v in enumerate(values)]


def test_bucket_start():
    ts = dt.datetime(2026, 6, 1, 10, 44, 59, tzinfo=dt.UTC)
    assert bucket_start(ts, "15min") == ts.replace(minute=30, second=0)
    assert bucket_start(ts, "1h") == ts.replace(minute=0, second=0)
    assert bucket_start(ts, "1d") == ts.replace(hour=0, minute=0, second=0)


def test_store_is_idempotent_and_rolls_up(small_fleet):
    db = small_fleet.db
    batch = points("t-sol-INV-01", [10, 20, 30, 40, 50, 60])  # 10:00 .. 10:25
    first = store_points(db, batch)
    again = store_points(db, batch)
    overlap = store_points(db, batch[3:] + points("t-sol-INV-01", [70, 80, 90, 100, 110, 120, 130], 5)[6:])
    assert (first.inserted, first.duplicates) == (6, 0)
    assert (again.inserted, again.duplicates) == (0, 6)
    assert overlap.inserted == 1 and overlap.duplicates == 3  # only the 10:30 point is new
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(TelemetryPoint)).scalar_one() == 7
        rollups = {
            (r.resolution, r.bucket_start): r
            for r in s.execute(select(TelemetryRollup).where(TelemetryRollup.asset_id == "t-sol-INV-01")).scalars()
        }
        q1 = rollups[("15min", T0)]
        assert (q1.count, q1.sum, q1.min, q1.max, q1.last_value) == (3, 60.0, 10.0, 30.0, 30.0)
        hour = rollups[("1h", T0)]
        assert (hour.count, hour.sum, hour.max, hour.last_value) == (7, 340.0, 130.0, 130.0)
        assert rollups[("1d", T0.replace(hour=0))].count == 7
        latest = s.get(AssetLatest, ("t-sol-INV-01", "power_kw"))
        assert latest.value == 130.0 and latest.ts == T0 + dt.timedelta(minutes=30)


def test_a_key_repeated_in_one_batch_is_stored_once_with_its_first_value(small_fleet):
    """Producers other than the API's validator (bus messages, field gateways) can repeat a key."""
    db = small_fleet.db
    first, repeat = points("t-sol-INV-02", [10, 20]), ValidPoint("t-sol-INV-02", "power_kw", T0, 99.0)
    store_points(db, points("t-sol-INV-02", [10]))  # T0 is stored already
    result = store_points(db, [*first, repeat, *points("t-sol-INV-02", [0, 0, 30])[2:]])
    assert (result.inserted, result.duplicates) == (2, 2)
    with db.session() as s:
        stored = s.execute(select(TelemetryPoint.ts, TelemetryPoint.value)
                           .where(TelemetryPoint.asset_id == "t-sol-INV-02").order_by(TelemetryPoint.ts)).all()
        assert [v for _, v in stored] == [10.0, 20.0, 30.0]
        quarter = s.get(TelemetryRollup, ("t-sol-INV-02", "power_kw", "15min", T0))
        assert (quarter.count, quarter.sum, quarter.last_value) == (3, 60.0, 30.0)


def test_rows_deleted_at_the_top_of_the_table_do_not_hide_duplicates(small_fleet):
    """The SQLite path reads its new rows back by rowid: a deleted newest row must not confuse it."""
    db = small_fleet.db
    store_points(db, points("t-sol-INV-03", [1, 2, 3]))
    with db.session() as s:
        s.execute(TelemetryPoint.__table__.delete().where(TelemetryPoint.ts == T0 + dt.timedelta(minutes=10)))
    result = store_points(db, points("t-sol-INV-03", [1, 2, 3, 4]))
    assert (result.inserted, result.duplicates) == (2, 2)  # 10:10 again, and 10:15


def test_late_point_does_not_move_latest_back(small_fleet):
    db = small_fleet.db
    store_points(db, points("t-wind-WTG-01", [5.0], 0))
    store_points(db, [ValidPoint("t-wind-WTG-01", "power_kw", T0 - dt.timedelta(hours=1), 99.0)])
    with db.session() as s:
        assert s.get(AssetLatest, ("t-wind-WTG-01", "power_kw")).value == 5.0
        hour = s.get(TelemetryRollup, ("t-wind-WTG-01", "power_kw", "1h", T0))
        assert hour.last_value == 5.0


def test_retention_prunes_only_old_raw_points(small_fleet):
    from ingest.retention import prune_raw_telemetry

    db = small_fleet.db
    store_points(db, points("t-sol-INV-01", [1.0] * 30, 60))  # 10:00 .. 15:00 (+29 h span)
    cutoff = T0 + dt.timedelta(hours=10)
    removed = prune_raw_telemetry(db, cutoff, chunk=4)
    assert removed == 10
    with db.session() as s:
        left = s.execute(select(func.min(TelemetryPoint.ts))).scalar_one()
        assert left == cutoff
        assert s.execute(select(func.sum(TelemetryRollup.count)).where(TelemetryRollup.resolution == "1h")).scalar_one() == 30


def test_energy_today_from_daily_rollups(small_fleet):
    from data.fleet import energy_today_mwh

    db = small_fleet.db
    day = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # 1000 kW for the first 6 hours (7 samples 00:00..06:00) on one inverter, 500 kW on another
    store_points(db, [ValidPoint("t-sol-INV-01", "power_kw", day + dt.timedelta(hours=h), 1000.0) for h in range(7)])
    store_points(db, [ValidPoint("t-sol-INV-02", "power_kw", day + dt.timedelta(hours=h), 500.0) for h in range(7)])
    with db.session() as s:
        assert energy_today_mwh(s, now=day + dt.timedelta(hours=6, minutes=30)) == 9.0
