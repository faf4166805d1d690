"""The audit trail: every sign-in, role change, key change, rule change, acknowledgement and
command becomes one row of the append-only ``events`` table (the database refuses UPDATE/DELETE).

Event kinds written by the security package (other packages add their own, same shape):
``user.signed_in``, ``user.sign_in_failed``, ``user.locked``, ``user.signed_out``, ``user.created``,
``user.role_changed``, ``user.updated``, ``token.created``, ``token.revoked``, ``secret.set``,
``secret.version_added``, ``secret.version_retired``, ``keys.rotated``, ``oauth.connected``,
``oauth.refreshed``, ``oauth.revoked``, ``wall.activated``, ``webhook.received``.
No payload ever holds a secret value: callers pass names and fingerprints only.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.db import Database
from data.models import Event

AUDIT_COLUMNS = ("id", "ts", "actor", "kind", "entity_type", "entity_id", "payload")


def record(
    db: Database | None,
    actor: str,
    kind: str,
    entity_type: str = "",
    entity_id: str = "",
    payload: dict[str, Any] | None = None,
    session: Session | None = None,
) -> None:
    """Append one audit event (in ``session`` when given, so it commits with the change it records)."""
    event = Event(actor=actor[:100], kind=kind[:64], entity_type=entity_type[:32], entity_id=str(entity_id)[:100],
                  payload=payload or {})
    if session is not None:
        session.add(event)
        return
    if db is None:
        from core.runtime import db as current_db

        db = current_db()
    with db.session() as s:
        s.add(event)


def actor_name(default: str = "system") -> str:
    """Return the name of the current request's caller (or ``default`` outside a request)."""
    from flask import has_request_context

    if not has_request_context():
        return default
    from security.access import current_caller

    caller = current_caller()
    return caller.name if caller is not None else "anonymous"


@dataclass(frozen=True)
class AuditQuery:
    """Filters for the audit log (all optional); times are tz-aware, [start, end)."""

    kind_prefix: str | None = None
    actor: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    limit: int = 500


def list_events(db: Database, query: AuditQuery) -> list[dict[str, Any]]:
    """Return the newest events matching ``query`` as dicts (ts tz-aware UTC), newest first."""
    stmt = select(Event).order_by(Event.id.desc()).limit(max(1, min(query.limit, 100_000)))
    if query.kind_prefix:
        stmt = stmt.where(Event.kind.startswith(query.kind_prefix, autoescape=True))
    if query.actor:
        stmt = stmt.where(Event.actor == query.actor)
    if query.start is not None:
        stmt = stmt.where(Event.ts >= query.start)
    if query.end is not None:
        stmt = stmt.where(Event.ts < query.end)
    with db.session() as s:
        return [
            {"id": e.id, "ts": e.ts, "actor": e.actor, "kind": e.kind, "entity_type": e.entity_type,
             "entity_id": e.entity_id, "payload": e.payload or {}}
            for e in s.execute(stmt).scalars()
        ]


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    """Return ``rows`` as CSV text (ts ISO 8601 UTC, payload as compact JSON), with a header row.

    Cells starting with = + - @ are prefixed with a quote so spreadsheets do not run them as formulas.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(AUDIT_COLUMNS)
    for row in rows:
        cells = [row["id"], row["ts"].isoformat(), row["actor"], row["kind"], row["entity_type"], row["entity_id"],
                 json.dumps(row["payload"], sort_keys=True, separators=(",", ":"), default=str)]
        writer.writerow([_safe_cell(c) for c in cells])
    return out.getvalue()


def _safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
