"""Read queries for the admin page and admin API: tokens and audit-event counts."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from data.db import Database
from data.models import ApiToken, Event, User


def list_tokens(db: Database, include_revoked: bool = True) -> list[dict[str, Any]]:
    """Return API and wall tokens (never their hashes), newest first, with owner names.

    Each dict: id, name, prefix (first 10 characters, to recognise a token), role, scopes,
    user (owner name or None), created_at, expires_at, revoked_at, last_used_at (tz-aware UTC),
    active (bool).
    """
    stmt = (select(ApiToken, User.username).outerjoin(User, User.id == ApiToken.user_id)
            .order_by(ApiToken.id.desc()))
    if not include_revoked:
        stmt = stmt.where(ApiToken.revoked_at.is_(None))
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        return [
            {"id": t.id, "name": t.name, "prefix": t.prefix, "role": t.role.value, "scopes": list(t.scopes or []),
             "user": owner, "created_at": t.created_at, "expires_at": t.expires_at, "revoked_at": t.revoked_at,
             "last_used_at": t.last_used_at,
             "active": t.revoked_at is None and (t.expires_at is None or t.expires_at > now)}
            for t, owner in s.execute(stmt).all()
        ]


def event_kinds(db: Database) -> list[str]:
    """Return every distinct audit event kind, sorted."""
    with db.session() as s:
        return sorted(s.execute(select(Event.kind).distinct()).scalars())
