"""Writing to and reading from the dead-letter store (the ``dead_letters`` table).

One dead letter per failed message: while a dead letter is being replayed (inside
:func:`replaying`), a failure that any part of the path would dead-letter (the bus refusing the
message, a consumer failing, ingest rejecting the row again) is recorded as the attempt's error
instead of becoming a new dead letter; :mod:`bus.replay` then writes it to the original row.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
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


@dataclass
class ReplayAttempt:
    """The errors met while replaying dead letter ``dead_letter_id`` (in the replaying thread)."""

    dead_letter_id: int
    errors: list[str] = field(default_factory=list)


_attempt: contextvars.ContextVar[ReplayAttempt | None] = contextvars.ContextVar("dead_letter_replay", default=None)


@contextlib.contextmanager
def replaying(dead_letter_id: int) -> Iterator[ReplayAttempt]:
    """Within the block, failures are collected on the yielded attempt instead of dead-lettered anew."""
    attempt = ReplayAttempt(dead_letter_id)
    token = _attempt.set(attempt)
    try:
        yield attempt
    finally:
        _attempt.reset(token)


def dead_letter(db: Database, source: str, topic: str, reason: str, payload: Any, attempts: int = 1) -> int:
    """Keep ``payload`` with its ``reason``; return the dead letter's id.

    During a replay the reason is added to the attempt and the replayed dead letter's id returned.
    """
    attempt = _attempt.get()
    if attempt is not None:
        attempt.errors.append(_clean(reason[:4000]))
        return attempt.dead_letter_id
    with db.session() as session:
        row = DeadLetter(source=source, topic=topic, reason=_clean(reason[:4000]), payload=_jsonable(payload),
                         attempts=attempts)
        session.add(row)
        session.flush()
        log.warning("dead-lettered message from %s on %r: %s", source, topic, reason[:300])
        return row.id


def dead_letter_many(db: Database, source: str, topic: str, items: list[tuple[str, Any]]) -> int:
    """Keep many (reason, payload) items at once; return how many were stored (during a replay: 0,
    the reasons are added to the attempt)."""
    if not items:
        return 0
    attempt = _attempt.get()
    if attempt is not None:
        attempt.errors.extend(_clean(reason[:4000]) for reason, _payload in items)
        return 0
    with db.session() as session:
        session.add_all(
            DeadLetter(source=source, topic=topic, reason=_clean(reason[:4000]), payload=_jsonable(payload))
            for reason, payload in items
        )
    return len(items)
