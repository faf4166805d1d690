"""My notifications: how the signed-in person is reached (contact methods in order), quiet hours,
their on-call duty and the notifications they were sent."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from callbacks.notifications import (
    HISTORY_COLUMNS,
    IDS,
    KIND_OPTIONS,
    METHOD_COLUMNS,
    SEVERITY_OPTIONS,
    TIMEZONES,
    history_rows,
    method_options,
    method_rows,
    my_schedules,
    my_user_id,
)
from components.data_table import data_table
from core.runtime import services
from notifications import directory

dash.register_page(__name__, path="/account/notifications", name="My notifications",
                   title="My notifications · Fleetlight", nav_group="Account", order=90, min_role="viewer")


def _field(label: str, component, md: int | str = 3) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-1"), component], md=md)


def layout(**_kwargs: object) -> html.Div:
    """Return the page for the signed-in user."""
    user_id = my_user_id()
    rows = method_rows(user_id)
    quiet = directory.quiet_hours(services().db, user_id) if user_id is not None else \
        {"timezone": "UTC", "start": "", "end": "", "bypass": "critical"}
    add = dbc.Row([
        _field("Channel", dcc.Dropdown(id=IDS["kind"], options=KIND_OPTIONS, value="sms", clearable=False), md=3),
        _field("Address", dbc.Input(id=IDS["address"], size="sm", maxLength=500), md=4),
        _field("Label (optional)", dbc.Input(id=IDS["label"], size="sm", maxLength=100), md=2),
        _field("Slack member id", dbc.Input(id=IDS["slack_member"], size="sm", maxLength=32, placeholder="U0123ABCD"),
               md=2),
        dbc.Col(dbc.Button("Add", id=IDS["add"], size="sm", color="primary", className="mt-4"), md="auto"),
    ], className="g-2 mb-2")
    order = dbc.Row([
        _field("Contact method", dcc.Dropdown(id=IDS["method"], options=method_options(rows)), md=5),
        dbc.Col(dbc.ButtonGroup([
            dbc.Button([html.I(className="bi bi-arrow-up me-1"), "Earlier"], id=IDS["up"], size="sm", color="secondary",
                       outline=True),
            dbc.Button([html.I(className="bi bi-arrow-down me-1"), "Later"], id=IDS["down"], size="sm",
                       color="secondary", outline=True),
            dbc.Button([html.I(className="bi bi-trash me-1"), "Remove"], id=IDS["remove"], size="sm", color="danger",
                       outline=True),
        ], className="mt-4"), md="auto"),
    ], className="g-2 mb-2")
    methods = dbc.Card([
        dbc.CardHeader(html.H2("How to reach me", className="h6 mb-0")),
        dbc.CardBody([
            html.P("When you are paged, the first method is used; if it fails for good (a wrong number, a bounce, "
                   "an unanswered call) the next one is, and so on. A provider outage is retried, not skipped. "
                   "With your Slack member id, Slack's Acknowledge button acknowledges as you.",
                   className="small text-body-secondary"),
            add, order, html.Div(id=IDS["result"], className="mb-2"),
            data_table(IDS["methods"], METHOD_COLUMNS, rows,
                       "No contact method yet: add a phone number, an e-mail address or a chat channel above."),
        ]),
    ], className="mb-3")
    quiet_card = dbc.Card([
        dbc.CardHeader(html.H2("Quiet hours", className="h6 mb-0")),
        dbc.CardBody([
            dbc.Row([
                _field("Time zone", dcc.Dropdown(id=IDS["tz"], options=TIMEZONES, value=quiet["timezone"],
                                                 clearable=False), md=3),
                _field("From (local)", dbc.Input(id=IDS["start"], type="time", size="sm", value=quiet["start"]), md=2),
                _field("To (local)", dbc.Input(id=IDS["end"], type="time", size="sm", value=quiet["end"]), md=2),
                _field("Still page me for", dcc.Dropdown(id=IDS["bypass"], options=SEVERITY_OPTIONS,
                                                         value=quiet["bypass"], clearable=False), md=2),
                dbc.Col(dbc.Button("Save", id=IDS["save_quiet"], size="sm", color="primary", className="mt-4"), md="auto"),
            ], className="g-2"),
            html.Small("During quiet hours a notification below the chosen severity waits until the window ends; "
                       "the escalation goes on meanwhile, so the next stage may reach someone else. Leave both "
                       "times empty for none.", className="text-body-secondary d-block mt-2"),
            html.Div(id=IDS["quiet_result"], className="mt-2"),
        ]),
    ], className="mb-3")
    duty = dbc.Card([dbc.CardHeader(html.H2("My on-call duty", className="h6 mb-0")),
                     dbc.CardBody(my_schedules(user_id), id=IDS["oncall"])], className="mb-3")
    history = dbc.Card([
        dbc.CardHeader(html.H2("Notifications sent to me", className="h6 mb-0")),
        dbc.CardBody(data_table(IDS["history"], HISTORY_COLUMNS, history_rows(user_id),
                                "Nothing was sent to you yet.", page_size=20)),
    ])
    return html.Div([html.H1("My notifications", className="h4 mb-3"),
                     dbc.Row([dbc.Col([methods, quiet_card], lg=8), dbc.Col(duty, lg=4)]), history])
