"""Wall display: the control-room screen. Fleet KPIs, a status board per market, prices and
alerts, full screen without navigation, updated by push (Socket.IO rooms ``live`` and ``markets``).

A screen signs in with a revocable wall token (/wall/activate?token=...) and sees only this page.
"""
from __future__ import annotations

import dash
from dash import dcc, html
from dash_socketio import DashSocketIO

from callbacks.kpi_texts import first_paint_texts
from callbacks.wall import IDS, alerts_panel
from components.kpi import kpi_text, slot_attrs
from components.theme import STATUS_COLORS
from core.runtime import db
from data.live_queries import site_meta
from security.scope import current_scope

dash.register_page(
    __name__, path="/wall", name="Wall display", title="Control room · Fleetlight", nav_group="Operations",
    order=9, min_role="wall",
)


def _kpi(name: str, label: str, kpi: dict[str, str], key: str | None, detail: object = "",
         value: object = None) -> html.Div:
    """Return one wall tile; ``key`` makes its value the push slot of that fleet KPI text (else ``value``)."""
    value_attrs = slot_attrs("fleet", key) if key else {}
    return html.Div([html.Div(label, className="wall-kpi-label"),
                     html.Div(kpi.get(key, "—") if key else value, id=f"wall-kpi-{name}", className="wall-kpi-value",
                              **value_attrs),
                     html.Div(detail, id=f"wall-kpi-{name}-detail", className="wall-kpi-detail")], className="wall-kpi")


def layout(**_kwargs: object) -> html.Div:
    """Return the wall display; its figures arrive by push and are drawn by assets/wall.js."""
    with db().read_session() as session:
        meta = site_meta(session, current_scope().site_ids)
    kpi = first_paint_texts("fleet")
    return html.Div(
        [
            DashSocketIO(id=IDS["socket"], url="/live", eventNames=["live_sites", "markets_prices", "market_kpis"],
                         options={"auth": {"rooms": ["live", "markets"]}}),
            dcc.Store(id=IDS["meta"], data={"sites": meta, "status_colors": STATUS_COLORS}),
            dcc.Store(id=IDS["sink_sites"]), dcc.Store(id=IDS["sink_prices"]), dcc.Store(id=IDS["sink_meta"]),
            dcc.Store(id=IDS["sink_markets"]),
            dcc.Interval(id=IDS["alerts_refresh"], interval=30_000),
            html.Div(
                [
                    html.Div([html.I(className="bi bi-lightning-charge-fill text-warning me-2"), "Fleetlight control room"],
                             className="wall-title"),
                    html.Div([html.Span("", id=IDS["clock"], className="me-4"),
                              html.Span("●", id=IDS["dot"], className="wall-dot me-1"),
                              html.Span("connecting", id=IDS["conn"], **{"data-fl-conn": ""})], className="wall-status"),
                ],
                className="wall-header",
            ),
            html.Div(id=IDS["banner"], className="wall-banner d-none"),
            html.Div([
                _kpi("output", "Fleet output", kpi, "output_mw", ["of ", kpi_text("fleet", "capacity_mw", kpi)]),
                _kpi("expected", "Expected from weather", kpi, "expected_mw",
                     ["sites with weather produce ", kpi_text("fleet", "output_with_expected_mw", kpi)]),
                _kpi("performance", "Performance", kpi, "performance_pct", "output / expected, sites with weather"),
                _kpi("energy", "Energy today (UTC)", kpi, "energy_today_mwh", "since 00:00 UTC"),
                _kpi("sites", "Sites reporting", kpi, "sites_reporting"),
                _kpi("revenue", "Revenue rate", kpi, "revenue_rate", "output × real-time price"),
            ], className="wall-kpis"),
            html.Div(
                [
                    html.Div([html.Div("Status by market", className="wall-section"),
                              html.Div(id=IDS["board"], className="wall-board")], className="wall-col-main"),
                    html.Div(
                        [
                            html.Div("Prices now (RT vs DA)", className="wall-section"),
                            html.Div(id=IDS["prices"], className="wall-prices"),
                            html.Div("Alerts and events", className="wall-section mt-3"),
                            html.Div(alerts_panel(), id=IDS["alerts"], className="wall-alerts"),
                        ],
                        className="wall-col-side",
                    ),
                ],
                className="wall-body",
            ),
        ],
        id=IDS["root"],
        className="wall-root",
    )
