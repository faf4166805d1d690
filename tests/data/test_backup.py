"""Backup and restore round trip through the CLI, on the test database (SQLite or PostgreSQL)."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError

from data.backup import BackupError, backup_kind, restore
from data.models import Event, TelemetryPoint, TelemetryRollup
from ingest.store import store_points
from ingest.validation import ValidPoint
from tests.support.live_services import REPO

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _fingerprint(db) -> tuple[int, int, str]:
    """Return (raw rows, rollup rows, a hash of every raw row) of the store."""
    with db.session() as s:
        raw = s.execute(select(TelemetryPoint.asset_id, TelemetryPoint.metric, TelemetryPoint.ts, TelemetryPoint.value)
                        .order_by(TelemetryPoint.asset_id, TelemetryPoint.metric, TelemetryPoint.ts)).all()
        rollups = len(s.execute(select(TelemetryRollup.asset_id)).all())
    digest = hashlib.sha256(repr([(a, m, t.isoformat(), v) for a, m, t, v in raw]).encode()).hexdigest()
    return len(raw), rollups, digest


def _flask(db, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FLEETLIGHT_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
           "FLEETLIGHT_SIMULATOR_ENABLED": "false", "FLEETLIGHT_SEED_ON_START": "false"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_backup_then_restore_gives_back_exactly_the_store(small_fleet, tmp_path):
    db = small_fleet.db
    with db.session() as s:
        s.add(Event(actor="t", kind="user.signed_in"))
    store_points(db, [ValidPoint(a, "power_kw", T0 + dt.timedelta(minutes=5 * k), float(k % 97) + 0.125)
                      for a in ("t-sol-INV-01", "t-wind-WTG-01") for k in range(300)])
    saved = _fingerprint(db)
    target = tmp_path / "fleet.backup"
    made = _flask(db, "backup", str(target))
    assert made.returncode == 0, made.stderr[-2000:]
    assert backup_kind(target) == db.engine.dialect.name
    assert db.engine.url.password is None or str(db.engine.url.password) not in made.stdout + made.stderr
    # the store moves on after the backup: rows go, rows come
    with db.session() as s:
        s.execute(delete(TelemetryPoint).where(TelemetryPoint.asset_id == "t-sol-INV-01"))
    store_points(db, [ValidPoint("t-sol-INV-02", "power_kw", T0, 1.0)])
    assert _fingerprint(db) != saved
    refused = _flask(db, "restore", str(target))
    assert refused.returncode != 0 and "--yes" in refused.stderr
    db.dispose()  # the restore replaces the database under this process's pool
    done = _flask(db, "restore", str(target), "--yes")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _fingerprint(db) == saved
    with db.session() as s:
        assert s.execute(select(Event.kind)).scalars().all() == ["user.signed_in"]
    with pytest.raises(DBAPIError, match="append-only"):  # the event log is still guarded after a restore
        with db.session() as s:
            s.execute(text("DELETE FROM events"))


def test_restore_refuses_what_is_not_a_backup_of_this_kind(small_fleet, tmp_path):
    url = small_fleet.db.engine.url.render_as_string(hide_password=False)
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"<html>not a backup</html>")
    with pytest.raises(BackupError, match="is not a Fleetlight backup"):
        restore(url, junk)
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP" + b"\0" * 20 if small_fleet.db.engine.dialect.name == "sqlite"
                      else b"SQLite format 3\x00" + b"\0" * 20)
    with pytest.raises(BackupError, match="backup; the configured database is"):
        restore(url, other)
    with pytest.raises(BackupError, match="no backup file"):
        restore(url, tmp_path / "missing.backup")
