"""The alerts page in two real headless Chromiums: an operator acknowledges an alert in one and the
other sees it acknowledged by push (no reload); a viewer sees no buttons and the server refuses
the action; a new alert raised on the bus appears without reload."""
from __future__ import annotations

import pytest
from dash.testing.wait import until
from selenium import webdriver

from alerts.lifecycle import ALERT_CHANGED_TOPIC, AlertBook, Condition
from live.hub import push_alert_changed
from tests.conftest import BROWSER_PASSWORD, pytest_setup_options
from tests.support.fleet import SOLAR_ASSETS, WIND_ASSETS

pytestmark = pytest.mark.browser


def _cell(driver, alert_id: int, col: str) -> str:
    return driver.execute_script(
        "const el = document.querySelector(`#al-table .ag-center-cols-container .ag-row[row-id='${arguments[0]}'] "
        "[col-id='${arguments[1]}']`); return el ? el.innerText.trim() : '';", str(alert_id), col)


def _sign_in(driver, base: str, name: str) -> None:
    driver.get(base + "/login?next=/alerts")
    until(lambda: driver.find_elements("css selector", "#login-username"), timeout=15)
    driver.find_element("css selector", "#login-username").send_keys(name)
    driver.find_element("css selector", "#login-password").send_keys(BROWSER_PASSWORD)
    driver.find_element("css selector", "#login-submit").click()


@pytest.fixture()
def book(live_hub, small_fleet):
    """The lifecycle on this test's services, its messages pushed to the alerts room as the app wires it."""
    svc = small_fleet
    alert_book = AlertBook(svc.db, svc.bus)
    svc.alert_book = alert_book
    svc.bus.subscribe(ALERT_CHANGED_TOPIC, lambda m: push_alert_changed(live_hub, m), group="live")
    return alert_book


def test_acknowledge_in_one_browser_shows_in_the_other_by_push(dash_duo, book, small_fleet, browser_sign_in):
    from data.models import Role
    from security.users import create_user

    first = book.raise_alert(Condition("threshold", None, "t-sol", SOLAR_ASSETS[0], "critical",
                                       "INV-01 temperature 81 °C", "above 75 for 10 min", "b:1"))
    browser_sign_in("operator", "/alerts")
    dash_duo.wait_for_contains_text("#al-table", "INV-01 temperature", timeout=15)
    create_user(small_fleet.db, "watcher", BROWSER_PASSWORD, Role.viewer)
    other = webdriver.Chrome(options=pytest_setup_options())
    try:
        _sign_in(other, dash_duo.server.url, "watcher")
        until(lambda: _cell(other, first, "state") == "open", timeout=20)
        # a viewer gets no buttons
        assert other.find_elements("css selector", "#al-ack") == []
        assert other.find_elements("css selector", "#al-r-save") == []
        until(lambda: other.execute_script(
            "const el = document.querySelector('#al-conn'); return el && el.innerText;") == "live", timeout=15)
        until(lambda: dash_duo.driver.execute_script(
            "const el = document.querySelector('#al-conn'); return el && el.innerText;") == "live", timeout=15)

        # the operator selects the row, writes a comment and acknowledges
        dash_duo.driver.execute_script(
            "document.querySelector(`#al-table .ag-center-cols-container .ag-row[row-id='${arguments[0]}'] "
            "[col-id='title']`).click();", str(first))
        dash_duo.wait_for_contains_text("#al-selected", "INV-01 temperature", timeout=10)
        dash_duo.find_element("#al-comment").send_keys("crew dispatched")
        dash_duo.driver.execute_script("document.querySelector('#al-ack').scrollIntoView(); "
                                       "document.querySelector('#al-ack').click();")
        dash_duo.wait_for_contains_text("#al-result", f"Alert #{first} acknowledged", timeout=10)

        # the other browser sees it acknowledged by push, without reload
        until(lambda: _cell(other, first, "state") == "acknowledged", timeout=10)
        assert _cell(other, first, "comments") == "crew dispatched"
        assert _cell(other, first, "by") == "browser-operator"

        # a new alert raised on the bus reaches both pages without reload
        second = book.raise_alert(Condition("comm_loss", None, "t-wind", WIND_ASSETS[0], "warning",
                                            "WTG-01: no telemetry", "", "b:2"))
        until(lambda: _cell(other, second, "state") == "open", timeout=10)
        until(lambda: _cell(dash_duo.driver, second, "state") == "open", timeout=10)
        logs = [e for e in dash_duo.get_logs() if e["level"] == "SEVERE"]
        assert logs == [], logs
    finally:
        other.quit()

