"""Retention per resolution: raw points and rollups past their windows go, the rest stays; the
settings refuse windows that would keep a finer resolution longer than a coarser one."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core.settings import SettingsError, load_settings
from data.models import TelemetryPoint, TelemetryRollup
from ingest.retention import RetentionWorker, prune_rollups
from ingest.store import store_points
from ingest.validation import ValidPoint

NOW = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _counts(db) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(select(TelemetryRollup.resolution, func.count()).group_by(TelemetryRollup.resolution)).all()
        raw = s.execute(select(func.count()).select_from(TelemetryPoint)).scalar_one()
    return {"raw": raw, **{r: n for r, n in rows}}


def test_rollups_pruned_per_resolution(small_fleet):
    db = small_fleet.db
    # one point every 6 h over 40 days: 160 raw points, as many 15-min and hourly buckets, 40 or 41 days
    start = NOW - dt.timedelta(days=40)
    store_points(db, [ValidPoint("t-sol-INV-01", "power_kw", start + dt.timedelta(hours=6 * k), 10.0) for k in range(160)])
    before = _counts(db)
    assert before["raw"] == before["15min"] == before["1h"] == 160
    worker = RetentionWorker(db, retention_days=3, rollup_days={"15min": 10, "1h": 30})
    worker.prune_once()
    with db.session() as s:
        oldest = {res: s.execute(select(func.min(TelemetryRollup.bucket_start))
                                 .where(TelemetryRollup.resolution == res)).scalar_one() for res in ("15min", "1h", "1d")}
        raw_oldest = s.execute(select(func.min(TelemetryPoint.ts))).scalar_one()
    assert raw_oldest >= NOW - dt.timedelta(days=3)
    assert oldest["15min"] >= NOW - dt.timedelta(days=10)
    assert oldest["1h"] >= NOW - dt.timedelta(days=30)
    assert oldest["1d"] <= start  # kept for ever
    after = _counts(db)
    # by hand: a point at start + 6 h k survives a window w when it is not older than the pass's now - w;
    # the pass ran a moment after NOW (a whole hour), so a point exactly at NOW - w is already older
    def kept(days: float) -> int:
        return sum(1 for k in range(160) if start + dt.timedelta(hours=6 * k) > NOW - dt.timedelta(days=days))
    assert (after["raw"], after["15min"], after["1h"]) == (kept(3), kept(10), kept(30))
    assert after["1d"] == before["1d"]
    assert worker.last_pruned_rollups == {"15min": 160 - kept(10), "1h": 160 - kept(30)}


def test_prune_rollups_in_chunks_takes_whole_buckets(small_fleet):
    db = small_fleet.db
    start = NOW - dt.timedelta(days=2)
    store_points(db, [ValidPoint(a, "power_kw", start + dt.timedelta(hours=h), 1.0)
                      for a in ("t-sol-INV-01", "t-sol-INV-02") for h in range(10)])
    removed = prune_rollups(db, "1h", start + dt.timedelta(hours=5), chunk=3)
    assert removed == 10  # 5 buckets x 2 assets, whatever the chunk boundaries
    assert _counts(db)["1h"] == 10


@pytest.mark.parametrize(("overrides", "named"), [
    ({"retention_15min_days": 2.0}, "FLEETLIGHT_RETENTION_15MIN_DAYS=2 is shorter than FLEETLIGHT_RAW_RETENTION_DAYS=3"),
    ({"retention_1h_days": 100.0}, "FLEETLIGHT_RETENTION_1H_DAYS=100 is shorter than FLEETLIGHT_RETENTION_15MIN_DAYS=730"),
    ({"retention_15min_days": 0.0, "retention_1h_days": 0.0, "retention_1d_days": 5000.0},
     "FLEETLIGHT_RETENTION_1D_DAYS=5000 would drop data that FLEETLIGHT_RETENTION_1H_DAYS=0 keeps for ever"),
])
def test_retention_settings_grow_with_the_resolution(overrides, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(**overrides)


def test_default_windows():
    settings = load_settings()
    assert settings.rollup_retention_days() == {"15min": 730.0}
