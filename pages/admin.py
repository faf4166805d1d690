"""Admin: users and roles, API and wall-display tokens, secrets, Salesforce, the audit log."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from callbacks.admin import (
    IDS,
    ROLE_OPTIONS,
    SCOPE_OPTIONS,
    TOKEN_ROLE_OPTIONS,
    audit_csv_href,
    audit_table,
    salesforce_status,
    secrets_table,
    tokens_table,
    user_options,
    users_table,
)

dash.register_page(__name__, path="/admin", name="Users, keys & audit", title="Admin · Fleetlight",
                   nav_group="Admin", order=10, min_role="admin")


def _field(label: str, component, md: int = 3) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-1"), component], md=md)


def _users_tab(users: list) -> dbc.Card:
    create = dbc.Row([
        _field("Username", dbc.Input(id=IDS["u_name"], size="sm", maxLength=100)),
        _field("Email", dbc.Input(id=IDS["u_email"], size="sm", type="email")),
        _field("Role", dcc.Dropdown(id=IDS["u_role"], options=ROLE_OPTIONS, value="viewer", clearable=False), md=2),
        _field("Password (12+ characters)", dbc.Input(id=IDS["u_password"], size="sm", type="password",
                                                       autoComplete="new-password"), md=2),
        _field("Portfolios (comma-separated; empty = all)", dbc.Input(id=IDS["u_scope"], size="sm"), md=2),
        dbc.Col(dbc.Button("Create user", id=IDS["u_create"], size="sm", color="primary", className="mt-4"), md="auto"),
    ], className="g-2 mb-2")
    change = dbc.Row([
        _field("User", dcc.Dropdown(id=IDS["c_user"], options=user_options(users))),
        _field("New role", dcc.Dropdown(id=IDS["c_role"], options=ROLE_OPTIONS), md=2),
        _field("Active", dbc.Switch(id=IDS["c_active"], value=True), md=1),
        _field("Unlock", dbc.Checkbox(id=IDS["c_unlock"], value=False), md=1),
        _field("Portfolios", dbc.Input(id=IDS["c_scope"], size="sm"), md=3),
        dbc.Col(dbc.Button("Apply", id=IDS["c_apply"], size="sm", color="secondary", className="mt-4"), md="auto"),
    ], className="g-2 mb-2")
    return dbc.Card(dbc.CardBody([
        html.H3("New user", className="h6"), create, html.Div(id=IDS["u_result"], className="mb-3"),
        html.H3("Change a user", className="h6"), change, html.Div(id=IDS["c_result"], className="mb-3"),
        html.Div(users_table(users), id=IDS["users"]),
    ]), className="border-top-0")


def _tokens_tab(tokens: list) -> dbc.Card:
    active = [{"label": f"#{t['id']} {t['name']} ({t['role']})", "value": t["id"]} for t in tokens if t["active"]]
    return dbc.Card(dbc.CardBody([
        html.P("Machine clients (ingest, integrations) and wall displays. A token is shown once; only its "
               "hash is stored. A wall token (role 'wall') gives a read-only screen its activation link.",
               className="small text-body-secondary"),
        dbc.Row([
            _field("Name", dbc.Input(id=IDS["t_name"], size="sm", maxLength=100)),
            _field("Role", dcc.Dropdown(id=IDS["t_role"], options=TOKEN_ROLE_OPTIONS, value="viewer", clearable=False), md=2),
            _field("Scopes", dcc.Dropdown(id=IDS["t_scopes"], options=SCOPE_OPTIONS, value=["read"], multi=True)),
            _field("Expires after (days, empty = never)", dbc.Input(id=IDS["t_days"], size="sm", type="number",
                                                                     min=1, max=3650), md=2),
            dbc.Col(dbc.Button("Create token", id=IDS["t_create"], size="sm", color="primary", className="mt-4"), md="auto"),
        ], className="g-2 mb-2"),
        dbc.Row([
            _field("Revoke token", dcc.Dropdown(id=IDS["t_revoke_id"], options=active), md=4),
            dbc.Col(dbc.Button("Revoke", id=IDS["t_revoke"], size="sm", color="danger", outline=True, className="mt-4"),
                    md="auto"),
        ], className="g-2 mb-2"),
        html.Div(id=IDS["t_result"], className="mb-3"),
        html.Div(tokens_table(tokens), id=IDS["tokens"]),
    ]), className="border-top-0")


def _secrets_tab(infos: list) -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.P(["Encrypted at rest (MultiFernet). Names: ", html.Code("provider:<name>"), ", ",
                html.Code("webhook:twilio|sendgrid|slack"), ". To rotate a key, add the new version, deploy, then "
                "retire the old one (API: DELETE /api/v1/admin/secrets/<name>/versions/<fingerprint>). "
                "Encryption keys rotate with ", html.Code("flask --app app rotate-keys"), "."],
               className="small text-body-secondary"),
        dbc.Row([
            _field("Name", dbc.Input(id=IDS["s_name"], size="sm", maxLength=100, placeholder="provider:entsoe")),
            _field("Value", dbc.Input(id=IDS["s_value"], size="sm", type="password", autoComplete="off")),
            _field("Mode", dbc.RadioItems(id=IDS["s_mode"], value="add_version", inline=True, options=[
                {"label": "add version", "value": "add_version"}, {"label": "replace", "value": "replace"}]), md=3),
            dbc.Col(dbc.Button("Save", id=IDS["s_save"], size="sm", color="primary", className="mt-4"), md="auto"),
        ], className="g-2 mb-2"),
        html.Div(id=IDS["s_result"], className="mb-3"),
        html.Div(secrets_table(infos), id=IDS["secrets"]),
        html.H3("Salesforce (OAuth 2.0, PKCE)", className="h6 mt-4"),
        html.Div(salesforce_status(), id=IDS["sf_status"]),
    ]), className="border-top-0")


def _audit_tab(events: list) -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            _field("Event kind starts with", dbc.Input(id=IDS["a_kind"], size="sm", placeholder="user.", debounce=True)),
            _field("Actor", dbc.Input(id=IDS["a_actor"], size="sm", debounce=True)),
            dbc.Col(dbc.Button("Refresh", id=IDS["a_refresh"], size="sm", color="secondary", outline=True,
                               className="mt-4"), md="auto"),
            dbc.Col(html.A([html.I(className="bi bi-download me-1"), "Export CSV"], href=audit_csv_href(None, None),
                           id=IDS["a_csv"], className="btn btn-outline-primary btn-sm mt-4"), md="auto"),
        ], className="g-2 mb-3"),
        html.Div(audit_table(events), id=IDS["a_table"]),
    ]), className="border-top-0")


def layout(**_kwargs: object) -> html.Div:
    """Return the admin page with current users, tokens, secrets and the latest audit events."""
    from core.runtime import db
    from data.admin_queries import list_tokens
    from security.audit import AuditQuery, list_events
    from security.users import list_users
    from security.vault import get_vault

    users = list_users(db())
    return html.Div([
        html.H2("Users, keys & audit", className="h4 mb-3"),
        dbc.Tabs([
            dbc.Tab(_users_tab(users), label="Users", tab_id="users"),
            dbc.Tab(_tokens_tab(list_tokens(db())), label="Tokens & wall displays", tab_id="tokens"),
            dbc.Tab(_secrets_tab(get_vault().list()), label="Secrets & integrations", tab_id="secrets"),
            dbc.Tab(_audit_tab(list_events(db(), AuditQuery(limit=200))), label="Audit log", tab_id="audit"),
        ], active_tab="users", id="adm-tabs"),
    ])
