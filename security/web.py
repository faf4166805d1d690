"""The web app's security layer, installed by ``bootstrap.web.create_app`` (:func:`install`).

* **Sign-in** (Flask-Login): ``GET/POST /login`` (server-rendered form), ``POST /logout``;
  Argon2id hashes, per-account lock-out (:mod:`security.users`) and a per-address rate limit
  (Flask-Limiter, ``FLEETLIGHT_LOGIN_RATE_LIMIT``). The session cookie is HttpOnly,
  SameSite=Lax, and Secure whenever the request came over TLS (or ``FLEETLIGHT_FORCE_HTTPS``).
  Idle (``SESSION_IDLE_MINUTES``) and absolute (``SESSION_ABSOLUTE_HOURS``) timeouts; Dash
  ``dcc.Interval`` polls do not count as activity. Sessions are kept server-side as well
  (:mod:`security.sessions`): the cookie names a row that sign-out, a password change, disabling
  the user, revoking a wall token or a timeout ends, checked on every request and socket event.
* **Wall screens:** ``GET /wall/activate?token=fl_...`` (a token of role ``wall`` created on the
  admin page) signs the browser in as that screen until the token is revoked.
* **Deny by default:** every path except the sign-in routes, static assets, the REST API (which
  checks its own permissions) and Socket.IO needs a signed-in caller; page GETs check the page's
  ``min_role``; ``/_dash-update-component`` checks the callback's role (:mod:`security.guard`).
  Bearer tokens are for the REST API: on pages and Dash endpoints only wall tokens are accepted,
  on what ``/wall`` needs. Wall screens get no REST API (``/health`` and the OpenAPI document aside).
* **Redirects:** ``next=`` is followed only when it is a same-origin relative path after
  normalisation (control characters, backslashes, encoded separators refused); otherwise ``/``.
* **CSRF:** every state-changing request authenticated by the session cookie (and the sign-in
  form) must carry the session's token, as form field ``csrf_token`` or header ``X-CSRFToken``.
  Dash's renderer already sends ``X-CSRFToken`` with the value of the ``_csrf_token`` cookie on
  every callback POST, so we set that cookie (SameSite=Strict, readable by the page's own JS):
  a cross-site page can neither read the cookie nor set the header (double submit). An
  ``Origin`` from another site is refused as well. Bearer-token and webhook requests carry no
  ambient credentials and are exempt.
* **Headers:** CSP with only the app's own scripts plus the hashes of Dash's inline scripts
  (``app.csp_hashes()``), ``frame-ancestors 'none'``, HSTS over TLS, nosniff, Referrer-Policy.
* **API rate limit** per caller (``FLEETLIGHT_API_RATE_LIMIT``) on ``/api/v1``.
"""
from __future__ import annotations

import hmac
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit

from dash import Dash
from flask import Blueprint, Flask, Response, current_app, g, jsonify, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.middleware.proxy_fix import ProxyFix

from core import runtime
from data.models import ApiToken, Role, utcnow
from security import audit, templates
from security.access import IDENTITY_RESOLVERS, Caller, current_caller
from security.guard import (
    ANY_SIGNED_IN,
    CallbackRoles,
    guard_page_layouts,
    page_allows,
    page_for_path,
    page_min_role,
)
from security.sessions import Timeouts, check_session, end_session, open_session, session_row_id

if TYPE_CHECKING:
    from bootstrap.services import Services

log = logging.getLogger(__name__)

CSRF_COOKIE = "_csrf_token"
CSRF_HEADER = "X-CSRFToken"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/static/", "/api/", "/socket.io")
PUBLIC_PATHS = frozenset({"/login", "/logout", "/setup", "/wall/activate", "/_favicon.ico", "/favicon.ico",
                          "/integrations/salesforce/callback"})
DASH_INDEX_RULES = frozenset({"/", "/<path:path>"})
OPEN_API_PATHS = frozenset({"/api/v1/health", "/api/v1/health/live", "/api/v1/health/ready", "/api/v1/openapi.json"})
SEEN_REFRESH_S = 30

bp = Blueprint("fleetlight_security", __name__)


# --- identities ---------------------------------------------------------------------------------


