"""Markets: real-time and day-ahead prices per market and node, DA vs RT spread, spikes
highlighted, and the fleet's revenue rate now (MW x price); updated by push."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from dash_socketio import DashSocketIO

from callbacks.kpi_texts import first_paint_texts
from callbacks.markets import IDS, board_now, chart_for, fleet_markets, node_key
from components.charts import chart
from components.data_table import Column, data_table
from components.kpi import kpi_text, kpi_tile
from live.price_feed import MARKETS

dash.register_page(
    __name__, path="/markets", name="Markets", title="Markets · Fleetlight", nav_group="Operations", order=2,
    min_role="analyst",  # the "markets" Socket.IO room is for analysts and up (security.access)
)


MARKET_COLUMNS = (("Output now", "output_mw"), ("Capacity", "capacity_mw"), ("Expected", "expected_mw"),
                  ("Energy today", "energy_today_mwh"), ("Revenue rate now", "revenue_rate"))


NODE_COLUMNS = [
    Column("market", "Market", min_width=90, flex=0.8),
    Column("node", "Node", min_width=150, flex=1.5),
    Column("da", "DA now", "per MWh", decimals=2, min_width=130),
    Column("rt", "RT now", "per MWh", decimals=2, min_width=130),
    Column("spread", "RT − DA", "per MWh", decimals=2, min_width=130, cell_class_rules=(
        ("text-danger-emphasis", "params.value > 0"), ("text-success-emphasis", "params.value <= 0"))),
    Column("spike", "Spike", min_width=80, flex=0.6),
    Column("fleet_sites", "Fleet sites", decimals=0, min_width=110, flex=0.7),
    Column("unit", "Price unit", min_width=100, flex=0.8),
]


def market_table() -> dbc.Table:
    """Return the per-market KPI table; each cell is the push slot of its market's KPI text."""
    head = html.Thead(html.Tr([html.Th("Market")] + [html.Th(label, className="text-end") for label, _k in MARKET_COLUMNS]
                              + [html.Th("Sites reporting", className="text-end")]))
    rows = []
    for market in fleet_markets():
        scope = f"market:{market}"
        texts = first_paint_texts("market", market)
        rows.append(html.Tr(
            [html.Td(market)] + [html.Td(kpi_text(scope, key, texts), className="text-end") for _l, key in MARKET_COLUMNS]
            + [html.Td(kpi_text(scope, "sites_reporting", texts), className="text-end")],
            **{"data-market": market}))
    return dbc.Table([head, html.Tbody(rows, id=IDS["market_rows"])], size="sm", hover=True, className="mb-0")


def layout(**_kwargs: object) -> html.Div:
    """Return the markets page; prices and site output arrive through Socket.IO (rooms markets, live)."""
    board = board_now()
    options = [{"label": f"{n['market']} · {n['node']}", "value": node_key(n["market"], n["node"])}
               for n in sorted(board, key=lambda n: (n["market"], n["node"]))]
    first = next((o["value"] for o in options if o["value"].startswith("ERCOT|HB_")), options[0]["value"] if options else None)
    kpi = first_paint_texts("fleet")
    sources = "; ".join(f"{m}: {spec.source_note}" for m, spec in MARKETS.items())
    return html.Div([
        DashSocketIO(id=IDS["socket"], url="/live", eventNames=["markets_prices", "market_kpis", "live_sites"],
                     options={"auth": {"rooms": ["markets", "live"]}}),
        dcc.Store(id=IDS["tick"]), dcc.Store(id=IDS["sink"]), dcc.Store(id=IDS["market_tick"]),
        html.Div(id=IDS["banner"], className="d-none", **{"data-state": "init"}),
        html.Div([
            html.H2("Markets", className="h4 mb-0"),
            html.Span([html.Span("●", className="me-1 text-body-secondary", **{"aria-hidden": "true", "data-fl-conn-dot": ""}),
                       html.Span("connecting", id=IDS["conn"], **{"data-fl-conn": ""})], className="small text-body-secondary"),
        ], className="d-flex justify-content-between align-items-baseline mb-3"),
        dbc.Row([
            dbc.Col(kpi_tile("mk-kpi-revenue", "Revenue rate now", kpi["revenue_rate"],
                             "generating sites' output x the latest real-time price of their node",
                             "bi-currency-exchange", slot=("fleet", "revenue_rate")), md=6),
            dbc.Col(kpi_tile("mk-kpi-spikes", "Price spikes now", "—", "RT above DA by more than 3 σ (min 25/MWh)",
                             "bi-exclamation-triangle"), md=3),
            dbc.Col(kpi_tile("mk-kpi-nodes", "Nodes priced", "—", "ERCOT, CAISO, European zones", "bi-diagram-3"), md=3),
        ], className="g-3 mb-3"),
        dbc.Card([
            dbc.CardHeader(html.Span("By market", className="fw-semibold")),
            dbc.CardBody(market_table(), className="p-0"),
        ], className="shadow-sm mb-3"),
        dbc.Card([
            dcc.Dropdown(id=IDS["node"], options=options, value=first, clearable=False, className="small mb-2"),
            chart(IDS["chart"], chart_for(first, "light", board), "node-prices"),
        ], body=True, className="shadow-sm mb-3"),
        dbc.Card([
            dbc.CardHeader(html.Span("Prices by node", className="fw-semibold")),
            dbc.CardBody(data_table(
                IDS["grid"], NODE_COLUMNS, None, "No prices yet: the price feed publishes day-ahead prices at start "
                "and real-time prices every few minutes.", row_id="key",
                grid_options={"rowClassRules": {"fl-row-spike": "params.data.spike === 'spike'"}})),
            dbc.CardFooter(html.Small(
                "Day-ahead prices are real recorded prices replayed onto today's clock (" + sources + "). "
                "Real-time prices are SIMULATED from them (DA plus a deviation sized by the node's real hourly "
                "volatility) until the market connectors deliver live prices.", className="text-body-secondary")),
        ], className="shadow-sm"),
    ])
