"""The one table of the app: a sortable, filterable AG Grid with units in its headers, formatted
numbers, an empty state that says why, and CSV / Excel export of exactly the rows shown.

A table is declared by its :class:`Column` list. Numbers are formatted in the browser with the
column's ``decimals`` (d3 format ``,.Nf``) and exported rounded to the same decimals
(``components.table_export``), so a spreadsheet holds the numbers the page shows. The export
buttons hand the grid's rows after its filters and sort (``forEachNodeAfterFilterAndSort``) to the
server (``callbacks.tables``), which writes the file; a grid fed by pushes in the browser
(/live, /markets) exports what it shows just the same.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

EXPORT_FORMATS = ("csv", "xlsx")
NO_MATCH = "No rows match the filters: clear a column filter or the search to see every row."


def export_id(kind: str, table_id: str) -> dict[str, str]:
    """Return the pattern-matching id of a table's export part ``kind`` (csv, xlsx, request, columns, download)."""
    return {"type": f"fl-table-{kind}", "table": table_id}


@dataclass(frozen=True)
class Column:
    """One column: ``field`` of the row, ``header`` without unit, ``unit`` (shown in the header),
    ``decimals`` (a number column when set), ``link`` (the row field holding the markdown link the
    cell shows, ``[text](href)``; sorting sorts it, the export writes ``field``), ``min_width`` in px, ``flex`` share of spare width, and ``status_colors``
    ((value, css colour), ...) for a status column (a coloured bar beside the text, which keeps the
    body colour so it reads in both themes), ``cell_class_rules`` ((css class, AG Grid expression), ...)."""

    field: str
    header: str
    unit: str | None = None
    decimals: int | None = None
    link: str | None = None
    min_width: int = 90
    flex: float = 1.0
    status_colors: tuple[tuple[str, str], ...] = ()
    cell_class_rules: tuple[tuple[str, str], ...] = ()

    @property
    def title(self) -> str:
        """Return the header text: ``header (unit)`` or ``header``."""
        return f"{self.header} ({self.unit})" if self.unit else self.header

    @property
    def numeric(self) -> bool:
        """Return True for a number column."""
        return self.decimals is not None

    def export_spec(self) -> dict[str, Any]:
        """Return what the export needs of this column: field, title, decimals."""
        return {"field": self.field, "title": self.title, "decimals": self.decimals}


def column_def(col: Column) -> dict[str, Any]:
    """Return the AG Grid column definition of ``col``."""
    spec: dict[str, Any] = {"field": col.field, "headerName": col.title, "minWidth": col.min_width, "flex": col.flex,
                            "headerTooltip": col.title}
    if col.numeric:
        spec.update(type="rightAligned", filter="agNumberColumnFilter", valueFormatter={
            "function": f"params.value == null ? '—' : d3.format(',.{col.decimals}f')(params.value)"})
    else:
        spec.update(filter="agTextColumnFilter")
    if col.link:  # the cell shows the row's markdown link ``link``; export takes ``field``
        spec.update(field=col.link, cellRenderer="markdown")
    if col.status_colors:
        spec["cellStyle"] = {"styleConditions": [
            {"condition": f"params.value === '{value}'", "style": {"boxShadow": f"inset 4px 0 0 {color}", "fontWeight": 600}}
            for value, color in col.status_colors]}
    if col.cell_class_rules:
        spec["cellClassRules"] = dict(col.cell_class_rules)
    return spec


def data_table(table_id: str, columns: list[Column], rows: list[dict[str, Any]] | None, empty_text: str, *,
               row_id: str = "id", page_size: int | None = None, height: str | None = None,
               grid_options: dict[str, Any] | None = None, toolbar: Any = None) -> html.Div:
    """Return the table ``table_id``: toolbar (``toolbar`` on the left, row count, CSV and Excel buttons),
    the grid and its export plumbing. ``empty_text`` is what the grid says when it has no rows at
    all (why: no data yet, nothing configured, nothing in this range), and :data:`NO_MATCH` when
    filters hide every row (``assets/tables.js`` keeps it current as rows change in the browser). ``height`` (css) gives a scrolling grid; None grows with its rows (or pages of
    ``page_size``). ``rows`` None: the browser sets them through the grid's api (a push-fed grid; a
    ``rowData`` prop would overwrite them when the grid finishes mounting)."""
    options: dict[str, Any] = {"animateRows": False, "suppressCellFocus": True, "enableCellTextSelection": True,
                               "tooltipShowDelay": 400, "suppressNoRowsOverlay": True}
    if page_size:
        options.update(pagination=True, paginationPageSize=page_size)
    if height is None:
        options["domLayout"] = "autoHeight"
    if rows is None:
        options["loading"] = False  # the empty state says why until the browser writes rows
    options.update(grid_options or {})
    fed: dict[str, Any] = {} if rows is None else {"rowData": rows}  # None: rows come from the browser (pushes)
    grid = dag.AgGrid(
        id=table_id, columnDefs=[column_def(c) for c in columns], **fed,
        getRowId=f"params.data.{row_id}",
        defaultColDef={"sortable": True, "resizable": True, "filter": True, "floatingFilter": False,
                       "suppressHeaderMenuButton": False},
        dashGridOptions=options, eventListeners={"modelUpdated": [f"flTableState(params, '{table_id}')"]}, style={"width": "100%", "height": height} if height else {"width": "100%"},
        className="fl-grid",
    )
    buttons = dbc.ButtonGroup([
        dbc.Button([html.I(className="bi bi-filetype-csv me-1"), "CSV"], id=export_id("csv", table_id), size="sm",
                   color="secondary", outline=True, title="Download the rows shown (filters and sort applied) as CSV"),
        dbc.Button([html.I(className="bi bi-file-earmark-spreadsheet me-1"), "Excel"], id=export_id("xlsx", table_id),
                   size="sm", color="secondary", outline=True,
                   title="Download the rows shown (filters and sort applied) as an Excel workbook"),
    ], size="sm")
    return html.Div([
        html.Div([html.Div(toolbar, className="flex-grow-1"), buttons],
                 className="d-flex align-items-center gap-2 mb-2 fl-table-toolbar"),
        html.Div(empty_text if rows == [] else "", id=f"{table_id}-empty", role="status",
                 className="fl-table-empty small py-2" + ("" if rows == [] else " d-none"),
                 **{"data-empty": empty_text, "data-no-match": NO_MATCH}),
        grid,
        dcc.Store(id=export_id("columns", table_id), data=[c.export_spec() for c in columns]),
        dcc.Store(id=export_id("request", table_id)),
        dcc.Download(id=export_id("download", table_id)),
    ], className="fl-table", id=f"{table_id}-wrap")

