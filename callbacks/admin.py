"""Admin page callbacks: users, API and wall tokens, secrets, Salesforce, the audit log.

Each callback is a thin adapter over security.* and api.admin helpers, which check the input and
write the audit event; the page and every callback here are admin-only (security.guard).
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html, no_update

from core.runtime import db
from data.admin_queries import list_tokens
from data.models import Role
from security import audit

IDS = {
    "users": "adm-users", "u_name": "adm-u-name", "u_email": "adm-u-email", "u_role": "adm-u-role",
    "u_password": "adm-u-password", "u_scope": "adm-u-scope", "u_create": "adm-u-create", "u_result": "adm-u-result",
    "c_user": "adm-c-user", "c_role": "adm-c-role", "c_active": "adm-c-active", "c_unlock": "adm-c-unlock",
    "c_scope": "adm-c-scope", "c_apply": "adm-c-apply", "c_result": "adm-c-result",
    "tokens": "adm-tokens", "t_name": "adm-t-name", "t_role": "adm-t-role", "t_scopes": "adm-t-scopes",
    "t_days": "adm-t-days", "t_create": "adm-t-create", "t_result": "adm-t-result", "t_revoke_id": "adm-t-revoke-id",
    "t_revoke": "adm-t-revoke", "secrets": "adm-secrets", "s_name": "adm-s-name", "s_value": "adm-s-value",
    "s_mode": "adm-s-mode", "s_save": "adm-s-save", "s_result": "adm-s-result", "sf_status": "adm-sf-status",
    "a_kind": "adm-a-kind", "a_actor": "adm-a-actor", "a_table": "adm-a-table", "a_csv": "adm-a-csv",
    "a_refresh": "adm-a-refresh",
}
ROLE_OPTIONS = [{"label": r.value, "value": r.value} for r in Role if r != Role.wall]
TOKEN_ROLE_OPTIONS = [{"label": r.value, "value": r.value} for r in Role]
SCOPE_OPTIONS = [{"label": s, "value": s} for s in ("read", "telemetry:write", "alerts:ack", "alerts:manage", "reports:manage", "admin")]


def _ts(value: dt.datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _table(headers: list[str], rows: list[list[Any]], table_id: str) -> dbc.Table:
    return dbc.Table([html.Thead(html.Tr([html.Th(h) for h in headers])),
                      html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows])],
                     size="sm", hover=True, responsive=True, className="mb-0 small", id=table_id)


def users_table(users: list[Any]) -> dbc.Table:
    """Return the users table (no password material)."""
    rows = [[u.id, u.username, u.email or "—", u.role.value, "yes" if u.is_active else "no",
             f"until {_ts(u.locked_until)}" if u.is_locked else "—", ", ".join(u.portfolio_scope) or "all",
             _ts(u.created_at)] for u in users]
    return _table(["Id", "User", "Email", "Role", "Active", "Locked", "Portfolios", "Created (UTC)"], rows, IDS["users"] + "-table")


def user_options(users: list[Any]) -> list[dict[str, Any]]:
    """Return dropdown options naming each user with their role."""
    return [{"label": f"{u.username} ({u.role.value})", "value": u.id} for u in users]


def tokens_table(tokens: list[dict[str, Any]]) -> dbc.Table:
    """Return the tokens table: prefix only, never the token or its hash."""
    rows = [[t["id"], t["name"], html.Code(t["prefix"] + "…"), t["role"], ", ".join(t["scopes"]),
             "active" if t["active"] else ("revoked" if t["revoked_at"] else "expired"), _ts(t["last_used_at"]),
             _ts(t["expires_at"])] for t in tokens]
    return _table(["Id", "Name", "Prefix", "Role", "Scopes", "State", "Last used", "Expires"], rows, IDS["tokens"] + "-table")


def secrets_table(infos: list[Any]) -> dbc.Table:
    """Return the secrets table: names, version counts and fingerprints only."""
    rows = [[i.name, i.versions, html.Code(", ".join(i.fingerprints)), _ts(i.updated_at)] for i in infos]
    return _table(["Name", "Versions", "Fingerprints (newest first)", "Updated (UTC)"], rows, IDS["secrets"] + "-table")


def audit_table(events: list[dict[str, Any]]) -> dbc.Table:
    """Return the audit log table (newest first)."""
    rows = [[e["id"], e["ts"].strftime("%Y-%m-%d %H:%M:%S"), e["actor"], e["kind"],
             f"{e['entity_type']} {e['entity_id']}".strip(), html.Code(str(e["payload"])[:160])] for e in events]
    return _table(["Id", "Time (UTC)", "Actor", "Event", "Entity", "Details"], rows, IDS["a_table"] + "-table")


def audit_csv_href(kind: str | None, actor: str | None) -> str:
    """Return the CSV export link for the current audit filters."""
    query = {k: v for k, v in (("kind", (kind or "").strip()), ("actor", (actor or "").strip())) if v}
    return "/api/v1/admin/audit.csv" + ("?" + urlencode(query) if query else "")


def salesforce_status() -> Any:
    """Return the Salesforce connection panel (status, connect link, revoke form)."""
    from flask import has_request_context

    from core.runtime import services
    from security.oauth import OAuthError, salesforce_session

    settings = services().settings
    if not settings.salesforce_client_id:
        return html.P(["Not configured: set ", html.Code("FLEETLIGHT_SALESFORCE_CLIENT_ID"), " (and the client secret) "
                       "from the Salesforce connected app."], className="mb-0")
    try:
        record = salesforce_session().stored()
    except OAuthError as exc:
        return html.P(str(exc))
    connect = html.A("Connect Salesforce" if record is None else "Reconnect", href="/integrations/salesforce/connect",
                     className="btn btn-primary btn-sm me-2", id="adm-sf-connect")
    if record is None:
        return html.Div([html.P("Not connected.", className="mb-2"), connect])
    csrf = ""
    if has_request_context():
        from security.web import csrf_token

        csrf = csrf_token()
    revoke = html.Form([dcc.Input(type="hidden", name="csrf_token", value=csrf, id="adm-sf-csrf"),
                        html.Button("Revoke", type="submit", className="btn btn-outline-danger btn-sm")],
                       method="POST", action="/integrations/salesforce/revoke", className="d-inline")
    return html.Div([html.P(["Connected to ", html.Code(record.get("instance_url", "")), "."], className="mb-2"),
                     connect, revoke])


def _alert(text: str, ok: bool) -> dbc.Alert:
    return dbc.Alert(text, color="success" if ok else "danger", className="py-2 small mb-0", dismissable=True)


def _scope_list(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def create_user_action(name: str | None, email: str | None, role: str | None, password: str | None,
                       scope: str | None) -> dbc.Alert:
    """Create a user from the form; return the result message."""
    from security.passwords import WeakPassword
    from security.users import UserError, create_user

    try:
        user = create_user(db(), name or "", password or "", Role(role or "viewer"), email or "", _scope_list(scope),
                           actor=audit.actor_name())
    except (UserError, WeakPassword, ValueError) as exc:
        return _alert(str(exc), False)
    return _alert(f"Created {user.username} ({user.role.value}).", True)


def change_user_action(user_id: int | None, role: str | None, active: bool | None, unlock: bool | None,
                       scope: str | None) -> dbc.Alert:
    """Apply the change form to ``user_id``; return the result message."""
    from security.users import UserError, update_user

    if user_id is None:
        return _alert("Choose a user first.", False)
    try:
        user = update_user(db(), int(user_id), audit.actor_name(), role=Role(role) if role else None,
                           is_active=active, unlock=bool(unlock),
                           portfolio_scope=None if scope is None else _scope_list(scope))
    except (UserError, ValueError) as exc:
        return _alert(str(exc), False)
    return _alert(f"Updated {user.username}: role {user.role.value}, {'active' if user.is_active else 'disabled'}.", True)


def register(app: Dash) -> None:
    """Attach the admin page callbacks to ``app``."""
    from security.users import list_users

    @app.callback(Output(IDS["u_result"], "children"), Output(IDS["users"], "children"),
                  Output(IDS["c_user"], "options"),
                  Input(IDS["u_create"], "n_clicks"), State(IDS["u_name"], "value"), State(IDS["u_email"], "value"),
                  State(IDS["u_role"], "value"), State(IDS["u_password"], "value"), State(IDS["u_scope"], "value"),
                  prevent_initial_call=True)
    def create_user_cb(n, name, email, role, password, scope):
        if not n:
            return no_update, no_update, no_update
        message = create_user_action(name, email, role, password, scope)
        users = list_users(db())
        return message, users_table(users), user_options(users)

    @app.callback(Output(IDS["c_result"], "children"), Output(IDS["users"], "children", allow_duplicate=True),
                  Input(IDS["c_apply"], "n_clicks"), State(IDS["c_user"], "value"), State(IDS["c_role"], "value"),
                  State(IDS["c_active"], "value"), State(IDS["c_unlock"], "value"), State(IDS["c_scope"], "value"),
                  prevent_initial_call=True)
    def change_user_cb(n, user_id, role, active, unlock, scope):
        if not n:
            return no_update, no_update
        return change_user_action(user_id, role, active, unlock, scope), users_table(list_users(db()))

    @app.callback(Output(IDS["t_result"], "children"), Output(IDS["tokens"], "children"),
                  Output(IDS["t_revoke_id"], "options"),
                  Input(IDS["t_create"], "n_clicks"), Input(IDS["t_revoke"], "n_clicks"),
                  State(IDS["t_name"], "value"), State(IDS["t_role"], "value"), State(IDS["t_scopes"], "value"),
                  State(IDS["t_days"], "value"), State(IDS["t_revoke_id"], "value"), prevent_initial_call=True)
    def tokens_cb(n_create, n_revoke, name, role, scopes, days, revoke_id):
        from dash import ctx

        from api.admin import create_admin_token, revoke_admin_token

        if ctx.triggered_id == IDS["t_revoke"]:
            if revoke_id is None:
                message = _alert("Choose a token to revoke.", False)
            else:
                done = revoke_admin_token(int(revoke_id), audit.actor_name())
                message = _alert("Token revoked." if done else "That token was already revoked.", done)
        elif not (name or "").strip() or len(name) > 100:
            message = _alert("Give the token a name (1-100 characters).", False)
        else:
            token, token_id = create_admin_token(name.strip(), Role(role or "viewer"), list(scopes or ["read"]),
                                                 int(days) if days else None, audit.actor_name())
            body: list[Any] = [html.Div(f"Token #{token_id} created. Copy it now; it is not shown again:"),
                               html.Code(token, id="adm-new-token", className="user-select-all")]
            if role == "wall":
                from flask import request

                url = request.host_url.rstrip("/") + "/wall/activate?token=" + token
                body += [html.Div("Open this link once on the wall screen:", className="mt-2"),
                         html.Code(url, className="user-select-all")]
            message = dbc.Alert(body, color="success", className="py-2 small mb-0")
        tokens = list_tokens(db())
        options = [{"label": f"#{t['id']} {t['name']} ({t['role']})", "value": t["id"]} for t in tokens if t["active"]]
        return message, tokens_table(tokens), options

    @app.callback(Output(IDS["s_result"], "children"), Output(IDS["secrets"], "children"),
                  Input(IDS["s_save"], "n_clicks"), State(IDS["s_name"], "value"), State(IDS["s_value"], "value"),
                  State(IDS["s_mode"], "value"), prevent_initial_call=True)
    def secrets_cb(n, name, value, mode):
        from security.vault import VaultError, get_vault

        if not n:
            return no_update, no_update
        vault = get_vault()
        try:
            if mode == "replace":
                vault.put((name or "").strip(), value or "", actor=audit.actor_name())
            else:
                vault.add_version((name or "").strip(), value or "", actor=audit.actor_name())
            message = _alert(f"Stored {name.strip()}.", True)
        except VaultError as exc:
            message = _alert(str(exc), False)
        return message, secrets_table(vault.list())

    @app.callback(Output(IDS["a_table"], "children"), Output(IDS["a_csv"], "href"),
                  Input(IDS["a_kind"], "value"), Input(IDS["a_actor"], "value"), Input(IDS["a_refresh"], "n_clicks"),
                  prevent_initial_call=True)
    def audit_cb(kind, actor, _n):
        events = audit.list_events(db(), audit.AuditQuery((kind or "").strip() or None, (actor or "").strip() or None,
                                                          limit=200))
        return audit_table(events), audit_csv_href(kind, actor)
