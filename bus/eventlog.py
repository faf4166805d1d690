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
