"""Chart downloads in a real headless Chromium: the overview's chart saves as PNG and as SVG, and
its tooltip names the unit."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from dash.testing.wait import until

from data.models import utcnow
from ingest.validation import ValidPoint
from tests.support.browser_logs import page_errors

pytestmark = pytest.mark.browser


def _css_id(ident: dict) -> str:
    text = json.dumps(ident, sort_keys=True, separators=(",", ":"))
    return "#" + "".join("\\" + ch if not ch.isalnum() and ch not in "-_" else ch for ch in text)


def test_overview_chart_downloads_png_and_svg(dash_duo, dash_app, small_fleet, browser_sign_in):
    small_fleet.ingest.submit_points([ValidPoint("t-sol-INV-01", "power_kw", utcnow().replace(microsecond=0), 800.0)],
                                     "test")
    browser_sign_in("viewer", "/")
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": dash_duo.download_path})
    dash_duo.wait_for_element("#ov-by-kind .main-svg", timeout=15)
    folder = Path(dash_duo.download_path)
    for fmt, magic in (("svg", b"<svg"), ("png", b"\x89PNG")):
        dash_duo.find_element(_css_id({"graph": "ov-by-kind", "type": f"fl-chart-{fmt}"})).click()
        until(lambda f=fmt: (folder / f"output-by-type.{f}").exists(), timeout=10)
        until(lambda f=fmt, m=magic: (folder / f"output-by-type.{f}").read_bytes()[:len(m)] == m, timeout=5)
    svg = (folder / "output-by-type.svg").read_text()
    assert "Output vs capacity by type" in svg  # the figure as drawn, title included
    templates = dash_duo.driver.execute_script(
        "return document.querySelector('#ov-by-kind .js-plotly-plot').data.map(t => t.hovertemplate);")
    assert all("MW" in t for t in templates), templates
    logs = page_errors(dash_duo)
    assert logs == [], logs
