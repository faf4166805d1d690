"""A store transaction that PostgreSQL aborts as a deadlock victim is run again: the batch is stored
once and nothing is dead-lettered (in the storm, 4 of 8,000 requests used to answer 503 this way)."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select, text

from data.models import DeadLetter, TelemetryPoint, TelemetryRollup

HOUR = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=2)


def _point(minute: int, value: float) -> dict:
    return {"asset_id": "t-sol-INV-01", "metric": "power_kw", "ts": (HOUR + dt.timedelta(minutes=minute)).isoformat(),
            "value": value}


def test_a_deadlocked_store_is_run_again(small_fleet, caplog):
    db = small_fleet.db
    if db.engine.dialect.name != "postgresql":
        pytest.skip("deadlock detection is PostgreSQL's (SQLite serialises writers)")
    ingest = small_fleet.ingest
    assert ingest.submit_rows([_point(1, 10.0)], source="test").inserted == 1  # latest and rollup rows exist
    other = db.engine.connect()
    other.execute(text("SET deadlock_timeout = '10s'"))  # the ingest transaction detects first: it is the victim
    other.execute(text("UPDATE asset_latest SET value = value WHERE asset_id = 't-sol-INV-01'"))
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(report=ingest.submit_rows([_point(2, 20.0)], source="test")))
    worker.start()
    time.sleep(0.5)  # the ingest transaction now holds its rollup rows and waits for asset_latest
    other.execute(text("UPDATE telemetry_rollups SET count = count WHERE asset_id = 't-sol-INV-01'"))  # deadlock
    other.commit()
    other.close()
    worker.join(30)
    assert outcome["report"].inserted == 1 and not outcome["report"].rejected
    assert any("40P01" in r.getMessage() for r in caplog.records), "no deadlock happened: the test proves nothing"
    with db.session() as s:
        assert s.execute(select(func.count()).select_from(TelemetryPoint)).scalar_one() == 2
        assert s.execute(select(func.count()).select_from(DeadLetter)).scalar_one() == 0
        hourly = s.execute(select(TelemetryRollup.count, TelemetryRollup.sum).where(
            TelemetryRollup.resolution == "1h", TelemetryRollup.bucket_start == HOUR)).one()
    assert tuple(hourly) == (2, 30.0)
