"""Live performance: fleet and per-site output vs expected, capacity factor, energy today,
rolling charts, freshness per tile and a stale/disconnected banner; updated by push."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from dash_socketio import DashSocketIO

from callbacks.kpi_texts import first_paint_texts
from callbacks.live import IDS, history_figure
from components.charts import chart
from components.data_table import Column, data_table
from components.kpi import kpi_text, kpi_tile
from components.theme import STATUS_COLORS
from core.runtime import db
from data.live_queries import site_meta
from domain.kinds import is_generating_site
from security.scope import current_scope

dash.register_page(
    __name__, path="/live", name="Live performance", title="Live performance · Fleetlight", nav_group="Operations",
    order=1, min_role="viewer",
)


LIVE_COLUMNS = [
    Column("name", "Site", link="name_link", min_width=170, flex=2),
    Column("kind", "Type", min_width=90, flex=0.8),
    Column("market", "Market", min_width=90, flex=0.8),
    Column("output_mw", "Output", "MW", decimals=2, min_width=110),
    Column("expected_mw", "Expected", "MW", decimals=2, min_width=120),
    Column("performance_pct", "Perf.", "%", decimals=0, min_width=90, flex=0.7),
    Column("cf_pct", "CF now", "%", decimals=1, min_width=100, flex=0.7),
    Column("energy_today_mwh", "Energy today", "MWh", decimals=2, min_width=150),
    Column("status", "Status", min_width=100, flex=0.8, status_colors=tuple(STATUS_COLORS.items())),
    Column("freshness", "Freshness", min_width=150, flex=1.1),
]


def layout(**_kwargs: object) -> html.Div:
    """Return the live page; figures arrive through the /live Socket.IO namespace (room ``live``)."""
    with db().read_session() as session:
        meta = site_meta(session, current_scope().site_ids)
    kpi = first_paint_texts("fleet")
    options = [{"label": f"{m['n']} ({m['k']})", "value": s} for s, m in sorted(meta.items(), key=lambda i: i[1]["n"])
               if is_generating_site(m["k"])]
    first = options[0]["value"] if options else None
    return html.Div([
        DashSocketIO(id=IDS["socket"], url="/live", eventNames=["live_sites"], options={"auth": {"rooms": ["live"]}}),
        dcc.Store(id=IDS["meta"], data={"sites": meta, "status_colors": STATUS_COLORS}),
        dcc.Store(id=IDS["sink"]),
        html.Div(id=IDS["banner"], className="d-none", **{"data-state": "init"}),
        html.Div([
            html.H2("Live performance", className="h4 mb-0"),
            html.Div([html.Span(["last data ", kpi_text("fleet", "last_ts_ms", kpi)], className="me-3"),
                      html.Span("●", className="me-1 text-body-secondary", **{"aria-hidden": "true", "data-fl-conn-dot": ""}),
                      html.Span("connecting", id=IDS["conn"], **{"data-fl-conn": ""})],
                     className="small text-body-secondary"),
        ], className="d-flex justify-content-between align-items-baseline mb-3"),
        dbc.Row([
            dbc.Col(html.Div([kpi_tile("lv-kpi-output", "Fleet output now", kpi["output_mw"],
                                       ["of ", kpi_text("fleet", "capacity_mw", kpi), " capacity"],
                                       "bi-lightning-charge", slot=("fleet", "output_mw")),
                              html.Div("", id="lv-kpi-output-ago", className="small text-body-secondary mt-1 fl-ago",
                                       **{"data-kpi-ts": "fleet"})]), md=3),
            dbc.Col(kpi_tile("lv-kpi-expected", "Expected from weather", kpi["expected_mw"],
                             ["sites with weather; they produce ", kpi_text("fleet", "output_with_expected_mw", kpi)],
                             "bi-cloud-sun", slot=("fleet", "expected_mw")), md=3),
            dbc.Col(kpi_tile("lv-kpi-perf", "Performance", kpi["performance_pct"],
                             [kpi_text("fleet", "sites_reporting", kpi), " sites reporting"], "bi-speedometer2",
                             slot=("fleet", "performance_pct")), md=3),
            dbc.Col(kpi_tile("lv-kpi-energy", "Energy today (UTC)", kpi["energy_today_mwh"],
                             "since 00:00 UTC, measured power over time", "bi-battery-charging",
                             slot=("fleet", "energy_today_mwh")), md=3),
        ], className="g-3 mb-3"),
        dbc.Row([
            dbc.Col(dbc.Card(chart(IDS["fleet_chart"], history_figure(None, "Fleet: output vs expected", "light"),
                                   "fleet-output-vs-expected"), body=True, className="shadow-sm"), md=6),
            dbc.Col(dbc.Card([
                dcc.Dropdown(id=IDS["site"], options=options, value=first, clearable=False, className="small mb-2"),
                chart(IDS["site_chart"], history_figure(first, f"{meta.get(first or '', {}).get('n', '')}: output vs expected", "light"),
                      "site-output-vs-expected"),
            ], body=True, className="shadow-sm"), md=6),
        ], className="g-3 mb-3"),
        dbc.Card([
            dbc.CardHeader(html.Span("Sites", className="fw-semibold")),
            dbc.CardBody(data_table(
                IDS["grid"], LIVE_COLUMNS, None, "No generating sites in your portfolio yet: seed the demo fleet "
                "(flask --app app seed) or add sites; figures appear with the first pushed batch.", row_id="site_id",
                height="60vh", toolbar=dbc.Input(id=IDS["filter"], placeholder="Filter by name, type or market…",
                                                 type="search", size="sm", style={"maxWidth": "24rem"}))),
            dbc.CardFooter(html.Small(
                "Expected output: PVWatts (pvlib) from the irradiance and temperature the site reports; wind turbines "
                "from a rotor power curve at their reported wind speed. Perf. = output / expected. Freshness is the age "
                "of the newest power reading; a banner appears when the feed disconnects or data stops.",
                className="text-body-secondary")),
        ], className="shadow-sm"),
    ])
