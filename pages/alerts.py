"""Alerts: the active and past alerts (by push), filters, acknowledge and resolve with a comment,
a timeline per site, MTTA and MTTR; the rules editor with a 7-day preview (operators and above)."""
from __future__ import annotations

import json

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from dash_socketio import DashSocketIO

from alerts.rules import KINDS, TEMPLATES, list_rules
from callbacks.alerts import (
    IDS,
    STATE_COLORS,
    busiest_site,
    can_act,
    load_view,
    rules_table,
    silences_view,
    timeline_figure,
)
from components.charts import chart
from components.data_table import Column, data_table
from components.kpi import kpi_tile
from core.runtime import db
from data.alert_queries import site_names
from security.scope import current_scope

dash.register_page(
    __name__, path="/alerts", name="Alerts", title="Alerts · Fleetlight", nav_group="Operations", order=3,
    min_role="viewer",
)

COLUMNS = [
    Column("id", "#", decimals=0, min_width=60, flex=0.4),
    Column("severity", "Severity", min_width=95, flex=0.6,
           status_colors=(("critical", "#d62728"), ("warning", "#ff7f0e"), ("info", "#1f77b4"))),
    Column("state", "State", min_width=110, flex=0.7, status_colors=tuple(STATE_COLORS.items())),
    Column("title", "Alert", min_width=200, flex=2.5),
    Column("site", "Site", min_width=120, flex=1.1),
    Column("asset", "Asset", min_width=110, flex=0.9),
    Column("rule", "Rule", min_width=110, flex=1.0),
    Column("opened", "Opened", min_width=135, flex=1.0),
    Column("by", "By", min_width=80, flex=0.7),
    Column("reason", "Suppressed because", min_width=170, flex=1.5),
    Column("comments", "Comments", min_width=130, flex=1.2),
]
STATES = [("active", "Active (open, acknowledged, suppressed)"), ("open", "Open"), ("acknowledged", "Acknowledged"),
          ("suppressed", "Suppressed"), ("resolved", "Resolved"), ("all", "All")]


def _filter(label: str, component: object) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-1"), component], md=3)


def _actions() -> dbc.Card:
    return dbc.Card([
        dbc.CardHeader("Acknowledge or resolve"),
        dbc.CardBody([
            html.Div("No alert selected: click a row of the table.", id=IDS["selected"], className="small mb-2"),
            dbc.Label("Comment", html_for=IDS["comment"], className="small mb-1"),
            dbc.Textarea(id=IDS["comment"], placeholder="What was done, who is on it", maxLength=500, rows=2,
                         className="mb-2"),
            html.Div([
                dbc.Button([html.I(className="bi bi-check2 me-1"), "Acknowledge"], id=IDS["ack"], color="primary",
                           size="sm", className="me-2"),
                dbc.Button([html.I(className="bi bi-check2-all me-1"), "Resolve"], id=IDS["resolve"],
                           color="success", size="sm"),
            ], className="mb-2"),
            html.Div(id=IDS["result"]),
        ]),
    ], className="shadow-sm h-100")


def _rules_editor() -> dbc.Card:
    rules = list_rules(db())
    options = [{"label": f"#{r['id']} {r['name']}", "value": r["id"]} for r in rules]
    return dbc.Card([
        dbc.CardHeader("Rules"),
        dbc.CardBody([
            html.Div(rules_table(rules), id=IDS["r_table"], className="mb-3"),
            dbc.Row([
                dbc.Col([dbc.Label("New rule of kind", className="small mb-1"),
                         dcc.Dropdown(id=IDS["r_kind"], options=[{"label": k, "value": k} for k in KINDS],
                                      value="threshold", clearable=False)], md=4),
                dbc.Col([dbc.Label("or edit rule", className="small mb-1"),
                         dcc.Dropdown(id=IDS["r_edit"], options=options, placeholder="(a new rule)")], md=4),
            ], className="g-2 mb-2"),
            dbc.Label("Definition (JSON; docs/alerts.md lists each kind's parameters)", html_for=IDS["r_body"],
                      className="small mb-1"),
            dbc.Textarea(id=IDS["r_body"], value=json.dumps(TEMPLATES["threshold"], indent=2), rows=10,
                         className="font-monospace small mb-2", spellCheck=False),
            html.Div([
                dbc.Button([html.I(className="bi bi-clock-history me-1"), "Preview last 7 days"], id=IDS["r_preview"],
                           color="secondary", outline=True, size="sm", className="me-2"),
                dbc.Button([html.I(className="bi bi-save me-1"), "Save"], id=IDS["r_save"], color="primary",
                           size="sm", className="me-2"),
                dbc.Button("Enable / disable", id=IDS["r_toggle"], color="secondary", outline=True, size="sm"),
            ], className="mb-2"),
            html.Div(id=IDS["r_result"], className="small"),
        ]),
    ], className="shadow-sm")


def _windows(site_options: list[dict[str, str]], sites: dict[str, str]) -> dbc.Card:
    from data.alert_queries import active_silences
    from data.models import utcnow

    visible = current_scope().site_ids
    with db().read_session() as session:
        rows = [r for r in active_silences(session, utcnow())
                if visible is None or r["site_id"] is None or r["site_id"] in visible]
    return dbc.Card([
        dbc.CardHeader("Maintenance windows and silences"),
        dbc.CardBody([
            html.Div(silences_view(rows, sites), id=IDS["w_list"], className="mb-3"),
            dbc.Row([
                dbc.Col([dbc.Label("Kind", className="small mb-1"),
                         dcc.Dropdown(id=IDS["w_kind"], value="maintenance", clearable=False,
                                      options=[{"label": "maintenance window", "value": "maintenance"},
                                               {"label": "silence", "value": "silence"}])], md=3),
                dbc.Col([dbc.Label("Site", className="small mb-1"),
                         dcc.Dropdown(id=IDS["w_site"], options=site_options, placeholder="choose a site")], md=3),
                dbc.Col([dbc.Label("Hours from now", html_for=IDS["w_hours"], className="small mb-1"),
                         dbc.Input(id=IDS["w_hours"], type="number", min=0.25, max=2160, step=0.25, value=4)], md=2),
                dbc.Col([dbc.Label("Reason", html_for=IDS["w_reason"], className="small mb-1"),
                         dbc.Input(id=IDS["w_reason"], maxLength=500, placeholder="e.g. transformer inspection")],
                        md=4),
            ], className="g-2 mb-2"),
            dbc.Button([html.I(className="bi bi-bell-slash me-1"), "Create"], id=IDS["w_create"], color="secondary",
                       size="sm", className="mb-2"),
            html.Div(id=IDS["w_result"], className="small"),
            html.Small("Alerts of the site raised while a window is in force are suppressed with its reason; "
                       "they open when it ends if their condition still holds.", className="text-body-secondary"),
        ]),
    ], className="shadow-sm mb-3")


def layout(**_kwargs: object) -> html.Div:
    """Return the alerts page; changes arrive by push (room ``alerts`` of the /live namespace)."""
    view = load_view("active", None, None, None)
    visible = current_scope().site_ids
    with db().read_session() as session:
        sites = site_names(session, visible)
    rules = list_rules(db())
    site_options = [{"label": name, "value": sid} for sid, name in sites.items()]
    operator = can_act("alerts:ack")
    timeline_site = busiest_site(sites)
    table = data_table(IDS["table"], COLUMNS, view["rows"],
                       "No alert matches: nothing is raised right now, or the filters leave none.",
                       page_size=20, grid_options={"rowSelection": "single"})
    return html.Div([
        DashSocketIO(id=IDS["socket"], url="/live", eventNames=["alert_changed"],
                     options={"auth": {"rooms": ["alerts"]}}),
        dcc.Store(id=IDS["bump"], data=0),
        html.Div([
            html.H2("Alerts", className="h4 mb-0"),
            html.Div([html.Span(view["updated"], id=IDS["updated"], className="me-3"),
                      html.Span("connecting", id=IDS["conn"])], className="small text-body-secondary"),
        ], className="d-flex justify-content-between align-items-baseline mb-3"),
        dbc.Row([
            dbc.Col(kpi_tile(IDS["kpi_active"], "Active alerts", view["active"], view["active_detail"],
                             "bi-bell"), md=3),
            dbc.Col(kpi_tile(IDS["kpi_critical"], "Critical", view["critical"], "active, not suppressed",
                             "bi-exclamation-octagon"), md=3),
            dbc.Col(kpi_tile(IDS["kpi_mtta"], "MTTA", view["mtta"], view["mtta_detail"], "bi-stopwatch"), md=3),
            dbc.Col(kpi_tile(IDS["kpi_mttr"], "MTTR", view["mttr"], view["mttr_detail"], "bi-tools"), md=3),
        ], className="g-3 mb-3"),
        dbc.Card(dbc.CardBody([
            dbc.Row([
                _filter("State", dcc.Dropdown(id=IDS["state"], options=[{"label": t, "value": v} for v, t in STATES],
                                              value="active", clearable=False)),
                _filter("Severity", dcc.Dropdown(id=IDS["severity"], placeholder="any severity",
                                                 options=[{"label": s, "value": s}
                                                          for s in ("critical", "warning", "info")])),
                _filter("Site", dcc.Dropdown(id=IDS["site"], options=site_options, placeholder="every site")),
                _filter("Rule", dcc.Dropdown(id=IDS["rule"], placeholder="every rule",
                                             options=[{"label": f"#{r['id']} {r['name']}", "value": r["id"]}
                                                      for r in rules])),
            ], className="g-2 mb-3"),
            table,
            html.Small("MTTA and MTTR over the alerts opened in the last 30 days: MTTA = mean(acknowledged - "
                       "opened) of the acknowledged ones, MTTR = mean(resolved - opened) of the resolved ones.",
                       className="text-body-secondary"),
        ]), className="shadow-sm mb-3"),
        dbc.Row([
            dbc.Col(dbc.Card([
                dbc.CardHeader("Timeline per site"),
                dbc.CardBody([
                    dcc.Dropdown(id=IDS["tl_site"], options=site_options, value=timeline_site,
                                 placeholder="choose a site", className="mb-2"),
                    chart(IDS["timeline"], timeline_figure(timeline_site, "light"), "alerts-timeline"),
                ]),
            ], className="shadow-sm h-100"), lg=8 if operator else 12),
            *([dbc.Col(_actions(), lg=4)] if operator else []),
        ], className="g-3 mb-3"),
        *([_windows(site_options, sites), _rules_editor()] if can_act("alerts:manage") else []),
    ])