class SessionUser:
    """A signed-in person, as Flask-Login sees them."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, info: Any, session_id: str | None = None) -> None:
        self.info = info
        self.session_id = session_id

    def get_id(self) -> str:
        """Return the session id: user id plus a fingerprint that changes with the password."""
        return f"u:{self.info.id}:{self.info.fingerprint}"

    def caller(self) -> Caller:
        """Return the user as an access-control Caller."""
        return Caller(self.info.username, self.info.role, None, "session", self.info.id, self.info.portfolio_scope,
                      session_id=self.session_id)


class WallScreen:
    """A wall display signed in with a device token."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, token_id: int, name: str, session_id: str | None = None) -> None:
        self.token_id = token_id
        self.name = name
        self.session_id = session_id

    def get_id(self) -> str:
        """Return the session id of the screen (its token's id)."""
        return f"w:{self.token_id}"

    def caller(self) -> Caller:
        """Return the screen as a read-only wall Caller."""
        return Caller(f"wall:{self.name}", Role.wall, None, "wall", token_id=self.token_id, session_id=self.session_id)


def _timeouts() -> Timeouts:
    settings = _settings()
    return Timeouts(settings.session_idle_minutes * 60, settings.session_absolute_hours * 3600)


def _server_session_ok(user_id: int | None = None, token_id: int | None = None) -> str | None:
    """Return the row id of the cookie's live server-side session, or None if it was ended or never existed."""
    key = session.get("fl_sid")
    reason = check_session(runtime.db(), key, _timeouts(), user_id=user_id, token_id=token_id)
    if reason is not None:
        g.fleetlight_session_end = reason
        return None
    return session_row_id(key)


def _load_identity(identity: str) -> SessionUser | WallScreen | None:
    from security.users import get_user

    kind, _, rest = identity.partition(":")
    db = runtime.db()
    if kind == "u":
        user_id, _, fingerprint = rest.partition(":")
        if not user_id.isdigit():
            return None
        info = get_user(db, int(user_id))
        if info is None or not info.is_active or not hmac.compare_digest(info.fingerprint, fingerprint):
            return None
        row_id = _server_session_ok(user_id=info.id)
        return SessionUser(info, row_id) if row_id else None
    if kind == "w" and rest.isdigit():
        with db.session() as s:
            token = s.get(ApiToken, int(rest))
            if (token is None or token.revoked_at is not None or token.role != Role.wall
                    or (token.expires_at is not None and token.expires_at <= utcnow())):
                return None
            token_id, name = token.id, token.name
        row_id = _server_session_ok(token_id=token_id)
        return WallScreen(token_id, name, row_id) if row_id else None
    return None


def session_expired() -> bool:
    """Return True if the current user session is past its idle or absolute timeout (walls never expire)."""
    if "_user_id" not in session or str(session.get("_user_id", "")).startswith("w:"):
        return False
    settings = _settings()
    now = time.time()
    return (now - float(session.get("fl_auth_at", 0)) > settings.session_absolute_hours * 3600
            or now - float(session.get("fl_seen_at", 0)) > settings.session_idle_minutes * 60)


def _session_caller() -> Caller | None:
    if getattr(g, "fleetlight_session_expired", False) or session_expired():
        return None
    user = current_user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.caller()


# --- CSRF ---------------------------------------------------------------------------------------


def csrf_token() -> str:
    """Return the session's CSRF token, creating it if needed."""
    token = session.get("fl_csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["fl_csrf"] = token
    return token


def _csrf_ok() -> bool:
    expected = session.get("fl_csrf")
    sent = request.headers.get(CSRF_HEADER) or (request.form.get("csrf_token") if request.mimetype in (
        "application/x-www-form-urlencoded", "multipart/form-data") else None)
    return bool(expected and sent) and hmac.compare_digest(str(expected), str(sent))


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    parts = urlsplit(origin)
    return parts.netloc == request.host and parts.scheme == request.scheme


# --- helpers ------------------------------------------------------------------------------------


def _wants_json() -> bool:
    path = request.path
    return path.startswith(("/api/", "/_dash-")) or request.accept_mimetypes.best == "application/json"


def _deny(status: int, message: str) -> Response:
    if _wants_json():
        response = jsonify({"error": {"status": status, "message": message}})
        response.status_code = status
        return response
    if status == 401:
        target = request.full_path.rstrip("?") if request.method == "GET" else "/"
        return redirect("/login?" + urlencode({"next": target}))
    html = templates.message_page("Not allowed", "Not allowed", message, "/", "Back to the start page")
    return Response(html, status=status, mimetype="text/html")


def _safe_next(target: str | None) -> str:
    """Return ``target`` if it is a same-origin relative path after normalisation, else "/".

    Browsers drop tabs and newlines from URLs and read ``\\`` as ``/``, so ``/%09/evil.example``
    (decoded by Flask to ``/\t/evil.example``) would become the scheme-relative ``//evil.example``.
    """
    if not target or not isinstance(target, str) or len(target) > 2000:
        return "/"
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return "/"  # control characters, spaces and backslashes never appear in our own paths
    cleaned = target
    for _ in range(3):  # an encoded %2f or %5c decodes to a separator in some redirect chains
        decoded = unquote(cleaned)
        if decoded == cleaned:
            break
        cleaned = decoded
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in cleaned) or "\\" in cleaned:
        return "/"
    if not cleaned.startswith("/") or cleaned.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    if cleaned.startswith(("/login", "/logout")):
        return "/"
    return target


