"""Who is calling, and may they? Permissions, the roles that hold them, and the route guard.

A caller is identified by a bearer token (machine clients, wall displays) or by a signed-in
session (browser users, added by the sign-in module through :data:`IDENTITY_RESOLVERS`).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from flask import g, request

from data.models import Role

# permission -> roles holding it; tokens hold the permissions in their scopes (within their role)
PERMISSIONS: dict[str, frozenset[Role]] = {
    "fleet:read": frozenset({Role.wall, Role.viewer, Role.analyst, Role.operator, Role.manager, Role.admin}),
    "telemetry:read": frozenset({Role.wall, Role.viewer, Role.analyst, Role.operator, Role.manager, Role.admin}),
    "telemetry:write": frozenset({Role.operator, Role.admin}),
    "analysis:read": frozenset({Role.analyst, Role.operator, Role.manager, Role.admin}),
    "alerts:ack": frozenset({Role.operator, Role.admin}),
    "reports:manage": frozenset({Role.manager, Role.admin}),
    "admin": frozenset({Role.admin}),
}


@dataclass(frozen=True)
class Caller:
    """An authenticated caller."""

    name: str
    role: Role
    scopes: tuple[str, ...] | None  # None for a session user: the role decides alone
    kind: str  # "token" | "session"

    def may(self, permission: str) -> bool:
        """Return True if this caller holds ``permission``."""
        if self.role not in PERMISSIONS.get(permission, frozenset()):
            # machine tokens with an explicit scope may ingest regardless of their display role
            return self.scopes is not None and permission in self.scopes and permission == "telemetry:write"
        return self.scopes is None or "*" in self.scopes or permission in self.scopes or _read_scope(permission, self.scopes)


def _read_scope(permission: str, scopes: tuple[str, ...]) -> bool:
    return permission.endswith(":read") and "read" in scopes


IdentityResolver = Callable[[], "Caller | None"]
IDENTITY_RESOLVERS: list[IdentityResolver] = []


def _bearer_caller() -> Caller | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    from core.runtime import db
    from security.tokens import verify_token

    identity = verify_token(db(), header[7:].strip())
    if identity is None:
        return None
    return Caller(f"token:{identity.name}", identity.role, identity.scopes, "token")


def current_caller() -> Caller | None:
    """Return the caller of the current request (cached on flask.g), or None if anonymous."""
    if "fleetlight_caller" in g:
        return g.fleetlight_caller
    caller = _bearer_caller()
    if caller is None and request.headers.get("Authorization"):
        g.fleetlight_caller = None
        g.fleetlight_bad_token = True
        return None
    if caller is None:
        for resolver in IDENTITY_RESOLVERS:
            caller = resolver()
            if caller is not None:
                break
    g.fleetlight_caller = caller
    return caller


class AccessDenied(Exception):
    """Raised by the guard; the API turns it into 401 (anonymous) or 403 (not allowed)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def check(permission: str) -> Caller:
    """Return the caller if they hold ``permission``; raise AccessDenied (401/403) otherwise."""
    caller = current_caller()
    if caller is None:
        if g.get("fleetlight_bad_token"):
            raise AccessDenied(401, "invalid, expired or revoked bearer token")
        raise AccessDenied(401, "authentication required: send 'Authorization: Bearer <token>' or sign in")
    if not caller.may(permission):
        raise AccessDenied(403, f"{caller.name} (role {caller.role.value}) lacks permission {permission!r}")
    return caller


def require(permission: str) -> Callable:
    """Decorate a Flask view so it runs only for callers holding ``permission``."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            check(permission)
            return view(*args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator
