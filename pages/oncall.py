"""Admin: on-call schedules (rotations and overrides), escalation policies, running escalations and
every notification sent with its attempts and provider status."""
from __future__ import annotations

import datetime as dt

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from callbacks.notifications import SEVERITY_OPTIONS, TIMEZONES
from callbacks.oncall import (
    ESCALATION_COLUMNS,
    IDS,
    POLICY_COLUMNS,
    SCHEDULE_COLUMNS,
    SENT_COLUMNS,
    STAGES_HELP,
    policy_rows,
    schedule_options,
    schedule_rows,
    site_options,
    user_options,
)
from components.data_table import data_table
from core.runtime import services
from notifications import directory

dash.register_page(__name__, path="/admin/on-call", name="On-call & escalation", title="On-call · Fleetlight",
                   nav_group="Admin", order=30, min_role="admin")


def _field(label: str, component, md: int | str = 3) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-1"), component], md=md)


def layout(**_kwargs: object) -> html.Div:
    """Return the on-call admin page."""
    db = services().db
    users, schedules, policies = user_options(), schedule_rows(), policy_rows()
    today = dt.datetime.now(dt.UTC).date()
    schedule_form = dbc.Row([
        _field("Name", dbc.Input(id=IDS["s_name"], size="sm", maxLength=100, placeholder="ops"), md=2),
        _field("Rotation, in turn", dcc.Dropdown(id=IDS["s_members"], options=users, multi=True), md=3),
        _field("First shift starts (UTC)", dbc.InputGroup([
            dbc.Input(id=IDS["s_start_date"], type="date", size="sm", value=today.isoformat()),
            dbc.Input(id=IDS["s_start_time"], type="time", size="sm", value="09:00")], size="sm"), md=3),
        _field("Shift (h)", dbc.Input(id=IDS["s_hours"], type="number", min=0.5, max=672, step=0.5, value=168,
                                      size="sm"), md=1),
        _field("Time zone", dcc.Dropdown(id=IDS["s_tz"], options=TIMEZONES, value="UTC", clearable=False), md=2),
        dbc.Col(dbc.Button("Save", id=IDS["s_save"], size="sm", color="primary", className="mt-4"), md="auto"),
    ], className="g-2 mb-2")
    override_form = dbc.Row([
        _field("Schedule", dcc.Dropdown(id=IDS["o_schedule"], options=schedule_options(schedules)), md=2),
        _field("Covered by", dcc.Dropdown(id=IDS["o_user"], options=users), md=2),
        _field("From (UTC)", dbc.Input(id=IDS["o_start"], type="datetime-local", size="sm"), md=2),
        _field("To (UTC)", dbc.Input(id=IDS["o_end"], type="datetime-local", size="sm"), md=2),
        _field("Reason", dbc.Input(id=IDS["o_reason"], size="sm", maxLength=200), md=2),
        dbc.Col(dbc.Button("Add override", id=IDS["o_add"], size="sm", color="secondary", className="mt-4"), md="auto"),
    ], className="g-2 mb-2")
    schedules_card = dbc.Card([
        dbc.CardHeader(html.H2("On-call schedules", className="h6 mb-0")),
        dbc.CardBody([
            html.P("Members take shifts in turn from the first shift; an override puts someone else on call for a "
                   "while (the latest one wins where they overlap). Saving an existing name updates it.",
                   className="small text-body-secondary"),
            schedule_form, html.Div(id=IDS["s_result"], className="mb-2"),
            override_form, html.Div(id=IDS["o_result"], className="mb-2"),
            data_table(IDS["schedules"], SCHEDULE_COLUMNS, schedules, "No schedule yet: create a rotation above."),
        ]),
    ], className="mb-3")
    policy_form = dbc.Row([
        _field("Edit", dcc.Dropdown(id=IDS["p_pick"], options=[{"label": p["name"], "value": p["id"]} for p in policies],
                                    placeholder="new policy"), md=2),
        _field("Name", dbc.Input(id=IDS["p_name"], size="sm", maxLength=100), md=2),
        _field("Priority (first match wins)", dbc.Input(id=IDS["p_priority"], type="number", value=0, step=1, size="sm"),
               md=1),
        _field("From severity", dcc.Dropdown(id=IDS["p_severity"], options=SEVERITY_OPTIONS, value="warning",
                                             clearable=False), md=2),
        _field("Sites (empty: all)", dcc.Dropdown(id=IDS["p_sites"], options=site_options(), multi=True), md=3),
        _field("Repeat", dbc.Input(id=IDS["p_repeat"], type="number", min=0, max=10, value=0, step=1, size="sm"), md=1),
    ], className="g-2 mb-2")
    policies_card = dbc.Card([
        dbc.CardHeader(html.H2("Escalation policies", className="h6 mb-0")),
        dbc.CardBody([
            policy_form,
            dbc.Label("Stages", className="small mb-1", html_for=IDS["p_stages"]),
            dbc.Textarea(id=IDS["p_stages"], rows=4, className="font-monospace small",
                         placeholder="+0 schedule:ops\n+15 user:carol"),
            html.Small(STAGES_HELP, className="text-body-secondary d-block mb-2"),
            dbc.Button("Save policy", id=IDS["p_save"], size="sm", color="primary"),
            html.Div(id=IDS["p_result"], className="my-2"),
            data_table(IDS["policies"], POLICY_COLUMNS, policies,
                       "No escalation policy: alerts reach nobody until one is saved."),
        ]),
    ], className="mb-3")
    activity = dbc.Card([
        dbc.CardHeader(dbc.Row([
            dbc.Col(html.H2("Escalations and notifications", className="h6 mb-0")),
            dbc.Col(dbc.Button([html.I(className="bi bi-arrow-clockwise me-1"), "Reload"], id=IDS["refresh"], size="sm",
                               color="secondary", outline=True), width="auto"),
        ], className="align-items-center")),
        dbc.CardBody([
            data_table(IDS["escalations"], ESCALATION_COLUMNS, directory.escalations(db),
                       "No alert has been escalated yet.", row_id="alert_id", page_size=10),
            html.H3("Every notification", className="h6 mt-3"),
            html.P("Each row is one message to one person on one channel; attempts counts the provider calls and "
                   "receipts, failures keep the provider's reason and fall back to the person's next method.",
                   className="small text-body-secondary"),
            data_table(IDS["sent"], SENT_COLUMNS, directory.recent_notifications(db, None, 300),
                       "Nothing has been sent yet.", page_size=20),
        ]),
    ])
    return html.Div([html.H1("On-call & escalation", className="h4 mb-3"), schedules_card, policies_card, activity])
