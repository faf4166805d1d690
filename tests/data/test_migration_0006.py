"""Revision 0006 (alert rules, silences, alert lifecycle columns) matches the models, and goes down
to 0005 and up again keeping the alerts."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from data.migrate import alembic_config
from data.models import Alert, Base

TABLES = {"alerts", "alert_rules", "alert_silences"}


def _diffs(db) -> list:
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    out = []
    for d in diffs:
        item = d[0] if isinstance(d, list) else d
        names = [getattr(x, "name", None) for x in item[1:] if hasattr(x, "name")] + \
                [getattr(getattr(x, "table", None), "name", None) for x in item[1:]] + [str(x) for x in item[1:]]
        if any(n in TABLES for n in names if n):
            out.append(item)
    return out


def test_0006_matches_the_models_and_round_trips(db):
    assert _diffs(db) == []
    with db.session() as s:
        s.add(Alert(rule="integration", severity="warning", title="caiso failing", dedup_key="k"))
    config = alembic_config(db)
    command.downgrade(config, "0005")
    assert "alert_rules" not in inspect(db.engine).get_table_names()
    assert "rule_id" not in {c["name"] for c in inspect(db.engine).get_columns("alerts")}
    command.upgrade(config, "head")
    with db.read_session() as s:
        (alert,) = s.execute(select(Alert)).scalars().all()
    assert alert.title == "caiso failing" and alert.occurrences == 1 and alert.ack_comment == ""
