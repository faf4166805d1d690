"""The site page's time range in a real headless Chromium: the range and its resolution come from
the URL, a preset link changes both, and the chart follows."""
from __future__ import annotations

import pytest
from dash.testing.wait import until

from tests.support.browser_logs import page_errors

pytestmark = pytest.mark.browser


def _title(dash_duo) -> str:
    return dash_duo.driver.execute_script(
        "const gd = document.querySelector('#site-chart .js-plotly-plot');"
        "return gd && gd.layout && gd.layout.title ? (gd.layout.title.text || gd.layout.title) : '';")


def test_site_page_range_from_the_url_and_presets(dash_duo, dash_app, small_fleet, browser_sign_in):
    browser_sign_in("viewer", "/sites/t-sol?range=7d")
    dash_duo.wait_for_contains_text("#site-range-resolution", "hourly mean", timeout=15)
    assert "last 7 d" in dash_duo.find_element("#site-range-resolution").text
    until(lambda: "last 7 d" in _title(dash_duo) and "hourly mean" in _title(dash_duo), timeout=10)
    assert "btn-secondary" in dash_duo.find_element("#site-range-preset-7d").get_attribute("class")

    dash_duo.find_element("#site-range-preset-90d").click()
    until(lambda: dash_duo.driver.current_url.endswith("/sites/t-sol?range=90d"), timeout=10)
    dash_duo.wait_for_contains_text("#site-range-resolution", "daily mean", timeout=10)
    until(lambda: "last 90 d" in _title(dash_duo), timeout=10)

    # a shared link with a custom range opens that range
    dash_duo.driver.get(dash_duo.server.url + "/sites/t-sol?from=2026-11-01&to=2026-11-02")
    dash_duo.wait_for_contains_text("#site-range-resolution", "2026-11-01 → 2026-11-02 (UTC)", timeout=15)
    assert "15-min mean" in dash_duo.find_element("#site-range-resolution").text
    logs = page_errors(dash_duo)
    assert logs == [], logs
