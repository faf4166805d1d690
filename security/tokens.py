"""API and device tokens: random, shown once, stored only as a SHA-256 hash, scoped and revocable.

Tokens carry 256 bits of randomness, so a fast hash is the right store (a slow KDF protects
low-entropy passwords, not random keys) and lookup is a single indexed equality.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from data.db import Database
from data.models import ApiToken, Role, utcnow

TOKEN_PREFIX = "fl_"


@dataclass(frozen=True)
class TokenIdentity:
    """Who a valid token speaks for."""

    token_id: int
    name: str
    role: Role
    scopes: tuple[str, ...]
    user_id: int | None


def hash_token(token: str) -> str:
    """Return the hex SHA-256 of ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    db: Database,
    name: str,
    scopes: list[str],
    role: Role = Role.viewer,
    user_id: int | None = None,
    expires_at: dt.datetime | None = None,
) -> str:
    """Create a token and return its clear text (the only time it is available)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.session() as session:
        session.add(
            ApiToken(
                name=name, token_hash=hash_token(token), prefix=token[:10], scopes=list(scopes),
                role=role, user_id=user_id, expires_at=expires_at,
            )
        )
    return token


def verify_token(db: Database, token: str) -> TokenIdentity | None:
    """Return the identity of a valid, unrevoked, unexpired token, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    now = utcnow()
    with db.session() as session:
        row = session.execute(select(ApiToken).where(ApiToken.token_hash == digest)).scalar_one_or_none()
        if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return None
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        return TokenIdentity(row.id, row.name, row.role, tuple(row.scopes or ()), row.user_id)


def revoke_token(db: Database, token_id: int) -> bool:
    """Revoke the token with ``token_id``; return True if it existed and was active."""
    from security.sessions import end_sessions_of

    with db.session() as session:
        result = session.execute(
            update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
        )
        end_sessions_of(session, token_id=token_id, reason="token revoked")  # wall screens activated with it
        return result.rowcount > 0
