"""Server-side sessions: every signed-in browser (person or wall screen) has a row in ``auth_sessions``.

The signed session cookie carries a random key (``fl_sid``); the row, keyed by the key's SHA-256,
says whether that cookie still counts. Signing out, a password change, disabling the user,
revoking a wall token and the idle/absolute timeouts end the row, so a copied cookie stops
working at once, in every server process and after a restart. The live hub checks the rows of
its open sockets every second (:func:`invalid_socket_identities`) and disconnects the ended ones.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select, update

from data.db import Database
from data.models import ApiToken, AuthSession, User, utcnow

SEEN_WRITE_S = 30  # seen_at is written at most this often per session


def session_row_id(key: str) -> str:
    """Return the row id (hex SHA-256) of the session key ``key``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def open_session(db: Database, *, user_id: int | None = None, token_id: int | None = None) -> str:
    """Create a session row for a user or a wall token; return the clear key for the cookie."""
    if (user_id is None) == (token_id is None):
        raise ValueError("a session belongs to exactly one user or one wall token")
    key = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        s.add(AuthSession(id=session_row_id(key), user_id=user_id, token_id=token_id, created_at=now, seen_at=now))
    return key


@dataclass(frozen=True)
class Timeouts:
    """Idle and absolute session lifetimes in seconds (people only; wall screens never time out)."""

    idle_s: float
    absolute_s: float

    def expired(self, row: AuthSession, now: dt.datetime) -> str | None:
        """Return "idle timeout"/"absolute timeout" if ``row`` (a person's session) is past one, else None."""
        if row.user_id is None:
            return None
        if (now - row.created_at).total_seconds() > self.absolute_s:
            return "absolute timeout"
        if (now - row.seen_at).total_seconds() > self.idle_s:
            return "idle timeout"
        return None


def check_session(db: Database, key: str | None, timeouts: Timeouts, *, user_id: int | None = None,
                  token_id: int | None = None, touch: bool = False) -> str | None:
    """Return None if the session ``key`` is live for that user/token, else the reason it is not.

    A session found past its timeout is ended here. ``touch`` records activity (at most every
    :data:`SEEN_WRITE_S`).
    """
    if not key or not isinstance(key, str) or len(key) > 200:
        return "no server-side session"
    now = utcnow()
    row_id = session_row_id(key)
    # read first (on SQLite a write session takes the write lock): write only to end or touch
    with db.read_session() as s:
        row = s.get(AuthSession, row_id)
        if row is None:
            return "unknown session"
        if row.ended_at is not None:
            return row.end_reason or "ended"
        if row.user_id != user_id or row.token_id != token_id:
            return "session of another identity"
        reason = timeouts.expired(row, now)
        seen_at = row.seen_at
        stale_seen = touch and (now - seen_at).total_seconds() > SEEN_WRITE_S
    if reason:
        end_session(db, key, reason)
        return reason
    if stale_seen:
        # only over the value read: a write between the read and here (another request's touch, an
        # administrator's change) is not overwritten with activity the session may no longer have
        with db.session() as s:
            s.execute(update(AuthSession).where(AuthSession.id == row_id, AuthSession.seen_at == seen_at)
                      .values(seen_at=now))
    return None


def end_session(db: Database, key: str | None, reason: str) -> bool:
    """End the session ``key``; return True if it was live."""
    if not key:
        return False
    with db.session() as s:
        result = s.execute(update(AuthSession).where(AuthSession.id == session_row_id(key),
                                                     AuthSession.ended_at.is_(None))
                           .values(ended_at=utcnow(), end_reason=reason[:40]))
        return result.rowcount > 0


def end_sessions_of(session, *, user_id: int | None = None, token_id: int | None = None, reason: str) -> int:
    """End every live session of a user or a wall token inside the SQLAlchemy ``session``; return how many."""
    column = AuthSession.user_id if user_id is not None else AuthSession.token_id
    ident = user_id if user_id is not None else token_id
    result = session.execute(update(AuthSession).where(column == ident, AuthSession.ended_at.is_(None))
                             .values(ended_at=utcnow(), end_reason=reason[:40]))
    return result.rowcount


@dataclass(frozen=True)
class SocketIdentity:
    """What an open socket was authenticated as (checked again every second by the hub)."""

    session_id: str | None  # row id of the browser session, for cookie-authenticated sockets
    user_id: int | None
    token_id: int | None  # bearer token of a machine client, or the wall token behind a wall session