def _client_address() -> str:
    return request.remote_addr or ""


def _settings():
    return runtime.services().settings


def _is_background_poll(body: Any) -> bool:
    changed = body.get("changedPropIds") if isinstance(body, dict) else None
    # dcc.Interval ticks and Socket.IO pushes (dash-socketio "data-<event>" props) are not the user
    return bool(changed) and all(str(p).endswith(".n_intervals") or ".data-" in str(p) for p in changed)


def _end_session(reason: str) -> None:
    user = current_user._get_current_object()
    caller = user.caller() if getattr(user, "is_authenticated", False) else None
    end_session(runtime.db(), session.get("fl_sid"), reason)
    logout_user()
    session.clear()
    g.fleetlight_session_expired = True
    g.pop("fleetlight_caller", None)
    if caller is not None:
        audit.record(None, caller.name, "user.signed_out", "user", str(caller.user_id or ""), {"reason": reason})


# --- request hooks ------------------------------------------------------------------------------


def _enforce_timeouts() -> None:
    if "_user_id" not in session:
        return
    now = time.time()
    if str(session.get("_user_id", "")).startswith("w:"):
        # wall screens never time out (revoking the token ends them); re-issue the cookie hourly
        # so the browser keeps it past PERMANENT_SESSION_LIFETIME
        if now - float(session.get("fl_seen_at", 0)) > 3600:
            session["fl_seen_at"] = now
        return
    settings = _settings()
    auth_at = float(session.get("fl_auth_at", 0))
    seen_at = float(session.get("fl_seen_at", 0))
    if now - auth_at > settings.session_absolute_hours * 3600:
        _end_session("absolute timeout")
    elif now - seen_at > settings.session_idle_minutes * 60:
        _end_session("idle timeout")
    elif now - seen_at > SEEN_REFRESH_S:
        if not (request.path == "/_dash-update-component" and _is_background_poll(request.get_json(silent=True))):
            session["fl_seen_at"] = now
            _touch_server_session()


def _touch_server_session() -> None:
    """Record activity on the server-side session (its idle clock), if the cookie has a live one."""
    user = current_user._get_current_object()
    if isinstance(user, SessionUser):
        check_session(runtime.db(), session.get("fl_sid"), _timeouts(), user_id=user.info.id, touch=True)


def _protect_csrf() -> Response | None:
    if request.method not in UNSAFE_METHODS:
        return None
    path = request.path
    if path.startswith("/api/v1/webhooks/"):
        return None
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return None
    has_session_identity = "_user_id" in session
    if path in ("/login", "/logout") or has_session_identity:
        if not _same_origin():
            return _deny(403, "cross-site request refused (Origin does not match)")
        if not _csrf_ok():
            if path == "/login":
                return None  # the sign-in view re-renders the form with a fresh token and a message
            return _deny(403, "missing or invalid CSRF token; reload the page and try again")
    return None


