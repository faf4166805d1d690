"""Fleet overview (landing page): fleet KPIs and the site table with search and sorting."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from dash_socketio import DashSocketIO

from callbacks.overview import IDS, overview_view
from components.charts import chart
from components.kpi import kpi_text, kpi_tile

dash.register_page(
    __name__, path="/", name="Overview", title="Fleet overview · Fleetlight", nav_group="Operations", order=0,
    min_role="viewer",
)

SEARCH_DEBOUNCE_MS = 250  # the table follows typing after this pause (was: only on Enter or leaving the box)
KIND_OPTIONS = [{"label": k.capitalize(), "value": k} for k in ("solar", "wind", "storage", "hybrid", "substation")]


def layout(**_kwargs: object) -> html.Div:
    """Return the overview page, filled with the current fleet state."""
    view = overview_view(None, None, "light")
    kpi = view["kpi"]
    return html.Div(
        [
            # pushed by the live hub (room "overview"): KPI tiles every second, charts and table on refresh
            DashSocketIO(id=IDS["refresh"], url="/live", eventNames=["overview_kpis", "overview_refresh"],
                         options={"auth": {"rooms": ["overview"]}}),
            dcc.Store(id=IDS["push"]),
            html.Div(id="fl-live-banner", className="d-none"),
            html.Div(
                [
                    html.H2("Fleet overview", className="h4 mb-0"),
                    html.Div(["last data ", kpi_text("fleet", "last_ts_ms", kpi), html.Span(" · ", className="mx-1"),
                              html.Span("●", className="me-1 text-body-secondary",
                                        **{"aria-hidden": "true", "data-fl-conn-dot": ""}),
                              html.Span("connecting", id=IDS["conn"], **{"data-fl-conn": ""})],
                             id=IDS["updated"], className="text-body-secondary small"),
                ],
                className="d-flex justify-content-between align-items-baseline mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(kpi_tile(IDS["kpi_output"], "Output now", kpi["output_mw"],
                                     ["of ", kpi_text("fleet", "capacity_mw", kpi), " capacity"],
                                     "bi-lightning-charge", slot=("fleet", "output_mw")), md=3),
                    dbc.Col(kpi_tile(IDS["kpi_energy"], "Energy today (UTC)", kpi["energy_today_mwh"],
                                     "since 00:00 UTC, measured power over time", "bi-battery-charging",
                                     slot=("fleet", "energy_today_mwh")), md=3),
                    dbc.Col(kpi_tile(IDS["kpi_sites"], "Sites reporting",
                                     kpi["sites_reporting"], view["reporting_detail"], "bi-broadcast",
                                     slot=("fleet", "sites_reporting")), md=3),
                    dbc.Col(kpi_tile(IDS["kpi_assets"], "Assets", view["assets"], view["assets_detail"], "bi-grid-3x3-gap"), md=3),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(dbc.Card(chart(IDS["by_kind"], view["by_kind"], "output-by-type"), body=True, className="shadow-sm"), md=6),
                    dbc.Col(dbc.Card(chart(IDS["by_market"], view["by_market"], "output-by-market"), body=True, className="shadow-sm"), md=6),
                ],
                className="g-3 mb-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader(
                        dbc.Row(
                            [
                                dbc.Col(html.Span("Sites", className="fw-semibold"), width="auto"),
                                dbc.Col([dbc.Input(id=IDS["search"], placeholder="Search site, region, market or node…",
                                                   type="search", debounce=SEARCH_DEBOUNCE_MS, size="sm"),
                                         html.Div("Filters as you type: part of a site's name or id, region, market "
                                                  "or pricing node", id=IDS["search"] + "-hint",
                                                  className="form-text small mt-0")], md=5),
                                dbc.Col(dcc.Dropdown(id=IDS["kinds"], options=KIND_OPTIONS, multi=True,
                                                     placeholder="All types", className="small"), md=4),
                            ],
                            className="g-2 align-items-center",
                        )
                    ),
                    dbc.CardBody(html.Div(view["table"], id=IDS["table_wrap"])),
                    dbc.CardFooter(
                        html.Small(
                            "Measured sites replay their own real data (La Haute Borne: ENGIE/OpenOA, Etalab 2.0; "
                            "PVDAQ and SERF: NREL). Sites labelled 'derived demo' are modelled from those real "
                            "series with pvlib and the turbines' power curve.",
                            className="text-body-secondary",
                        )
                    ),
                ],
                className="shadow-sm",
            ),
        ]
    )