def invalid_socket_identities(db: Database, identities: Iterable[SocketIdentity], timeouts: Timeouts) -> set[SocketIdentity]:
    """Return the identities that no longer hold: ended or timed-out session, revoked or expired token,
    disabled user or changed password. Timed-out sessions are ended on the way."""
    identities = set(identities)
    if not identities:
        return set()
    now = utcnow()
    bad: set[SocketIdentity] = set()
    session_ids = {i.session_id for i in identities if i.session_id}
    user_ids = {i.user_id for i in identities if i.user_id is not None}
    token_ids = {i.token_id for i in identities if i.token_id is not None}
    timed_out: dict[str, str] = {}
    with db.read_session() as s:  # every second: read only, write only what timed out
        rows = {r.id: r for r in s.execute(select(AuthSession).where(AuthSession.id.in_(session_ids))).scalars()} \
            if session_ids else {}
        dead_sessions = set()
        for sid in session_ids:
            row = rows.get(sid)
            if row is None or row.ended_at is not None:
                dead_sessions.add(sid)
                continue
            reason = timeouts.expired(row, now)
            if reason:
                timed_out[sid] = reason
                dead_sessions.add(sid)
        users = {u.id: u for u in s.execute(select(User).where(User.id.in_(user_ids))).scalars()} if user_ids else {}
        tokens = {t.id: t for t in s.execute(select(ApiToken).where(ApiToken.id.in_(token_ids))).scalars()} \
            if token_ids else {}
        for ident in identities:
            if ident.session_id and ident.session_id in dead_sessions:
                bad.add(ident)
                continue
            if ident.user_id is not None:
                user = users.get(ident.user_id)
                if user is None or not user.is_active:
                    bad.add(ident)
                    continue
            if ident.token_id is not None:
                token = tokens.get(ident.token_id)
                if token is None or token.revoked_at is not None or (
                        token.expires_at is not None and token.expires_at <= now):
                    bad.add(ident)
    if timed_out:
        with db.session() as s:
            for sid, reason in timed_out.items():
                s.execute(update(AuthSession).where(AuthSession.id == sid, AuthSession.ended_at.is_(None))
                          .values(ended_at=now, end_reason=reason))
    return bad


def current_timeouts() -> Timeouts:
    """Return the session timeouts of the installed settings."""
    from core import runtime

    settings = runtime.services().settings
    return Timeouts(settings.session_idle_minutes * 60, settings.session_absolute_hours * 3600)


class SocketSessions:
    """The identities of this process's open sockets (Socket.IO sid -> :class:`SocketIdentity`)."""

    def __init__(self) -> None:
        self._by_sid: dict[str, SocketIdentity] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._by_sid)

    def track(self, sid: str, auth: object) -> SocketIdentity | None:
        """Record who the socket ``sid`` connected as (from the handshake's cookie or ``auth.token``)."""
        from security.access import socket_caller

        caller = socket_caller(auth if isinstance(auth, dict) else None)
        if caller is None:
            return None
        identity = SocketIdentity(caller.session_id, caller.user_id, caller.token_id)
        with self._lock:
            self._by_sid[sid] = identity
        return identity

    def sids_of(self, *, user_id: int | None = None, token_id: int | None = None,
                session_id: str | None = None) -> list[str]:
        """Return the sids connected as that user, token or session."""
        with self._lock:
            return [sid for sid, i in self._by_sid.items()
                    if (user_id is not None and i.user_id == user_id) or (token_id is not None and i.token_id == token_id)
                    or (session_id is not None and i.session_id == session_id)]

    def forget(self, sids: Iterable[str]) -> None:
        """Stop tracking ``sids``."""
        with self._lock:
            for sid in sids:
                self._by_sid.pop(sid, None)

    def revoked(self, db: Database, connected: Callable[[str], bool], timeouts: Timeouts | None = None) -> list[str]:
        """Return the sids whose identity no longer holds (and forget them and the closed ones)."""
        with self._lock:
            gone = [sid for sid in self._by_sid if not connected(sid)]
            for sid in gone:
                del self._by_sid[sid]
            snapshot = dict(self._by_sid)
        if not snapshot:
            return []
        bad = invalid_socket_identities(db, snapshot.values(), timeouts or current_timeouts())
        stale = [sid for sid, identity in snapshot.items() if identity in bad]
        self.forget(stale)
        return stale
