"""Schema rules: tz-aware timestamps only, append-only audit log, migrations at head."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, StatementError

from data.models import Event, Portfolio


def test_naive_timestamps_are_refused(db):
    with pytest.raises(StatementError, match="naive datetime"):
        with db.session() as s:
            s.add(Event(actor="t", kind="x", ts=dt.datetime(2026, 1, 1)))


def test_timestamps_come_back_utc(db):
    with db.session() as s:
        s.add(Event(actor="t", kind="x", ts=dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))))
    with db.session() as s:
        ev = s.query(Event).one()
        assert ev.ts == dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)
        assert ev.ts.utcoffset() == dt.timedelta(0)


def test_events_are_append_only(db):
    with db.session() as s:
        s.add(Event(actor="t", kind="user.signed_in"))
    for statement in ("UPDATE events SET actor = 'x'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.session() as s:
                s.execute(text(statement))


def test_foreign_keys_enforced(db):
    from data.models import Site, SiteKind

    with pytest.raises(DBAPIError):
        with db.session() as s:
            s.add(Site(id="x", portfolio_id="missing", name="x", kind=SiteKind.solar, capacity_mw=1, market="ERCOT"))
    with db.session() as s:
        s.add(Portfolio(id="p", name="p"))
