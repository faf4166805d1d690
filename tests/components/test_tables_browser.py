"""The data table in a real headless Chromium (/live): sorting by a header, the search filter, and
CSV / Excel exports holding exactly the rows and numbers the grid shows."""
from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from dash.testing.wait import until
from openpyxl import load_workbook

from data.models import utcnow
from ingest.validation import ValidPoint
from tests.support.browser_logs import page_errors

pytestmark = pytest.mark.browser

SHOWN = """
const grid = document.getElementById(arguments[0]);
if (!grid) return {heads: [], rows: []};
const rows = Array.from(grid.querySelectorAll('.ag-center-cols-container .ag-row'))
  .sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')));
const heads = Array.from(grid.querySelectorAll('.ag-header-cell[col-id]')).map(h => [h.getAttribute('col-id'), h.innerText.trim()]);
return {heads: heads, rows: rows.map(r => {
  const out = {}; r.querySelectorAll('[col-id]').forEach(c => { out[c.getAttribute('col-id')] = c.innerText.trim(); }); return out; })};
"""


def _shown(dash_duo, grid: str) -> dict:
    return dash_duo.driver.execute_script(SHOWN, grid)


def _number(text: str) -> float | None:
    return None if text in ("", "—") else float(text.replace(",", ""))


def _download(dash_duo, button: str, suffix: str, before: set[str]) -> Path:
    dash_duo.find_element(button).click()
    folder = Path(dash_duo.download_path)
    until(lambda: any(p.name.endswith(suffix) and p.name not in before for p in folder.iterdir()), timeout=10)
    path = next(p for p in folder.iterdir() if p.name.endswith(suffix) and p.name not in before)
    time.sleep(0.2)  # the browser renames the finished file into place; let it close
    return path


def _check_file(matrix: list[list], shown: dict) -> None:
    """The file's header has the grid's header texts, and its rows the grid's rows, cell for cell."""
    titles = dict(shown["heads"])
    header = matrix[0]
    assert header[:4] == [titles["name_link"], titles["kind"], titles["market"], titles["output_mw"]] == [
        "Site", "Type", "Market", "Output (MW)"]
    assert len(matrix) - 1 == len(shown["rows"])
    numeric = {"output_mw": 3, "expected_mw": 4, "performance_pct": 5, "cf_pct": 6, "energy_today_mwh": 7}
    for line, row in zip(matrix[1:], shown["rows"], strict=True):
        assert line[0] == row["name_link"] and line[1] == row["kind"] and line[8] == row["status"]
        for col, index in numeric.items():
            cell = line[index]
            value = None if cell in ("", None) else float(cell)
            assert value == _number(row[col]), (col, cell, row[col])


def test_live_table_sorts_filters_and_exports_what_it_shows(dash_duo, dash_app, live_hub, small_fleet, browser_sign_in):
    now = utcnow().replace(microsecond=0)
    small_fleet.ingest.submit_points([ValidPoint("t-sol-INV-01", "power_kw", now, 1234.5),
                                      ValidPoint("t-sol-INV-02", "power_kw", now, 1000.0),
                                      ValidPoint("t-wind-WTG-01", "power_kw", now, 480.0)], "test")
    browser_sign_in("viewer", "/live")
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": dash_duo.download_path})
    until(lambda: [r.get("output_mw") for r in _shown(dash_duo, "lv-site-grid")["rows"]] == ["2.23", "0.48"], timeout=15)

    # sorting: a click on the Output header sorts ascending, a second descending
    header = '#lv-site-grid .ag-header-cell[col-id="output_mw"] .ag-header-cell-label'
    dash_duo.find_element(header).click()
    until(lambda: [r["output_mw"] for r in _shown(dash_duo, "lv-site-grid")["rows"]] == ["0.48", "2.23"], timeout=5)
    dash_duo.find_element(header).click()
    until(lambda: [r["output_mw"] for r in _shown(dash_duo, "lv-site-grid")["rows"]] == ["2.23", "0.48"], timeout=5)

    before: set[str] = set()
    path = _download(dash_duo, "#" + _button_id("csv"), ".csv", before)
    before.add(path.name)
    _check_file(list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))), _shown(dash_duo, "lv-site-grid"))

    # filtered: the export holds only the rows the filter leaves
    dash_duo.find_element("#lv-filter").send_keys("wind")
    until(lambda: [r["name_link"] for r in _shown(dash_duo, "lv-site-grid")["rows"]] == ["Test Wind"], timeout=5)
    path = _download(dash_duo, "#" + _button_id("xlsx"), ".xlsx", before)
    sheet = load_workbook(path).active
    matrix = [[c.value for c in row] for row in sheet.iter_rows()]
    _check_file(matrix, _shown(dash_duo, "lv-site-grid"))
    assert [line[0] for line in matrix[1:]] == ["Test Wind"]
    logs = page_errors(dash_duo)
    assert logs == [], logs


def _button_id(fmt: str) -> str:
    """Return a CSS id selector body for the pattern-matching export button of the live grid."""
    import json

    ident = json.dumps({"table": "lv-site-grid", "type": f"fl-table-{fmt}"}, separators=(",", ":"))
    return "".join("\\" + ch if not ch.isalnum() and ch not in "-_" else ch for ch in ident)
