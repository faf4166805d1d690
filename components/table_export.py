"""Table export: the rows a table shows, written as CSV or an Excel workbook.

Pure functions over ``columns`` (``components.data_table.Column.export_spec``: field, title with
unit, decimals) and ``rows`` (the grid's rows after its filters and sort). A number is rounded to
its column's decimals, the precision the page shows, so the file holds the page's numbers; a
missing number is an empty cell. Text that a spreadsheet would run as a formula (starting with
``= + - @`` or a tab) is prefixed with an apostrophe.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def cell_value(value: Any, decimals: int | None) -> Any:
    """Return the exported value of one cell: a number rounded to ``decimals`` (None when missing or
    not a finite number), or text made safe for spreadsheets."""
    if decimals is not None:
        if value is None or isinstance(value, bool):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(number):
            return None
        return int(round(number)) if decimals == 0 else round(number, decimals)
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def table_matrix(columns: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[list[Any]]:
    """Return the header row (titles with units) followed by one list of cell values per row."""
    matrix: list[list[Any]] = [[str(c["title"]) for c in columns]]
    for row in rows:
        matrix.append([cell_value(row.get(c["field"]), c.get("decimals")) for c in columns])
    return matrix


def to_csv(columns: list[dict[str, Any]], rows: list[dict[str, Any]]) -> bytes:
    """Return the table as UTF-8 CSV with a byte-order mark (so spreadsheets read the units' symbols)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in table_matrix(columns, rows):
        writer.writerow(["" if v is None else v for v in line])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(columns: list[dict[str, Any]], rows: list[dict[str, Any]], sheet: str = "Table") -> bytes:
    """Return the table as an Excel workbook: bold frozen header, numbers as numbers in the page's format."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    matrix = table_matrix(columns, rows)
    ws.append(matrix[0])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    formats = [None if c.get("decimals") is None else ("#,##0" + ("." + "0" * c["decimals"] if c["decimals"] else ""))
               for c in columns]
    for line in matrix[1:]:
        ws.append(line)
        for cell, fmt in zip(ws[ws.max_row], formats, strict=True):
            if fmt and cell.value is not None:
                cell.number_format = fmt
    for index, title in enumerate(matrix[0], start=1):
        ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = max(10, min(40, len(title) + 2))
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_file(table_id: str, fmt: str, columns: list[dict[str, Any]], rows: list[dict[str, Any]],
                now: dt.datetime | None = None) -> tuple[bytes, str]:
    """Return (file bytes, file name) of the table in ``fmt`` ('csv' or 'xlsx'); ValueError otherwise."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%MZ")
    if fmt == "csv":
        return to_csv(columns, rows), f"{table_id}-{stamp}.csv"
    if fmt == "xlsx":
        return to_xlsx(columns, rows), f"{table_id}-{stamp}.xlsx"
    raise ValueError(f"unknown export format {fmt!r} (csv or xlsx)")
