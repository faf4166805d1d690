"""Energy in the store: rollups' energy_kwh is the trapezoid of the stored power points (domain.energy)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.settings import get_settings
from data.models import TelemetryPoint, TelemetryRollup
from domain.energy import trapezoid_kwh
from ingest.store import store_points
from ingest.validation import ValidPoint

T0 = dt.datetime(2026, 6, 1, 9, 50, tzinfo=dt.UTC)
ASSET = "t-sol-INV-01"


def pts(pairs: list[tuple[float, float]], asset: str = ASSET) -> list[ValidPoint]:
    """Points at T0 + minutes with the given kW."""
    return [ValidPoint(asset, "power_kw", T0 + dt.timedelta(minutes=m), v) for m, v in pairs]


def stored_trapezoid(db, asset: str = ASSET) -> dict[str, dict[dt.datetime, float]]:
    """Return {resolution: {bucket: kWh}} computed by hand from the raw rows (segment -> bucket of its start)."""
    with db.session() as s:
        rows = s.execute(select(TelemetryPoint.ts, TelemetryPoint.value).where(
            TelemetryPoint.asset_id == asset, TelemetryPoint.metric == "power_kw").order_by(TelemetryPoint.ts)).all()
    gap = get_settings().energy_max_gap_s
    out: dict[str, dict[dt.datetime, float]] = {"15min": {}, "1h": {}, "1d": {}}
    for (t0, v0), (t1, v1) in zip(rows, rows[1:], strict=False):
        kwh = trapezoid_kwh([(t0.timestamp(), v0), (t1.timestamp(), v1)], gap)
        for res, b in (("15min", t0.replace(minute=t0.minute - t0.minute % 15, second=0, microsecond=0)),
                       ("1h", t0.replace(minute=0, second=0, microsecond=0)),
                       ("1d", t0.replace(hour=0, minute=0, second=0, microsecond=0))):
            out[res][b] = out[res].get(b, 0.0) + kwh
    return out


def rollup_energy(db, asset: str = ASSET) -> dict[str, dict[dt.datetime, float]]:
    """Return {resolution: {bucket: energy_kwh}} as stored."""
    out: dict[str, dict[dt.datetime, float]] = {"15min": {}, "1h": {}, "1d": {}}
    with db.session() as s:
        for r in s.execute(select(TelemetryRollup).where(TelemetryRollup.asset_id == asset,
                                                         TelemetryRollup.metric == "power_kw")).scalars():
            out[r.resolution][r.bucket_start] = r.energy_kwh
    return out


def assert_matches(db) -> None:
    want, got = stored_trapezoid(db), rollup_energy(db)
    for res in want:
        for bucket in set(want[res]) | set(got[res]):
            assert got[res].get(bucket, 0.0) == pytest.approx(want[res].get(bucket, 0.0), abs=1e-6), (res, bucket)


def test_in_order_points_add_trapezoid_segments_to_the_bucket_of_their_start(small_fleet):
    db = small_fleet.db
    store_points(db, pts([(0, 100), (5, 200), (10, 300)]))  # 09:50, 09:55, 10:00
    store_points(db, pts([(15, 300), (20, -50)]))  # a negative point counts as 0
    got = rollup_energy(db)
    # 09:50-09:55: (100+200)/2 * 5/60 = 12.5; 09:55-10:00: 20.833; 10:00-10:05: 25; 10:05-10:10: 12.5
    assert got["1h"][T0.replace(minute=0)] == pytest.approx(12.5 + 250 / 12)
    assert got["1h"][T0.replace(hour=10, minute=0)] == pytest.approx(25 + 12.5)
    assert got["1d"][T0.replace(hour=0, minute=0)] == pytest.approx(12.5 + 250 / 12 + 37.5)
    assert_matches(db)


def test_resent_batch_changes_nothing_and_a_late_point_replaces_its_segment(small_fleet):
    db = small_fleet.db
    batch = pts([(0, 100), (10, 100), (20, 400)])
    store_points(db, batch)
    before = rollup_energy(db)
    store_points(db, batch)
    assert rollup_energy(db) == before
    store_points(db, pts([(5, 1000)]))  # late, between 09:50 and 10:00
    store_points(db, pts([(5, 1000), (15, 0)]))  # again, plus another late one
    assert_matches(db)
    assert rollup_energy(db)["1d"][T0.replace(hour=0, minute=0)] == pytest.approx(
        (550 * 5 + 550 * 5 + 50 * 5 + 200 * 5) / 60)


def test_gaps_longer_than_the_setting_are_not_bridged(small_fleet):
    db = small_fleet.db
    gap_min = get_settings().energy_max_gap_s / 60
    store_points(db, pts([(0, 100), (60, 100), (60 + gap_min + 1, 100)]))  # hourly bridged, the next not
    assert rollup_energy(db)["1d"][T0.replace(hour=0, minute=0)] == pytest.approx(100.0)
    assert_matches(db)


def test_one_batch_with_an_in_order_asset_and_a_late_asset(small_fleet):
    # the in-order asset is integrated from the points at hand, the late one by the SQL that reads
    # its stored neighbours: both in the same transaction, each equal to the trapezoid of its rows
    db = small_fleet.db
    other = "t-sol-INV-02"
    store_points(db, pts([(0, 100), (10, 300)]) + pts([(0, 50), (10, 50)], other))
    store_points(db, pts([(5, 700), (20, 200)]) + pts([(15, 80), (16, -10), (30, 90)], other))
    assert_matches(db)  # the late asset
    want = stored_trapezoid(db, other)
    got = rollup_energy(db, other)
    for res in want:
        for bucket in set(want[res]) | set(got[res]):
            assert got[res].get(bucket, 0.0) == pytest.approx(want[res].get(bucket, 0.0), abs=1e-6), (res, bucket)
    assert got["1d"][T0.replace(hour=0, minute=0)] == pytest.approx((50 * 10 + 65 * 5 + 40 + 45 * 14) / 60)