def _bearer_sent() -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def _bearer_allowed_on_dash(caller: Caller, callback_roles: CallbackRoles) -> bool:
    """Return True if a bearer-token ``caller`` may use this Dash request: wall tokens, on what /wall needs.

    Every other token is for the REST API only: its scopes cannot be mapped onto Dash callbacks,
    so a ``read`` token of an admin must not reach the admin page's callbacks this way.
    """
    if caller.role != Role.wall:
        return False
    path = request.path
    if path in ("/_dash-layout", "/_dash-dependencies", "/_reload-hash"):
        return True
    if path == "/_dash-update-component":
        body = request.get_json(silent=True)
        output = body.get("output") if isinstance(body, dict) else None
        return isinstance(output, str) and callback_roles.min_role(output) in (ANY_SIGNED_IN, Role.wall.value)
    if request.url_rule is not None and request.url_rule.rule in DASH_INDEX_RULES:
        page = page_for_path(path)
        return page is not None and page_min_role(page) == Role.wall
    return False


def _guard_api(path: str) -> Response | None:
    """Refuse the REST API to wall screens (they show /wall and nothing else); the views check the rest."""
    if path in OPEN_API_PATHS or path.startswith("/api/v1/webhooks/"):
        return None
    caller = current_caller()
    if caller is not None and caller.role == Role.wall:
        return _deny(403, "a wall screen shows /wall only; it has no access to the REST API")
    return None


def _guard_access(callback_roles: CallbackRoles) -> Response | None:
    path = request.path
    index_rule = request.url_rule is not None and request.url_rule.rule in DASH_INDEX_RULES
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        if index_rule and path == "/favicon.ico":
            return redirect("/_favicon.ico")  # browsers ask for it unprompted; Dash serves the icon there
        if index_rule:
            # e.g. /assets//admin or /api/nope: Dash's catch-all page route, not a file or an API route
            return _deny(404, f"no such file or API route {path}")
        if path.startswith("/api/"):
            return _guard_api(path)
        return None
    if request.url_rule is None and request.method == "GET":
        return None  # Flask answers 404
    caller = current_caller()
    if caller is None:
        return _deny(401, "sign in to continue")
    if caller.kind == "token" and _bearer_sent() and not _bearer_allowed_on_dash(caller, callback_roles):
        return _deny(403, "bearer tokens are accepted by the REST API (/api/v1) only; sign in to use the pages")
    if path == "/_dash-update-component":
        body = request.get_json(silent=True)
        output = body.get("output") if isinstance(body, dict) else None
        if not isinstance(output, str):
            return _deny(400, "malformed callback request")
        allowed = callback_roles.allows(output, caller)
        if allowed is None:
            return _deny(400, "unknown callback")
        if not allowed:
            return _deny(403, f"role '{caller.role.value}' may not run this callback")
        return None
    if index_rule:
        page = page_for_path(path)
        if page is not None and not page_allows(page, caller):
            return _deny(403, f"the page '{page.get('name', path)}' needs the role "
                              f"'{page.get('min_role') or 'admin'}'; you are '{caller.role.value}'")
    return None


def _csp(app: Dash) -> str:
    """Return the Content-Security-Policy (cached until Dash adds inline scripts)."""
    from dash import _callback

    cache = current_app.extensions.setdefault("fleetlight_csp", {})
    marker = (len(app._inline_scripts), len(_callback.GLOBAL_INLINE_SCRIPTS))
    if cache.get("marker") == marker:
        return cache["value"]
    settings = _settings()
    sources: dict[str, list[str]] = {
        "default-src": ["'self'"],
        # plotly.js compiles some trace code with Function(): without 'unsafe-eval' charts fail
        "script-src": ["'self'", "'unsafe-eval'", *app.csp_hashes()],
        "style-src": ["'self'", "'unsafe-inline'"],  # plotly and dcc inject <style> elements
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
    }
    tiles = urlsplit(settings.map_tile_url.replace("{s}", "a"))
    if tiles.scheme and tiles.netloc:
        host = settings.map_tile_url.split("/")[2].replace("{s}", "*")
        sources["img-src"].append(f"{tiles.scheme}://{host}")
    for directive, extra in (settings.csp_extra_sources or {}).items():
        if directive == "frame-ancestors":
            sources[directive] = list(extra)
        else:
            sources.setdefault(directive, []).extend(extra)
    value = "; ".join(f"{d} {' '.join(dict.fromkeys(v))}" for d, v in sources.items())
    cache.update(marker=marker, value=value)
    return value


