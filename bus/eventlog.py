"""The append-only audit log (the ``events`` table): record a state change, read recent ones."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from data.db import Database
from data.models import Event


def record_event(target: Database | Session, actor: str, kind: str, entity_type: str = "", entity_id: str = "",
                 payload: dict[str, Any] | None = None) -> None:
    """Append one event (``kind`` like 'dead_letter.replayed') by ``actor``; in ``target``'s transaction if a Session."""
    row = Event(ts=dt.datetime.now(dt.UTC), actor=actor[:100], kind=kind[:64], entity_type=entity_type[:32],
                entity_id=str(entity_id)[:100], payload=payload or {})
    if isinstance(target, Session):
        target.add(row)
        return
    with target.session() as session:
        session.add(row)


EVENTS_TOPIC = "events.v1"


def event_message(row: dict[str, Any]) -> dict[str, Any]:
    """Return the ``events.v1`` bus message of an event row (ts, actor, kind, entity_type, entity_id, payload)."""
    ts = row.get("ts") or dt.datetime.now(dt.UTC)
    return {"v": 1, "ts": ts.astimezone(dt.UTC).isoformat() if isinstance(ts, dt.datetime) else str(ts),
            "actor": str(row.get("actor", "system"))[:100], "kind": str(row["kind"])[:64],
            "entity_type": str(row.get("entity_type", ""))[:32], "entity_id": str(row.get("entity_id", ""))[:100],
            "payload": row.get("payload") or {}}
