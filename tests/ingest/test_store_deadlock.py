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


def test_every_store_statement_takes_its_row_locks_in_key_order(small_fleet):
    """Two batches sharing rows lock them in the same order, so they wait for each other instead of
    deadlocking (the storm on PostgreSQL answered 503 twice after every retry of a deadlocked rollup upsert)."""
    from sqlalchemy import event

    db = small_fleet.db
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks in statement order are PostgreSQL's (SQLite serialises writers)")
    rows = [{**_point(minute, 10.0 + minute), "asset_id": asset}
            for minute in (59, 31, 14, 2) for asset in ("t-sol-INV-02", "t-sol-INV-01")]  # newest first, B before A
    seen: dict[str, list[tuple]] = {}

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        table = next((t for t in ("telemetry_rollups", "asset_latest", "telemetry ") if f"INTO {t}" in statement), None)
        if table is None:
            return
        if isinstance(parameters, dict):  # insertmanyvalues: one statement, parameters name__0, name__1, ...
            by_row: dict[int, dict] = {}
            for name, value in parameters.items():
                base, _, n = name.rpartition("__")
                if n.isdigit():
                    by_row.setdefault(int(n), {})[base] = value
            parameters = [by_row[n] for n in sorted(by_row)]
        keys = ("asset_id", "metric", "resolution", "bucket_start", "ts")
        seen.setdefault(table.strip(), []).extend(tuple(p[k] for k in keys if k in p) for p in parameters)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert small_fleet.ingest.submit_rows(rows, source="test").inserted == 8
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert set(seen) == {"telemetry", "telemetry_rollups", "asset_latest"}
    for table, keys in seen.items():
        assert keys == sorted(keys), f"{table} rows not in key order: {keys}"