def _security_headers(app: Dash, response: Response) -> Response:
    settings = _settings()
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _csp(app))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if "frame-ancestors" not in (settings.csp_extra_sources or {}):
        headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure or settings.force_https:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith(("/api/", "/login", "/wall/", "/_dash-update-component", "/_dash-layout")):
        headers.setdefault("Cache-Control", "no-store")
    token = session.get("fl_csrf")
    if token and request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, secure=_cookie_secure(), httponly=False, samesite="Strict", path="/")
    elif not token and CSRF_COOKIE in request.cookies:
        response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def _cookie_secure() -> bool:
    return bool(request.is_secure or _settings().force_https)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session whose Secure flag follows the request's scheme."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return _cookie_secure() or bool(app.config.get("SESSION_COOKIE_SECURE"))


# --- views --------------------------------------------------------------------------------------


def _login_form(message: str = "", level: str = "danger", status: int = 200, username: str = "") -> Response:
    settings = _settings()
    html = templates.login_page(csrf_token(), _safe_next(request.values.get("next")), message, level, username,
                                settings.login_max_failures, settings.login_lockout_minutes,
                                first_run=_first_run_allowed())
    return Response(html, status=status, mimetype="text/html")


def _start_session(info: Any) -> None:
    """Begin a fresh signed-in session for ``info`` (new CSRF token, timeout clocks reset)."""
    end_session(runtime.db(), session.get("fl_sid"), "replaced by a new sign-in")
    session.clear()
    key = open_session(runtime.db(), user_id=info.id)
    session["fl_sid"] = key
    login_user(SessionUser(info, session_row_id(key)))
    session.permanent = True
    now = time.time()
    session["fl_auth_at"] = now
    session["fl_seen_at"] = now
    session["fl_csrf"] = secrets.token_urlsafe(32)
    g.pop("fleetlight_caller", None)


# --- first run: the first administrator -----------------------------------------------------------

_LOOPBACK = ("127.", "::1", "::ffff:127.")


def _no_users_yet() -> bool:
    from sqlalchemy import func, select

    from data.models import User

    with runtime.db().read_session() as s:
        return s.execute(select(func.count()).select_from(User)).scalar_one() == 0


def _first_run_allowed() -> bool:
    """Return True while no account exists and the request comes from this machine."""
    address = request.remote_addr or ""
    return address.startswith(_LOOPBACK) and _no_users_yet()


@bp.get("/setup")
def setup_get() -> Response:
    """Show the form that creates the first administrator (loopback only, only while no user exists)."""
    if not _first_run_allowed():
        return redirect("/login")
    return Response(templates.setup_page(csrf_token()), mimetype="text/html")


@bp.post("/setup")
def setup_post() -> Response:
    """Create the first administrator and sign them in."""
    from data.models import Role
    from security.passwords import WeakPassword
    from security.users import UserError, create_user

    if not _first_run_allowed():
        return redirect("/login")
    username = (request.form.get("username") or "").strip()[:100]
    if not _csrf_ok():
        return Response(templates.setup_page(csrf_token(), "The form expired; please try again.", username),
                        status=400, mimetype="text/html")
    password = request.form.get("password") or ""
    if password != (request.form.get("confirm") or ""):
        return Response(templates.setup_page(csrf_token(), "The two passwords differ.", username),
                        status=400, mimetype="text/html")
    try:
        info = create_user(runtime.db(), username, password, Role.admin, actor="first-run setup")
    except (UserError, WeakPassword, ValueError) as exc:
        return Response(templates.setup_page(csrf_token(), str(exc), username), status=400, mimetype="text/html")
    _start_session(info)
    return redirect("/")


@bp.get("/login")
def login_get() -> Response:
    """Show the sign-in form (or go on if already signed in)."""
    if _session_caller() is not None:
        return redirect(_safe_next(request.args.get("next")))
    message = "Your session has ended; please sign in again." if request.args.get("expired") else ""
    return _login_form(message, "warning")


@bp.post("/login")
def login_post() -> Response:
    """Check the credentials; on success start a fresh session and go to ``next``."""
    from datetime import timedelta

    from security.users import SignIn, authenticate

    if not _csrf_ok():
        return _login_form("The form expired; please try again.", "warning", 400)
    settings = _settings()
    username = (request.form.get("username") or "").strip()[:100]
    outcome, info = authenticate(runtime.db(), username, request.form.get("password") or "",
                                 settings.login_max_failures, timedelta(minutes=settings.login_lockout_minutes),
                                 _client_address())
    if outcome != SignIn.ok or info is None:
        return _login_form("Wrong username or password, or the account is locked or disabled.", "danger", 401, username)
    next_url = _safe_next(request.form.get("next"))
    _start_session(info)
    return redirect(next_url)


