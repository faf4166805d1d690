"""User accounts: creation, sign-in with lock-out, role and status changes (all audited).

A user is locked for ``login_lockout_minutes`` after ``login_max_failures`` consecutive failed
sign-ins; a successful sign-in resets the count. Lock-out is per account; the per-address rate
limit on the sign-in form is in :mod:`security.web`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select

from data.db import Database
from data.models import Role, User, utcnow
from security import audit
from security.passwords import check_policy, hash_password, needs_rehash, verify_password
from security.sessions import end_sessions_of

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,100}$")


class UserError(ValueError):
    """A user operation was refused; the message names what was wrong."""


class SignIn(StrEnum):
    """Outcome of a sign-in attempt (the form shows the same text for all failures)."""

    ok = "ok"
    bad_credentials = "bad_credentials"
    locked = "locked"
    inactive = "inactive"


@dataclass(frozen=True)
class UserInfo:
    """A user without the password hash."""

    id: int
    username: str
    email: str
    role: Role
    is_active: bool
    created_at: dt.datetime
    failed_logins: int
    locked_until: dt.datetime | None
    portfolio_scope: tuple[str, ...]
    fingerprint: str  # changes when the password changes: ends every session of the user

    @property
    def is_locked(self) -> bool:
        """Return True while the account is locked out."""
        return self.locked_until is not None and self.locked_until > utcnow()


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _info(u: User) -> UserInfo:
    return UserInfo(u.id, u.username, u.email or "", u.role, bool(u.is_active), u.created_at, u.failed_logins or 0,
                    u.locked_until, tuple(u.portfolio_scope or ()), _fingerprint(u.password_hash))


def validate_username(username: str) -> str:
    """Return ``username`` stripped; raise UserError unless it is 2-100 of A-Z a-z 0-9 _ . @ -."""
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise UserError("username must be 2-100 characters of letters, digits, _ . @ -")
    return username


def create_user(db: Database, username: str, password: str, role: Role, email: str = "",
                portfolio_scope: list[str] | None = None, actor: str = "system") -> UserInfo:
    """Create a user and return it; raises UserError (taken name) or WeakPassword."""
    username = validate_username(username)
    check_policy(password)
    with db.session() as s:
        if s.execute(select(User.id).where(func.lower(User.username) == username.lower())).first():
            raise UserError(f"username {username!r} is already taken")
        user = User(username=username, email=email.strip()[:200], password_hash=hash_password(password), role=Role(role),
                    portfolio_scope=list(portfolio_scope or []), failed_logins=0, is_active=True)
        s.add(user)
        s.flush()
        audit.record(db, actor, "user.created", "user", str(user.id),
                     {"username": username, "role": Role(role).value, "portfolio_scope": list(portfolio_scope or [])},
                     session=s)
        return _info(user)


def get_user(db: Database, user_id: int) -> UserInfo | None:
    """Return the user with ``user_id``, or None."""
    with db.session() as s:
        u = s.get(User, user_id)
        return _info(u) if u is not None else None


def find_user(db: Database, username: str) -> UserInfo | None:
    """Return the user named ``username`` (case-insensitive), or None."""
    with db.session() as s:
        u = s.execute(select(User).where(func.lower(User.username) == (username or "").strip().lower())).scalar_one_or_none()
        return _info(u) if u is not None else None


def list_users(db: Database) -> list[UserInfo]:
    """Return every user ordered by username."""
    with db.session() as s:
        return [_info(u) for u in s.execute(select(User).order_by(User.username)).scalars()]


def authenticate(db: Database, username: str, password: str, max_failures: int, lockout: dt.timedelta,
                 source: str = "") -> tuple[SignIn, UserInfo | None]:
    """Check a sign-in attempt, count failures, lock the account when needed, audit the outcome.

    Returns (outcome, user) where user is set only for ``SignIn.ok``. ``source`` (the client
    address) goes into the audit event.
    """
    name = (username or "").strip()[:100]
    now = utcnow()
    with db.session() as s:
        u = s.execute(select(User).where(func.lower(User.username) == name.lower()).with_for_update()).scalar_one_or_none()
        ok = verify_password(u.password_hash if u is not None else None, password or "")
        if u is None:
            audit.record(db, name or "anonymous", "user.sign_in_failed", "user", "",
                         {"reason": "unknown user", "source": source}, session=s)
            return SignIn.bad_credentials, None
        if u.locked_until is not None and u.locked_until > now:
            audit.record(db, u.username, "user.sign_in_failed", "user", str(u.id),
                         {"reason": "locked", "source": source}, session=s)
            return SignIn.locked, None
        if not u.is_active:
            audit.record(db, u.username, "user.sign_in_failed", "user", str(u.id),
                         {"reason": "inactive", "source": source}, session=s)
            return SignIn.inactive, None
        if not ok:
            u.failed_logins = (u.failed_logins or 0) + 1
            audit.record(db, u.username, "user.sign_in_failed", "user", str(u.id),
                         {"reason": "bad password", "failures": u.failed_logins, "source": source}, session=s)
            if u.failed_logins >= max_failures:
                u.locked_until = now + lockout
                u.failed_logins = 0
                audit.record(db, "system", "user.locked", "user", str(u.id),
                             {"username": u.username, "until": u.locked_until.isoformat(), "source": source}, session=s)
                return SignIn.locked, None
            return SignIn.bad_credentials, None
        u.failed_logins = 0
        u.locked_until = None
        if needs_rehash(u.password_hash):
            u.password_hash = hash_password(password)
            end_sessions_of(s, user_id=u.id, reason="password changed")
        audit.record(db, u.username, "user.signed_in", "user", str(u.id), {"source": source, "role": u.role.value},
                     session=s)
        return SignIn.ok, _info(u)


def update_user(db: Database, user_id: int, actor: str, *, role: Role | None = None, is_active: bool | None = None,
                portfolio_scope: list[str] | None = None, unlock: bool = False, password: str | None = None) -> UserInfo:
    """Change a user's role, status, portfolio scope, lock or password; audit each change.

    Refuses to demote or deactivate the last active admin. Raises UserError for an unknown id.
    """
    with db.session() as s:
        u = s.get(User, user_id)
        if u is None:
            raise UserError(f"no user with id {user_id}")
        losing_admin = u.role == Role.admin and u.is_active and (
            (role is not None and Role(role) != Role.admin) or is_active is False)
        if losing_admin:
            admins = s.execute(select(func.count()).select_from(User).where(User.role == Role.admin,
                                                                             User.is_active.is_(True))).scalar_one()
            if admins <= 1:
                raise UserError("refused: this is the last active admin")
        if role is not None and Role(role) != u.role:
            audit.record(db, actor, "user.role_changed", "user", str(u.id),
                         {"username": u.username, "from": u.role.value, "to": Role(role).value}, session=s)
            u.role = Role(role)
        if is_active is not None and bool(is_active) != bool(u.is_active):
            audit.record(db, actor, "user.updated", "user", str(u.id),
                         {"username": u.username, "is_active": bool(is_active)}, session=s)
            u.is_active = bool(is_active)
            if not u.is_active:
                end_sessions_of(s, user_id=u.id, reason="user disabled")
        if portfolio_scope is not None and list(portfolio_scope) != list(u.portfolio_scope or []):
            audit.record(db, actor, "user.updated", "user", str(u.id),
                         {"username": u.username, "portfolio_scope": list(portfolio_scope)}, session=s)
            u.portfolio_scope = list(portfolio_scope)
        if unlock and (u.locked_until is not None or u.failed_logins):
            u.locked_until = None
            u.failed_logins = 0
            audit.record(db, actor, "user.updated", "user", str(u.id), {"username": u.username, "unlocked": True}, session=s)
        if password is not None:
            check_policy(password)
            u.password_hash = hash_password(password)
            end_sessions_of(s, user_id=u.id, reason="password changed")
            audit.record(db, actor, "user.password_changed", "user", str(u.id), {"username": u.username}, session=s)
        s.flush()
        return _info(u)
