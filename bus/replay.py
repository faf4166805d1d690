"""Listing and replaying dead letters (API and admin page share these)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from bus.base import DeliveryFailed
from bus.eventlog import record_event
from bus.registry import REGISTRY, SchemaError
from data.models import DeadLetter

TELEMETRY_TOPIC = "telemetry.v1"


class ReplayError(Exception):
    """A dead letter cannot be replayed; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def dead_letter_dict(row: DeadLetter, with_payload: bool = False) -> dict[str, Any]:
    """Return a dead letter as a JSON-ready dict (payload only if asked)."""
    out: dict[str, Any] = {
        "id": row.id, "received_at": row.received_at.isoformat() if row.received_at else None, "source": row.source,
        "topic": row.topic, "reason": row.reason, "attempts": row.attempts,
        "replayed_at": row.replayed_at.isoformat() if row.replayed_at else None,
    }
    if with_payload:
        out["payload"] = row.payload
    return out


def list_dead_letters(db: Any, topic: str | None = None, replayed: bool | None = None, limit: int = 100,
                      offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """Return (total matching, newest-first page) of dead letters."""
    stmt = select(DeadLetter)
    if topic:
        stmt = stmt.where(DeadLetter.topic == topic)
    if replayed is not None:
        stmt = stmt.where(DeadLetter.replayed_at.is_not(None) if replayed else DeadLetter.replayed_at.is_(None))
    with db.session() as session:
        total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = session.execute(stmt.order_by(DeadLetter.id.desc()).limit(limit).offset(offset)).scalars().all()
        return total, [dead_letter_dict(r, with_payload=True) for r in rows]


def replay_dead_letter(services: Any, dead_letter_id: int, actor: str, force: bool = False) -> dict[str, Any]:
    """Replay a dead letter and mark it replayed; return the outcome.

    A payload that is a valid message of its topic is published on the bus again (the consumers'
    idempotent stores make a repeat harmless). A rejected telemetry row (``{"index", "row"}``
    from batch validation) is submitted through ingest again and validated afresh; if it is
    rejected again it becomes a new dead letter and this one stays unreplayed.
    Raises ReplayError (404 unknown, 409 already replayed without ``force``, 422 not replayable).
    """
    db = services.db
    with db.session() as session:
        row = session.get(DeadLetter, dead_letter_id)
        if row is None:
            raise ReplayError(404, f"no dead letter with id {dead_letter_id}")
        if row.replayed_at is not None and not force:
            raise ReplayError(409, f"dead letter {dead_letter_id} was already replayed at {row.replayed_at.isoformat()}; "
                                   "pass force=true to replay it again")
        topic, payload = row.topic, row.payload
    outcome: dict[str, Any]
    try:
        REGISTRY.validate(topic, payload)
        try:
            services.bus.publish(topic, payload)
        except DeliveryFailed as exc:
            raise ReplayError(503, f"replay could not be delivered: {exc}") from None
        outcome = {"outcome": "republished", "topic": topic}
    except SchemaError as exc:
        if topic == TELEMETRY_TOPIC and isinstance(payload, dict) and isinstance(payload.get("row"), dict):
            ingest = services.ingest
            report = ingest.submit_rows([payload["row"]], source=f"replay:{dead_letter_id}")
            if report.rejected:
                reason = report.rejected[0]
                raise ReplayError(422, f"the row is still invalid: {reason.field}: {reason.error}") from None
            outcome = {"outcome": "resubmitted", "topic": topic, "report": report.as_dict()}
        else:
            raise ReplayError(422, f"payload is not a valid {topic or 'bus'} message and cannot be replayed: {exc}") from None
    with db.session() as session:
        row = session.get(DeadLetter, dead_letter_id)
        row.replayed_at = dt.datetime.now(dt.UTC)  # type: ignore[union-attr]
        record_event(session, actor, "dead_letter.replayed", "dead_letter", str(dead_letter_id),
                     {"topic": topic, "outcome": outcome["outcome"], "forced": force})
    return {"id": dead_letter_id, **outcome}
