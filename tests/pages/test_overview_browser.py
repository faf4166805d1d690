"""The overview and site pages in a real headless Chromium."""
from __future__ import annotations

import datetime as dt

import pytest

from ingest.validation import ValidPoint

pytestmark = pytest.mark.browser


@pytest.fixture()
def live_fleet(small_fleet, live_hub):
    from data.models import Alert

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    points = [ValidPoint(a, "power_kw", now - dt.timedelta(minutes=m), 500.0 + m)
              for a in ("t-sol-INV-01", "t-sol-INV-02", "t-wind-WTG-01") for m in range(0, 60, 5)]
    points.append(ValidPoint("t-wind-WTG-02", "wind_speed_ms", now, 9.5))
    with small_fleet.db.session() as s:
        s.add(Alert(site_id="t-wind", rule="underperformance", severity="warning", title="WTG-02 below power curve"))
    small_fleet.ingest.submit_points(points, "test")
    return small_fleet


def test_overview_shows_kpis_and_searchable_table(dash_duo, dash_app, live_fleet, browser_sign_in):
    browser_sign_in("viewer", "/")
    dash_duo.wait_for_text_to_equal("#ov-kpi-output-value", "1.5 MW", timeout=10)
    assert "of 7.0 MW capacity" in dash_duo.find_element("#ov-kpi-output-detail").text
    assert dash_duo.find_element("#ov-kpi-sites-value").text == "2 of 2"
    dash_duo.wait_for_contains_text("#ov-site-table", "Test Solar")
    assert "derived demo" in dash_duo.find_element("#ov-site-table").text
    search = dash_duo.find_element("#ov-search")
    search.send_keys("wind\n")
    dash_duo.wait_for_contains_text("#ov-site-table", "Test Wind")
    from dash.testing.wait import until

    until(lambda: "Test Solar" not in dash_duo.find_element("#ov-site-table").text, timeout=5)
    assert dash_duo.get_logs() == [] or all(e["level"] != "SEVERE" for e in dash_duo.get_logs())


def test_site_page_and_not_found(dash_duo, dash_app, live_fleet, browser_sign_in):
    browser_sign_in("viewer", "/")
    dash_duo.wait_for_contains_text("#ov-site-table", "Test Wind", timeout=10)
    link = dash_duo.wait_for_element("#ov-site-table a[href='/sites/t-wind']")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    link.click()
    dash_duo.wait_for_text_to_equal("#site-title", "Test Wind", timeout=10)
    assert "measured data" in dash_duo.driver.page_source
    from domain.status import STATUSES

    # the status tile names the site's status (it read empty: the text was taken for an enum)
    assert dash_duo.find_element("#site-kpi-status-value").text in STATUSES
    dash_duo.wait_for_contains_text("#site-assets", "t-wind-WTG-01")
    assert "9.5 m/s" in dash_duo.find_element("#site-weather").text
    assert "WTG-02 below power curve" in dash_duo.find_element("#site-alerts").text
    dash_duo.driver.get(dash_duo.server.url + "/sites/does-not-exist")
    dash_duo.wait_for_contains_text("#site-not-found", "Site not found", timeout=10)


def test_overview_search_follows_typing_and_header_follows_the_banner(dash_duo, dash_app, live_fleet, browser_sign_in):
    from dash.testing.wait import until

    browser_sign_in("viewer", "/")
    dash_duo.wait_for_contains_text("#ov-site-table", "Test Solar", timeout=10)
    assert "Filters as you type" in dash_duo.find_element("#ov-search-hint").text
    dash_duo.find_element("#ov-search").send_keys("wind")  # no Enter, no blur
    until(lambda: "Test Solar" not in dash_duo.find_element("#ov-site-table").text, timeout=5)
    assert "Test Wind" in dash_duo.find_element("#ov-site-table").text

    # connected: the header says live; when the feed drops, the header says what the banner says
    until(lambda: dash_duo.find_element("#ov-conn").text == "live", timeout=10)
    dash_duo.driver.execute_script("window.dash_clientside.fleetlight_live.connection(false);")
    state = dash_duo.driver.execute_script("return document.getElementById('fl-live-banner').dataset.state;")
    assert state == "disconnected"
    assert "Disconnected" in dash_duo.find_element("#fl-live-banner").text
    assert dash_duo.find_element("#ov-conn").text == "disconnected"
    dash_duo.driver.execute_script("window.dash_clientside.fleetlight_live.connection(true);")
    until(lambda: dash_duo.find_element("#ov-conn").text == "live", timeout=5)
