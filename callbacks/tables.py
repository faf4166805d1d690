"""Table export callbacks (every ``components.data_table`` table): the browser collects the rows
the grid shows after its filters and sort, the server writes them as CSV or Excel."""
from __future__ import annotations

from typing import Any

from dash import MATCH, Dash, Input, Output, State, dcc, no_update

from components.data_table import export_id
from components.table_export import export_file
from security.guard import ANY_SIGNED_IN, register_callback_owner

# the rows shown: AG Grid's nodes after filter and sort (a push-fed grid included), with the format
COLLECT_ROWS = """
function(csvClicks, xlsxClicks) {
    const ctx = window.dash_clientside.callback_context;
    if (!ctx.triggered.length || !ctx.triggered[0].value) return window.dash_clientside.no_update;
    const id = JSON.parse(ctx.triggered[0].prop_id.split('.')[0]);
    const api = window.dash_ag_grid && window.dash_ag_grid.getApi(id.table);
    if (!api) return window.dash_clientside.no_update;
    const rows = [];
    api.forEachNodeAfterFilterAndSort((node) => { if (node.data) rows.push(node.data); });
    return {format: id.type === 'fl-table-xlsx' ? 'xlsx' : 'csv', rows: rows, at: Date.now()};
}
"""


def download_for(table_id: str, request: dict[str, Any] | None, columns: list[dict[str, Any]] | None) -> Any:
    """Return the ``dcc.Download`` data of an export request ({format, rows}) of ``table_id``."""
    if not request or not columns:
        return no_update
    content, filename = export_file(table_id, str(request.get("format")), columns, list(request.get("rows") or []))
    return dcc.send_bytes(content, filename)


def register(app: Dash) -> None:
    """Attach the export callbacks of every data table to ``app``. Any signed-in caller may run them:
    they write back the rows the caller's own browser sent, reading nothing from the store."""
    register_callback_owner(__name__, ANY_SIGNED_IN)
    app.clientside_callback(
        COLLECT_ROWS,
        Output(export_id("request", MATCH), "data"),
        Input(export_id("csv", MATCH), "n_clicks"), Input(export_id("xlsx", MATCH), "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(export_id("download", MATCH), "data"),
        Input(export_id("request", MATCH), "data"), State(export_id("columns", MATCH), "data"),
        State(export_id("request", MATCH), "id"), prevent_initial_call=True,
    )
    def download(request: dict[str, Any] | None, columns: list[dict[str, Any]] | None, ident: dict[str, str]):
        return download_for(ident["table"], request, columns)
