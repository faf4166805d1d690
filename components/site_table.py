"""The sortable, searchable site table."""
from __future__ import annotations

from typing import Any

import polars as pl
from dash import dash_table

from components.theme import STATUS_COLORS

COLUMNS = [
    {"id": "name", "name": "Site", "presentation": "markdown"},
    {"id": "kind", "name": "Type"},
    {"id": "market", "name": "Market"},
    {"id": "pricing_node", "name": "Node"},
    {"id": "region", "name": "Region"},
    {"id": "capacity_mw", "name": "Capacity MW", "type": "numeric", "format": {"specifier": ",.1f"}},
    {"id": "output_mw", "name": "Output MW", "type": "numeric", "format": {"specifier": ",.2f"}},
    {"id": "load_pct", "name": "% cap", "type": "numeric", "format": {"specifier": ".0f"}},
    {"id": "status", "name": "Status"},
    {"id": "last_seen", "name": "Last update (UTC)"},
    {"id": "origin", "name": "Data"},
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
    """Return DataTable rows (site name linking to its page, load %, origin label)."""
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


def site_table(table_id: str, rows: list[dict[str, Any]]) -> dash_table.DataTable:
    """Return the DataTable with native sorting and paging, status colour-coded."""
    return dash_table.DataTable(
        id=table_id,
        columns=COLUMNS,
        data=rows,
        sort_action="native",
        sort_mode="multi",
        page_action="native",
        page_size=20,
        markdown_options={"link_target": "_self"},
        style_as_list_view=True,
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": "inherit", "fontSize": "0.85rem", "padding": "6px 10px",
                    "backgroundColor": "transparent", "color": "var(--bs-body-color)", "textAlign": "left"},
        style_header={"fontWeight": "600", "backgroundColor": "var(--bs-tertiary-bg)",
                      "borderBottom": "2px solid var(--bs-border-color)"},
        style_data_conditional=[
            {"if": {"filter_query": f'{{status}} = "{status}"', "column_id": "status"},
             "color": color, "fontWeight": "600"}
            for status, color in STATUS_COLORS.items()
        ] + [{"if": {"filter_query": '{origin} = "derived demo"', "column_id": "origin"},
              "fontStyle": "italic", "color": "var(--bs-secondary-color)"}],
    )
