"""Writing to and reading from the dead-letter store (the ``dead_letters`` table)."""
from __future__ import annotations

import json
import logging
from typing import Any

from data.db import Database
from data.models import DeadLetter

log = logging.getLogger(__name__)


def _clean(text: str) -> str:
    # PostgreSQL text and JSON cannot hold NUL; a bad input must still be kept, so NUL becomes U+FFFD
    return text.replace("\x00", "\ufffd")


def _jsonable(payload: Any) -> Any:
    try:
        text = json.dumps(payload)
    except (TypeError, ValueError):
        return {"repr": _clean(repr(payload)[:10000])}
    if "\\u0000" in text:
        return json.loads(text.replace("\\u0000", "\\ufffd"))
    return payload


def dead_letter(db: Database, source: str, topic: str, reason: str, payload: Any, attempts: int = 1) -> int:
    """Keep ``payload`` with its ``reason``; return the dead letter's id."""
    with db.session() as session:
        row = DeadLetter(source=source, topic=topic, reason=_clean(reason[:4000]), payload=_jsonable(payload),
                         attempts=attempts)
        session.add(row)
        session.flush()
        log.warning("dead-lettered message from %s on %r: %s", source, topic, reason[:300])
        return row.id


def dead_letter_many(db: Database, source: str, topic: str, items: list[tuple[str, Any]]) -> int:
    """Keep many (reason, payload) items at once; return how many were stored."""
    if not items:
        return 0
    with db.session() as session:
        session.add_all(
            DeadLetter(source=source, topic=topic, reason=_clean(reason[:4000]), payload=_jsonable(payload))
            for reason, payload in items
        )
    return len(items)
