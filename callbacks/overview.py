"""Overview callbacks: refresh of KPIs, charts and the site table; search and type filter."""
from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Dash, Input, Output

from components.figures import output_by_kind_figure, output_by_market_figure
from components.site_table import search_sites, site_table, table_rows
from core.runtime import db
from data.fleet import FleetKpis, energy_today_mwh, fleet_kpis, site_frame
from security.scope import filter_site_frame

IDS = {
    "refresh": "ov-socket", "push": "ov-push", "conn": "ov-conn", "updated": "ov-updated", "kpi_output": "ov-kpi-output", "kpi_energy": "ov-kpi-energy",
    "kpi_sites": "ov-kpi-sites", "kpi_assets": "ov-kpi-assets", "by_kind": "ov-by-kind", "by_market": "ov-by-market",
    "search": "ov-search", "kinds": "ov-kinds", "table_wrap": "ov-table-wrap", "table": "ov-site-table",
}


def format_kpis(k: FleetKpis) -> dict[str, str]:
    """Return the KPI tile texts for ``k``."""
    return {
        "output": f"{k.output_mw:,.1f} MW",
        "output_detail": f"{k.output_pct:.1f} % of {k.capacity_mw:,.0f} MW capacity",
        "energy": f"{k.energy_today_mwh:,.1f} MWh",
        "energy_detail": "since 00:00 UTC, from daily rollups",
        "reporting": f"{k.sites_reporting:,} / {k.sites:,}",
        "reporting_detail": "sites with data in the last 15 min",
        "assets": f"{k.assets:,}",
        "assets_detail": "inverters, turbines, batteries, meters",
        "updated": "last data " + (k.last_update.strftime("%Y-%m-%d %H:%M:%S UTC") if k.last_update else "— none yet"),
    }


def overview_view(search: str | None, kinds: list[str] | None, theme: str | None) -> dict[str, Any]:
    """Return every piece of the overview for the current fleet state and filters."""
    with db().read_session() as session:
        sites = filter_site_frame(site_frame(session))  # the caller's portfolio scope
        energy = energy_today_mwh(session)
    view: dict[str, Any] = format_kpis(fleet_kpis(sites, energy))
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

    @app.callback(
        Output(IDS["kpi_output"] + "-value", "children"), Output(IDS["kpi_output"] + "-detail", "children"),
        Output(IDS["kpi_energy"] + "-value", "children"), Output(IDS["kpi_sites"] + "-value", "children"),
        Output(IDS["kpi_assets"] + "-value", "children"), Output(IDS["updated"], "children"),
        Output(IDS["by_kind"], "figure"), Output(IDS["by_market"], "figure"), Output(IDS["table"], "rowData"),
        Input(IDS["refresh"], "data-overview_refresh"), Input(IDS["search"], "value"), Input(IDS["kinds"], "value"),
        Input("shell-theme", "data"),
        prevent_initial_call=True,
    )
    def refresh(_n: int | None, search: str | None, kinds: list[str] | None, theme: str | None):
        v = overview_view(search, kinds, theme)
        return (v["output"], v["output_detail"], v["energy"], v["reporting"], v["assets"], v["updated"],
                v["by_kind"], v["by_market"], v["rows"])
