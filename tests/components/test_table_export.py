"""Table export (components.table_export): headers with units, the page's rounding, both formats."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from components.data_table import Column, column_def
from components.table_export import cell_value, export_file, table_matrix

COLUMNS = [Column("name", "Site", link="name_link"), Column("output_mw", "Output", "MW", decimals=2),
           Column("perf", "Perf.", "%", decimals=0), Column("status", "Status")]
SPECS = [c.export_spec() for c in COLUMNS]
ROWS = [{"name": "Solar 1", "name_link": "[Solar 1](/sites/s1)", "output_mw": 1.23456, "perf": 97.6, "status": "producing"},
        {"name": "=HYPERLINK(\"x\")", "output_mw": None, "perf": float("nan"), "status": None}]


def test_headers_carry_units_and_numbers_the_page_precision():
    matrix = table_matrix(SPECS, ROWS)
    assert matrix[0] == ["Site", "Output (MW)", "Perf. (%)", "Status"]
    assert matrix[1] == ["Solar 1", 1.23, 98, "producing"]
    # missing and non-finite numbers are empty; a formula-looking text is not run by a spreadsheet
    assert matrix[2] == ["'=HYPERLINK(\"x\")", None, None, ""]
    assert cell_value(True, 2) is None and cell_value("3.456", 1) == 3.5


def test_csv_and_xlsx_hold_the_same_cells():
    now = dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC)
    data, name = export_file("lv-site-grid", "csv", SPECS, ROWS, now)
    assert name == "lv-site-grid-20261204T0100Z.csv"
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == ["Site", "Output (MW)", "Perf. (%)", "Status"] and lines[1] == ["Solar 1", "1.23", "98", "producing"]
    xdata, xname = export_file("lv-site-grid", "xlsx", SPECS, ROWS, now)
    assert xname.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(xdata)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0] == lines[0] and cells[1] == ["Solar 1", 1.23, 98, "producing"]
    assert sheet["B2"].number_format == "#,##0.00" and sheet["C2"].number_format == "#,##0"
    with pytest.raises(ValueError):
        export_file("t", "pdf", SPECS, ROWS)


def test_column_definitions_format_as_they_export():
    output = column_def(COLUMNS[1])
    assert output["headerName"] == "Output (MW)" and output["filter"] == "agNumberColumnFilter"
    assert "d3.format(',.2f')" in output["valueFormatter"]["function"]
    link = column_def(COLUMNS[0])
    assert link["field"] == "name_link" and link["cellRenderer"] == "markdown" and SPECS[0]["field"] == "name"
