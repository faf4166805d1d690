"""Who is calling, and may they? Permissions, the roles that hold them, and the route guard.

A caller is identified by a bearer token (machine clients, wall displays) or by a signed-in
session (browser users and activated wall screens, resolved by :mod:`security.web` through
:data:`IDENTITY_RESOLVERS`).

Roles are ranked ``wall < viewer < analyst < operator < manager < admin`` and strictly
cumulative: for *page access* (a page's ``min_role``) and for *permissions* alike
(:data:`PERMISSION_MIN_ROLE`), e.g. ``check("alerts:ack")`` inside a callback or route.

Socket.IO (for ``live/hub.py``)::

    from security.access import socket_caller, authorize_room

    @socketio.on("connect")
    def on_connect(auth=None):
        if socket_caller(auth) is None:
            return False                      # refuse the connection
    @socketio.on("join")
    def on_join(data):
        if not authorize_room(data["room"]):  # re-checks the caller each time
            return {"ok": False, "error": "forbidden"}
        join_room(data["room"])

Room names and who may join (unknown rooms: admins only; add more with :func:`register_room`):
``live``, ``overview``, ``map``, ``markets``, ``fleet``, ``alerts``, ``wall`` -> any signed-in caller
incl. wall screens, unless the caller is scoped to some portfolios (these rooms carry every site:
:func:`room_for` gives such a caller the per-scope room ``<room>@p:<portfolios>`` of the live hub
instead); ``site:<site_id>`` -> wall and up, and the site must be in the caller's portfolio scope;
``page:<path>`` -> the ``min_role`` of the Dash page at ``path``; ``forecast`` -> analyst and up;
``commands``/``setpoints`` -> permission ``telemetry:write``; ``admin`` -> admin.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import g, request

from data.models import Role

ROLE_ORDER: tuple[Role, ...] = (Role.wall, Role.viewer, Role.analyst, Role.operator, Role.manager, Role.admin)
ROLE_RANK: dict[Role, int] = {role: rank for rank, role in enumerate(ROLE_ORDER)}

# permission -> the lowest role holding it. Roles are strictly cumulative: every role holds all
# the permissions of the roles below it (a manager acknowledges alerts like an operator).
PERMISSION_MIN_ROLE: dict[str, Role] = {
    "fleet:read": Role.wall,
    "telemetry:read": Role.wall,
    "analysis:read": Role.analyst,
    "telemetry:write": Role.operator,
    "alerts:ack": Role.operator,
    "alerts:manage": Role.operator,  # alert rules, maintenance windows and silences
    "reports:manage": Role.manager,
    "admin": Role.admin,
    "metrics:read": Role.admin,
}
# permission -> roles holding it; tokens hold the permissions in their scopes (within their role)
PERMISSIONS: dict[str, frozenset[Role]] = {
    permission: frozenset(r for r in ROLE_ORDER if ROLE_RANK[r] >= ROLE_RANK[minimum])
    for permission, minimum in PERMISSION_MIN_ROLE.items()
}


def role_at_least(role: Role | str, minimum: Role | str) -> bool:
    """Return True if ``role`` ranks at or above ``minimum`` (wall < viewer < ... < admin)."""
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(minimum)]


@dataclass(frozen=True)
class Caller:
    """An authenticated caller."""

    name: str
    role: Role
    scopes: tuple[str, ...] | None  # None for a session user: the role decides alone
    kind: str  # "token" | "session" | "wall"
    user_id: int | None = None
    portfolio_scope: tuple[str, ...] = ()  # portfolio ids this caller may see; empty = all
    token_id: int | None = None  # the bearer token, or the wall token behind a wall session
    session_id: str | None = None  # row id in auth_sessions of a cookie session (security.sessions)

    def at_least(self, minimum: Role | str) -> bool:
        """Return True if this caller's role ranks at or above ``minimum``."""
        return role_at_least(self.role, minimum)

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
    scope: tuple[str, ...] = ()
    if identity.user_id is not None:
        from data.models import User

        with db().session() as session:
            user = session.get(User, identity.user_id)
            if user is None or not user.is_active:
                return None
            scope = tuple(user.portfolio_scope or ())
    return Caller(f"token:{identity.name}", identity.role, identity.scopes, "token", identity.user_id, scope,
                  token_id=identity.token_id)


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
        def wrapper(*args, **kwargs):
            check(permission)
            return view(*args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator


# --- Socket.IO ----------------------------------------------------------------------------------

RoomRule = Callable[["Caller", str], bool]
ROOM_RULES: dict[str, RoomRule] = {}


def register_room(prefix: str, rule: RoomRule | Role | str) -> None:
    """Declare who may join rooms named ``prefix`` or ``prefix:<anything>``.

    ``rule`` is a minimum role, or a function (caller, room) -> bool for finer checks.
    """
    if isinstance(rule, (Role, str)):
        minimum = Role(rule)
        ROOM_RULES[prefix] = lambda caller, _room: caller.at_least(minimum)
    else:
        ROOM_RULES[prefix] = rule


def _site_room(caller: Caller, room: str) -> bool:
    from security.scope import site_visible

    site_id = room.split(":", 1)[1] if ":" in room else ""
    return bool(site_id) and caller.at_least(Role.wall) and site_visible(caller, site_id)


def _page_room(caller: Caller, room: str) -> bool:
    from security.guard import page_allows, page_for_path

    path = room.split(":", 1)[1] if ":" in room else ""
    page = page_for_path(path)
    return page is not None and page_allows(page, caller)


def _fleet_room(caller: Caller, _room: str) -> bool:
    # fleet-wide rooms carry every site: a caller scoped to some portfolios joins site rooms only
    return caller.at_least(Role.wall) and not caller.portfolio_scope


# market prices (with the fleet's MW per node) belong on the control-room wall as well
for _prefix in ("live", "overview", "map", "fleet", "alerts", "wall", "markets", "market"):
    register_room(_prefix, _fleet_room)
register_room("forecast", Role.analyst)
register_room("site", _site_room)
register_room("page", _page_room)
register_room("commands", lambda caller, _room: caller.may("telemetry:write"))
register_room("setpoints", lambda caller, _room: caller.may("telemetry:write"))
register_room("admin", Role.admin)


def socket_caller(auth: dict | None = None) -> Caller | None:
    """Return the caller of a Socket.IO connect/event handler, or None if anonymous.

    The browser is identified by its session cookie (sent with the handshake); a machine client
    may pass ``{"token": "fl_..."}`` as the Socket.IO ``auth`` payload instead.
    """
    token = (auth or {}).get("token") if isinstance(auth, dict) else None
    if token:
        from core.runtime import db
        from security.tokens import verify_token

        identity = verify_token(db(), str(token))
        if identity is None:
            return None
        return Caller(f"token:{identity.name}", identity.role, identity.scopes, "token", identity.user_id,
                      token_id=identity.token_id)
    g.pop("fleetlight_caller", None)  # re-resolve on every event: a revoked session stops at once
    return current_caller()


def authorize_room(room: str, caller: Caller | None = None) -> bool:
    """Return True if ``caller`` (default: the current socket/request caller) may join ``room``."""
    caller = caller if caller is not None else socket_caller()
    if caller is None or not isinstance(room, str) or not room or len(room) > 200:
        return False
    prefix = room.split(":", 1)[0]
    rule = ROOM_RULES.get(prefix)
    if rule is None:
        return caller.role == Role.admin
    return bool(rule(caller, room))


# fleet-wide rooms a caller scoped to some portfolios joins in a per-scope form (see room_for)
SCOPED_ROOMS = ("live", "overview", "map", "markets", "alerts")


def room_for(room: str, caller: Caller | None) -> str | None:
    """Return the Socket.IO room ``caller`` joins when asking for ``room``, or None if refused.

    The room itself when :func:`authorize_room` allows it; for a caller scoped to some portfolios
    a fleet-wide room (:data:`SCOPED_ROOMS`) becomes ``<room>@<scope key>`` (``live@p:partner``),
    to which the hub pushes payloads holding only that scope's sites.
    """
    if caller is None:
        return None
    if authorize_room(room, caller):
        return room
    if room in SCOPED_ROOMS and caller.portfolio_scope and caller.at_least(Role.wall):
        from security.scope import scope_key

        return f"{room}@{scope_key(caller.portfolio_scope)}"
    return None


def visible_site_ids(caller: Caller | None) -> set[str] | None:
    """Return the site ids ``caller`` may see, or None for all sites (see :mod:`security.scope`)."""
    from security.scope import visible_site_ids as _visible

    return _visible(caller)
