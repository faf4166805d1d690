"""Overview callbacks: KPI tiles by push (clientside), refresh of charts and the site table; search and type filter."""
from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Dash, Input, Output

from callbacks.kpi_texts import first_paint_texts
from components.figures import output_by_kind_figure, output_by_market_figure
from components.site_table import search_sites, site_table, table_rows
from core.runtime import db, services
from data.fleet import site_frame
from security.scope import filter_site_frame

IDS = {
    "refresh": "ov-socket", "push": "ov-push", "conn": "ov-conn", "updated": "ov-updated", "kpi_output": "ov-kpi-output", "kpi_energy": "ov-kpi-energy",
    "kpi_sites": "ov-kpi-sites", "kpi_assets": "ov-kpi-assets", "by_kind": "ov-by-kind", "by_market": "ov-by-market",
    "search": "ov-search", "kinds": "ov-kinds", "table_wrap": "ov-table-wrap", "table": "ov-site-table",
}


def overview_view(search: str | None, kinds: list[str] | None, theme: str | None) -> dict[str, Any]:
    """Return every piece of the overview: the fleet KPI texts (``kpi``, as the push carries them),
    the asset count, the charts and the site table for the current fleet state and filters."""
    with db().read_session() as session:
        sites = filter_site_frame(site_frame(session))  # the caller's portfolio scope
    stale_min = services().settings.stale_after_s / 60
    view: dict[str, Any] = {
        "kpi": first_paint_texts("fleet"),
        "reporting_detail": f"sites with data in the last {stale_min:g} min",
        "assets": f"{int(sites['assets'].sum()) if sites.height else 0:,}",
        "assets_detail": "inverters, turbines, batteries, meters",
    }
    view["by_kind"] = output_by_kind_figure(sites, theme)
    view["by_market"] = output_by_market_figure(sites, theme)
    view["rows"] = table_rows(search_sites(sites, search, kinds))
    view["table"] = site_table(IDS["table"], view["rows"])
    return view


def register(app: Dash) -> None:
    """Attach the overview callbacks to ``app``."""
    # KPI tiles follow the live hub's pushes in the browser (assets/live_push.js), no round trip
    app.clientside_callback(
        ClientsideFunction("fleetlight_live", "applyOverview"),
        Output(IDS["push"], "data"), Input(IDS["refresh"], "data-overview_kpis"),
    )
    app.clientside_callback(
        ClientsideFunction("fleetlight_live", "connection"),
        Output(IDS["conn"], "children"), Input(IDS["refresh"], "connected"),
    )

    # charts, table and asset count follow the hub's nudge (overview_refresh) and the filters; the
    # KPI texts are never re-rendered here: they come by push only
    @app.callback(
        Output(IDS["kpi_assets"] + "-value", "children"),
        Output(IDS["by_kind"], "figure"), Output(IDS["by_market"], "figure"), Output(IDS["table"], "rowData"),
        Input(IDS["refresh"], "data-overview_refresh"), Input(IDS["search"], "value"), Input(IDS["kinds"], "value"),
        Input("shell-theme", "data"),
        prevent_initial_call=True,
    )
    def refresh(_n: int | None, search: str | None, kinds: list[str] | None, theme: str | None):
        v = overview_view(search, kinds, theme)
        return v["assets"], v["by_kind"], v["by_market"], v["rows"]