@bp.post("/logout")
def logout() -> Response:
    """End the session (CSRF-protected POST) and show the sign-in form."""
    _end_session("signed out")
    return redirect("/login")


@bp.get("/wall/activate")
def wall_activate() -> Response:
    """Sign this browser in as a wall screen with a wall device token (``?token=``)."""
    from security.tokens import verify_token

    if isinstance(current_user._get_current_object(), SessionUser):
        html = templates.message_page("Wall display", "Signed in as a person",
                                      "Sign out before turning this browser into a wall display.", "/", "Back")
        return Response(html, status=409, mimetype="text/html")
    identity = verify_token(runtime.db(), request.args.get("token", ""))
    if identity is None or identity.role != Role.wall:
        html = templates.message_page("Wall display", "Invalid display token",
                                      "This activation link is invalid, expired or revoked.", "/login", "Sign in")
        return Response(html, status=403, mimetype="text/html")
    end_session(runtime.db(), session.get("fl_sid"), "replaced by a wall activation")
    session.clear()
    key = open_session(runtime.db(), token_id=identity.token_id)
    session["fl_sid"] = key
    login_user(WallScreen(identity.token_id, identity.name, session_row_id(key)))
    session.permanent = True
    session["fl_csrf"] = secrets.token_urlsafe(32)
    session["fl_seen_at"] = time.time()
    audit.record(None, f"wall:{identity.name}", "wall.activated", "token", str(identity.token_id),
                 {"source": _client_address()})
    return redirect("/wall")


def _require_admin() -> Caller | Response:
    caller = current_caller()
    if caller is None:
        return _deny(401, "sign in to continue")
    if caller.role != Role.admin:
        return _deny(403, "only admins manage integrations")
    return caller


def _salesforce_redirect_uri() -> str:
    return request.host_url.rstrip("/") + "/integrations/salesforce/callback"


@bp.get("/integrations/salesforce/connect")
def salesforce_connect() -> Response:
    """Start the Salesforce web-server flow (admins): redirect to Salesforce with state and PKCE."""
    from security.oauth import OAuthError, salesforce_session

    caller = _require_admin()
    if isinstance(caller, Response):
        return caller
    try:
        pending = salesforce_session().authorization(_salesforce_redirect_uri())
    except OAuthError as exc:
        return Response(templates.message_page("Salesforce", "Cannot connect", str(exc), "/admin", "Back"), 400)
    session["fl_sf_state"] = pending.state
    session["fl_sf_verifier"] = pending.code_verifier
    return redirect(pending.url)


@bp.get("/integrations/salesforce/callback")
def salesforce_callback() -> Response:
    """Finish the Salesforce flow: check state, exchange the code (with the PKCE verifier), store tokens."""
    from security.oauth import OAuthError, salesforce_session

    caller = _require_admin()
    if isinstance(caller, Response):
        return caller
    state = session.pop("fl_sf_state", None)
    verifier = session.pop("fl_sf_verifier", None)
    try:
        if not state or not verifier:
            raise OAuthError("no Salesforce authorization is pending in this browser session")
        salesforce_session().complete(state, verifier, _salesforce_redirect_uri(), request.args.get("state"),
                                      request.args.get("code"), request.args.get("error"), actor=caller.name)
    except OAuthError as exc:
        return Response(templates.message_page("Salesforce", "Salesforce was not connected", str(exc), "/admin",
                                               "Back to admin"), 400)
    return redirect("/admin?connected=salesforce")


@bp.post("/integrations/salesforce/revoke")
def salesforce_revoke() -> Response:
    """Revoke the stored Salesforce tokens at Salesforce and forget them (admins, CSRF-protected)."""
    from security.oauth import OAuthError, salesforce_session

    caller = _require_admin()
    if isinstance(caller, Response):
        return caller
    try:
        salesforce_session().revoke(actor=caller.name)
    except OAuthError as exc:
        return _deny(400, str(exc))
    return redirect("/admin?revoked=salesforce")


# --- installation -------------------------------------------------------------------------------


def _rate_key() -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        from security.tokens import hash_token

        return "token:" + hash_token(header[7:].strip())[:16]
    caller = _session_caller()
    if caller is not None:
        return "user:" + caller.name
    return "ip:" + get_remote_address()


