"""Live performance callbacks: pushed batches are applied clientside (assets/live_push.js);
the server only draws the rolling charts' starting history when the site or theme changes."""
from __future__ import annotations

import datetime as dt

from dash import ClientsideFunction, Dash, Input, Output, State

from components.live_figures import rolling_output_figure
from core.runtime import db
from data.expected_history import expected_output_history
from data.live_queries import site_output_history
from security.scope import current_scope

IDS = {
    "socket": "lv-socket", "meta": "lv-meta", "site": "lv-site", "fleet_chart": "lv-fleet-chart",
    "site_chart": "lv-site-chart", "conn": "lv-conn", "filter": "lv-filter", "sink": "lv-sink",
    "banner": "fl-live-banner", "grid": "lv-site-grid",
}
HISTORY = dt.timedelta(hours=6)


def history_figure(site_id: str | None, name: str, theme: str | None) -> object:
    """Return the rolling chart of ``site_id`` (None: fleet) seeded with the last 6 h of 15-min means
    of output and of the output expected from the weather the sites measured. The caller's scope
    holds: the fleet is their sites; a site outside it draws as an unknown site (empty)."""
    since = dt.datetime.now(dt.UTC) - HISTORY
    scope = current_scope()
    if site_id is not None and not scope.sees(site_id):
        return rolling_output_figure([], [], name, theme)
    with db().read_session() as session:
        history = site_output_history(session, site_id, since, scope.site_ids)
        expected = expected_output_history(session, site_id, since, scope.site_ids)
    return rolling_output_figure(history, expected, name, theme)


def register(app: Dash) -> None:
    """Attach the live page callbacks to ``app``."""
    app.clientside_callback(
        ClientsideFunction("fleetlight_live", "applySites"),
        Output(IDS["fleet_chart"], "extendData"), Output(IDS["site_chart"], "extendData"),
        Input(IDS["socket"], "data-live_sites"), State(IDS["meta"], "data"), State(IDS["site"], "value"),
    )
    app.clientside_callback(
        ClientsideFunction("fleetlight_live", "connection"),
        Output(IDS["conn"], "children"), Input(IDS["socket"], "connected"),
    )
    app.clientside_callback(
        ClientsideFunction("fleetlight_live", "filter"),
        Output(IDS["sink"], "data"), Input(IDS["filter"], "value"),
    )

    @app.callback(
        Output(IDS["site_chart"], "figure"), Input(IDS["site"], "value"), Input("shell-theme", "data"),
        State(IDS["meta"], "data"), prevent_initial_call=True,
    )
    def site_chart(site_id: str | None, theme: str | None, meta: dict | None):
        name = (meta or {}).get("sites", {}).get(site_id or "", {}).get("n", "") if current_scope().sees(site_id) else ""
        return history_figure(site_id, f"{name}: output vs expected", theme)

    @app.callback(Output(IDS["fleet_chart"], "figure"), Input("shell-theme", "data"), prevent_initial_call=True)
    def fleet_chart(theme: str | None):
        return history_figure(None, "Fleet: output vs expected", theme)
