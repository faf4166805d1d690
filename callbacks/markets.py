"""Markets callbacks: the price table is driven clientside by pushes (assets/live_push.js); the
server draws the selected node's DA vs RT chart, redrawn when new prices are pushed."""
from __future__ import annotations

import datetime as dt

from dash import ClientsideFunction, Dash, Input, Output

from components.live_figures import price_figure
from core.runtime import db
from data.fleet import site_frame
from domain.kinds import is_generating_site
from live.prices import node_board
from security.scope import filter_site_frame

IDS = {
    "socket": "mk-socket", "node": "mk-node", "chart": "mk-chart", "grid": "mk-node-grid", "tick": "mk-tick",
    "banner": "fl-live-banner", "conn": "mk-conn", "sink": "mk-sink", "market_rows": "mk-market-rows",
    "market_tick": "mk-market-tick",
}


def node_key(market: str, node: str) -> str:
    """Return the dropdown value of a (market, node)."""
    return f"{market}|{node}"


def board_now() -> list[dict]:
    """Return the node board (see live.prices.node_board) for now."""
    with db().read_session() as session:
        return node_board(session, dt.datetime.now(dt.UTC))


def fleet_markets() -> list[str]:
    """Return the markets of the caller's generating sites, sorted (the rows of the per-market table)."""
    with db().read_session() as session:
        sites = filter_site_frame(site_frame(session))  # the caller's portfolio scope
    return sorted({m for m, k in zip(sites["market"].to_list(), sites["kind"].to_list(), strict=True)
                   if m and is_generating_site(k)})


def chart_for(key: str | None, theme: str | None, board: list[dict] | None = None) -> object:
    """Return the DA vs RT chart of the node ``key`` ('market|node')."""
    board = board_now() if board is None else board
    row = next((n for n in board if node_key(n["market"], n["node"]) == key), None)
    return price_figure(row, row["sigma"] if row else 5.0, theme)


def register(app: Dash) -> None:
    """Attach the markets page callbacks to ``app``."""
    app.clientside_callback(
        ClientsideFunction("fleetlight_live", "applyPrices"),
        Output(IDS["tick"], "data"), Input(IDS["socket"], "data-markets_prices"),
    )
    app.clientside_callback(
        ClientsideFunction("fleetlight_live", "applyMarketKpis"),
        Output(IDS["market_tick"], "data"), Input(IDS["socket"], "data-market_kpis"),
    )
    app.clientside_callback(
        ClientsideFunction("fleetlight_live", "sitesForMarkets"),
        Output(IDS["sink"], "data"), Input(IDS["socket"], "data-live_sites"),
    )
    app.clientside_callback(
        ClientsideFunction("fleetlight_live", "connection"),
        Output(IDS["conn"], "children"), Input(IDS["socket"], "connected"),
    )

    @app.callback(Output(IDS["chart"], "figure"), Input(IDS["node"], "value"), Input(IDS["tick"], "data"),
                  Input("shell-theme", "data"), prevent_initial_call=True)
    def chart(key: str | None, _tick: int | None, theme: str | None):
        return chart_for(key, theme)
