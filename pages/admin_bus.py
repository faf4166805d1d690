"""Admin: the bus's dead letters (with reason, payload and replay) and its schema registry."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from bus.registry import REGISTRY
from callbacks.admin_bus import IDS, dead_letter_rows, schema_view

dash.register_page(
    __name__, path="/admin/dead-letters", name="Dead letters & schemas", title="Dead letters · Fleetlight",
    nav_group="Admin", order=50, min_role="admin",
)

# cells take the Bootstrap theme's colours (the table's own defaults are white, light text on it in the dark)
THEMED_CELL = {"backgroundColor": "var(--bs-body-bg)", "color": "var(--bs-body-color)",
               "border": "1px solid var(--bs-border-color)"}
COLUMNS = [("id", "Id"), ("received_at", "Received (UTC)"), ("source", "Source"), ("topic", "Topic"),
           ("reason", "Reason"), ("attempts", "Attempts"), ("last_attempt_at", "Last attempt"),
           ("last_error", "Last error"), ("replayed_at", "Replayed"), ("payload", "Payload")]


def layout(**_kwargs: object) -> html.Div:
    """Return the admin bus page."""
    topics = REGISTRY.topics()
    dead = dbc.Card([
        dbc.CardHeader(dbc.Row([
            dbc.Col(dcc.Dropdown(id=IDS["topic"], options=[{"label": t, "value": t} for t in topics],
                                 placeholder="All topics", className="small"), md=3),
            dbc.Col(dcc.Dropdown(id=IDS["state"], options=[{"label": "Not replayed", "value": "open"},
                                                           {"label": "Replayed", "value": "replayed"}],
                                 placeholder="Any state", className="small"), md=3),
            dbc.Col(dbc.Button("Reload", id=IDS["reload"], size="sm", color="secondary", outline=True), width="auto"),
        ], className="g-2 align-items-center")),
        dbc.CardBody([
            dash_table.DataTable(
                id=IDS["table"], data=dead_letter_rows(None, None), selected_rows=[], columns=[{"id": c, "name": n} for c, n in COLUMNS],
                row_selectable="single", page_size=15, style_table={"overflowX": "auto"},
                style_cell={"fontSize": "0.8rem", "maxWidth": "420px", "overflow": "hidden", "textOverflow": "ellipsis",
                            "whiteSpace": "nowrap", "textAlign": "left", **THEMED_CELL},
                style_header={"backgroundColor": "var(--bs-tertiary-bg)", "color": "var(--bs-emphasis-color)",
                              "fontWeight": 600},
                tooltip_duration=None,
            ),
            dcc.Store(id=IDS["selected"]),
            html.Div(html.P("Select a dead letter to see its payload.", className="text-body-secondary"),
                     id=IDS["detail"], className="mt-3"),
            dbc.Row([
                dbc.Col(dbc.Button("Replay selected", id=IDS["replay"], color="primary", size="sm"), width="auto"),
                dbc.Col(dbc.Checklist(id=IDS["force"], options=[{"label": "again, even if replayed", "value": "force"}],
                                      value=[], switch=True, className="small"), width="auto"),
            ], className="g-2 align-items-center"),
            html.Div(id=IDS["result"], className="mt-2"),
        ]),
        dbc.CardFooter(html.Small(
            "Messages that failed validation or processing are kept here with the reason. Replay republishes a "
            "valid bus message (stores are idempotent) or re-validates a rejected telemetry row; a replay that "
            "fails again counts as an attempt on the same dead letter.",
            className="text-body-secondary")),
    ], className="shadow-sm")
    schemas = dbc.Card([
        dbc.CardHeader(dcc.Dropdown(id=IDS["schema_topic"], options=[{"label": t, "value": t} for t in topics],
                                    value=topics[0] if topics else None, clearable=False, className="small")),
        dbc.CardBody(html.Div(schema_view(topics[0] if topics else None), id=IDS["schema_view"])),
        dbc.CardFooter(html.Small(
            "Every topic's message schema, versioned. Producers and consumers validate against the version a message "
            "names; a new version must be BACKWARD compatible with the previous one or registration is refused.",
            className="text-body-secondary")),
    ], className="shadow-sm")
    return html.Div([
        html.H2("Bus: dead letters and schemas", className="h4 mb-3"),
        dbc.Tabs([dbc.Tab(dead, label="Dead letters", tab_id="dl"), dbc.Tab(schemas, label="Schemas", tab_id="schemas")],
                 active_tab="dl"),
    ])
