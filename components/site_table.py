"""The sortable, searchable site table (AG Grid)."""
from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import polars as pl

from components.theme import STATUS_COLORS

COLUMN_DEFS = [
    {"field": "name", "headerName": "Site", "cellRenderer": "markdown", "minWidth": 190, "flex": 2},
    {"field": "kind", "headerName": "Type", "minWidth": 105, "flex": 0.8},
    {"field": "market", "headerName": "Market", "minWidth": 100, "flex": 0.8},
    {"field": "pricing_node", "headerName": "Node", "minWidth": 160, "flex": 1.3},
    {"field": "region", "headerName": "Region", "minWidth": 150, "flex": 1.3},
    {"field": "capacity_mw", "headerName": "Cap. MW", "type": "rightAligned", "minWidth": 105, "flex": 0.8,
     "valueFormatter": {"function": "d3.format(',.1f')(params.value)"}},
    {"field": "output_mw", "headerName": "Out MW", "type": "rightAligned", "minWidth": 100, "flex": 0.8,
     "valueFormatter": {"function": "params.value == null ? '—' : d3.format(',.2f')(params.value)"}},
    {"field": "load_pct", "headerName": "% cap", "type": "rightAligned", "minWidth": 90, "flex": 0.6,
     "valueFormatter": {"function": "params.value == null ? '—' : d3.format('.0f')(params.value)"}},
    {"field": "status", "headerName": "Status", "minWidth": 110, "flex": 0.8,
     "cellStyle": {"styleConditions": [
         {"condition": f"params.value === '{status}'", "style": {"boxShadow": f"inset 4px 0 0 {color}", "fontWeight": 600}}
         for status, color in STATUS_COLORS.items()]}},
    {"field": "last_seen", "headerName": "Last update (UTC)", "minWidth": 165, "flex": 1.1},
    {"field": "origin", "headerName": "Data", "minWidth": 120, "flex": 0.9,
     "cellStyle": {"styleConditions": [{"condition": "params.value === 'derived demo'",
                                         "style": {"fontStyle": "italic", "opacity": 0.75}}]}},
]


def search_sites(sites: pl.DataFrame, text: str | None, kinds: list[str] | None) -> pl.DataFrame:
    """Return the sites whose id, name, region, market or node contains ``text``, of ``kinds``."""
    if text:
        needle = text.strip().lower()
        sites = sites.filter(
            pl.concat_str(["site_id", "name", "region", "market", "pricing_node"], separator=" ", ignore_nulls=True)
            .str.to_lowercase().str.contains(needle, literal=True)
        )
    if kinds:
        sites = sites.filter(pl.col("kind").is_in(kinds))
    return sites


def table_rows(sites: pl.DataFrame) -> list[dict[str, Any]]:
    """Return grid rows (site name linking to its page, load %, origin label), largest first."""
    rows = []
    for r in sites.sort("capacity_mw", descending=True).iter_rows(named=True):
        out = r["output_mw"]
        rows.append({
            "site_id": r["site_id"],
            "name": f"[{r['name']}](/sites/{r['site_id']})",
            "kind": r["kind"], "market": r["market"], "pricing_node": r["pricing_node"], "region": r["region"],
            "capacity_mw": r["capacity_mw"], "output_mw": out,
            "load_pct": None if out is None or not r["capacity_mw"] else 100.0 * out / r["capacity_mw"],
            "status": r["status"],
            "last_seen": r["last_update"].strftime("%Y-%m-%d %H:%M:%S") if r["last_update"] else "never",
            "origin": "derived demo" if r["data_origin"] == "derived" else "measured",
        })
    return rows


def site_table(table_id: str, rows: list[dict[str, Any]]) -> dag.AgGrid:
    """Return the grid with sorting, paging and resizable columns."""
    return dag.AgGrid(
        id=table_id,
        columnDefs=COLUMN_DEFS,
        rowData=rows,
        getRowId="params.data.site_id",
        defaultColDef={"sortable": True, "resizable": True, "filter": True, "suppressHeaderMenuButton": True},
        dashGridOptions={"pagination": True, "paginationPageSize": 20, "animateRows": False,
                         "domLayout": "autoHeight", "suppressCellFocus": True},
        style={"width": "100%"},
        className="site-grid",
    )
