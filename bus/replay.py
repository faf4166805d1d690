"""Listing and replaying dead letters (API and admin page share these)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from bus.base import DeliveryFailed
from bus.deadletter import replaying
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
    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    out: dict[str, Any] = {
        "id": row.id, "received_at": iso(row.received_at), "source": row.source, "topic": row.topic,
        "reason": row.reason, "attempts": row.attempts, "last_error": row.last_error,
        "last_attempt_at": iso(row.last_attempt_at), "replayed_at": iso(row.replayed_at),
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


def get_dead_letter(db: Any, dead_letter_id: int) -> dict[str, Any] | None:
    """Return one dead letter with its payload, or None if there is no such id."""
    with db.session() as session:
        row = session.get(DeadLetter, dead_letter_id)
        return dead_letter_dict(row, with_payload=True) if row is not None else None


def _attempt(services: Any, topic: str, payload: Any, dead_letter_id: int) -> dict[str, Any]:
    """Run one replay of ``payload``; return the outcome or raise ReplayError (nothing recorded here)."""
    try:
        REGISTRY.validate(topic, payload)
    except SchemaError as exc:
        if topic == TELEMETRY_TOPIC and isinstance(payload, dict) and isinstance(payload.get("row"), dict):
            ingest = services.ingest
            report = ingest.submit_rows([payload["row"]], source=f"replay:{dead_letter_id}",
                                        text=payload.get("format") == "csv")
            if report.rejected:
                reason = report.rejected[0]
                raise ReplayError(422, f"the row is still invalid: {reason.field}: {reason.error}") from None
            return {"outcome": "resubmitted", "topic": topic, "report": report.as_dict()}
        raise ReplayError(422, f"payload is not a valid {topic or 'bus'} message and cannot be replayed: {exc}") from None
    try:
        services.bus.publish(topic, payload)
    except DeliveryFailed as exc:
        raise ReplayError(503, f"replay could not be delivered: {exc}") from None
    return {"outcome": "republished", "topic": topic}


def replay_dead_letter(services: Any, dead_letter_id: int, actor: str, force: bool = False) -> dict[str, Any]:
    """Replay a dead letter; return the outcome with the dead letter as it is now (``dead_letter``).

    A payload that is a valid message of its topic is published on the bus again (the consumers'
    idempotent stores make a repeat harmless). A rejected telemetry row (``{"index", "row",
    "format"}`` from batch validation) is submitted through ingest again and validated afresh by
    the rules of its format. Every attempt counts on this dead letter: ``attempts`` + 1 and
    ``last_attempt_at``; a success sets ``replayed_at``, a failure sets ``last_error`` and creates
    no new dead letter (see :func:`bus.deadletter.replaying`). Every attempt is audited.
    Raises ReplayError (404 unknown, 409 already replayed without ``force``, 422 not replayable or
    still invalid, 503 not delivered), after recording the failed attempt.
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
    failure: ReplayError | None = None
    outcome: dict[str, Any] = {}
    with replaying(dead_letter_id) as attempt:
        try:
            outcome = _attempt(services, topic, payload, dead_letter_id)
        except ReplayError as exc:
            failure = exc
    now = dt.datetime.now(dt.UTC)
    with db.session() as session:
        row = session.get(DeadLetter, dead_letter_id, with_for_update=True)
        row.attempts += 1
        row.last_attempt_at = now
        if failure is None:
            row.replayed_at = now
        else:
            detail = "; ".join(dict.fromkeys(attempt.errors))
            row.last_error = _clean_error(failure.message + (f" ({detail})" if detail and detail not in failure.message else ""))
        record_event(session, actor, "dead_letter.replayed" if failure is None else "dead_letter.replay_failed",
                     "dead_letter", str(dead_letter_id),
                     {"topic": topic, "outcome": outcome.get("outcome", "failed"), "forced": force,
                      "attempts": row.attempts, **({"error": row.last_error} if failure else {})})
        session.flush()
        current = dead_letter_dict(row)
    if failure is not None:
        raise failure
    return {"id": dead_letter_id, **outcome, "dead_letter": current}


def _clean_error(text: str) -> str:
    return text.replace("\x00", "\ufffd")[:4000]