def _limits_disabled() -> bool:
    app = current_app
    return bool(app.config.get("TESTING")) and not app.config.get("FLEETLIGHT_RATE_LIMITS_IN_TESTS")


def install(app: Dash, services: Services) -> None:
    """Install sign-in, guards, CSRF, headers and rate limits on ``app``'s Flask server."""
    server: Flask = app.server
    settings = services.settings
    if settings.proxy_hops:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops,
                                   x_host=settings.proxy_hops, x_port=settings.proxy_hops)  # type: ignore[method-assign]
    from datetime import timedelta

    server.session_interface = _SessionInterface()
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.force_https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_absolute_hours),
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    manager = LoginManager()
    manager.session_protection = "basic"
    manager.user_loader(_load_identity)
    manager.unauthorized_handler(lambda: _deny(401, "sign in to continue"))
    manager.init_app(server)
    if _session_caller not in IDENTITY_RESOLVERS:
        IDENTITY_RESOLVERS.append(_session_caller)

    limiter = Limiter(key_func=_rate_key, app=server, storage_uri=_limiter_storage(settings), headers_enabled=True,
                      strategy="moving-window")
    limiter.request_filter(_limits_disabled)
    server.extensions["fleetlight_limiter"] = limiter
    api_bp = server.blueprints.get("api_v1")
    if api_bp is not None:
        limiter.limit(settings.api_rate_limit)(api_bp)
    server.register_blueprint(bp)
    endpoint = f"{bp.name}.login_post"
    server.view_functions[endpoint] = limiter.limit(settings.login_rate_limit, key_func=get_remote_address,
                                                    methods=["POST"])(login_post)

    callback_roles = CallbackRoles(app)
    server.extensions["fleetlight_callback_roles"] = callback_roles
    guard_page_layouts()

    @server.before_request
    def _fleetlight_security() -> Response | None:
        if not server.extensions.get("fleetlight_pages_guarded"):
            guard_page_layouts()  # pages registered after the hook ran
            server.extensions["fleetlight_pages_guarded"] = True
        _enforce_timeouts()
        return _protect_csrf() or _guard_access(callback_roles)

    @server.after_request
    def _fleetlight_headers(response: Response) -> Response:
        return _security_headers(app, response)

    from dash.exceptions import DependencyException

    @server.errorhandler(DependencyException)
    def _no_such_component_file(_exc: Exception) -> Response:
        # Dash raises this for an unknown /_dash-component-suites/ path: a missing file, not a crash
        return _deny(404, "no such component file")

    @server.errorhandler(429)
    def _too_many(exc: Exception) -> Response:
        if request.path == "/login":
            return _login_form("Too many sign-in attempts from this address; wait a minute and try again.",
                               "danger", 429)
        response = jsonify({"error": {"status": 429, "message": f"rate limit exceeded: {getattr(exc, 'description', '')}"}})
        response.status_code = 429
        return response


def _limiter_storage(settings: Any) -> str:
    url = settings.redis_url or ""
    return url if url.startswith(("redis://", "rediss://")) else "memory://"


def user_menu() -> Any:
    """Return the shell's user menu (name, role, sign-out form), or a sign-in link when anonymous."""
    import dash_bootstrap_components as dbc
    from dash import dcc, html
    from flask import has_request_context

    if not has_request_context():
        return None
    caller = current_caller()
    if caller is None:
        return html.A("Sign in", href="/login", className="link-light")
    items: list[Any] = [dbc.DropdownMenuItem(f"Role: {caller.role.value}", header=True)]
    if caller.role == Role.admin:
        items.append(dbc.DropdownMenuItem("Admin", href="/admin"))
    items.append(dbc.DropdownMenuItem(divider=True))
    items.append(html.Form([
        dcc.Input(type="hidden", name="csrf_token", value=csrf_token(), id="shell-signout-csrf"),
        html.Button([html.I(className="bi bi-box-arrow-right me-2"), "Sign out"], type="submit",
                    className="dropdown-item", id="shell-signout"),
    ], method="POST", action="/logout", className="m-0"))
    label = caller.name.split(":", 1)[-1]
    return dbc.DropdownMenu(items, label=[html.I(className="bi bi-person-circle me-1"), label], nav=True,
                            in_navbar=True, align_end=True, id="shell-user-menu", className="text-light")

