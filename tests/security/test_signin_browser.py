"""Sign-in in headless Chromium: the form, the overview, sign-out, a viewer kept out of /admin,
and no Content-Security-Policy violation on the way."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _csp_violations(dash_duo) -> list[str]:
    return [e["message"] for e in dash_duo.driver.get_log("browser") if "Content Security Policy" in e["message"]]


def test_sign_in_overview_sign_out(dash_duo, dash_app, small_fleet, browser_sign_in):
    dash_duo_url = None
    browser_sign_in("viewer", "/")
    dash_duo.wait_for_element("#ov-kpi-output-value", timeout=15)
    dash_duo.wait_for_contains_text("#ov-site-table", "Test Solar", timeout=10)
    dash_duo.wait_for_element("#ov-by-kind .main-svg", timeout=10)  # plotly renders under the CSP
    nav = dash_duo.find_element(".shell-navbar").text
    assert "Users, keys & audit" not in nav  # admin page not offered to a viewer
    dash_duo.find_element("#shell-user-menu .dropdown-toggle").click()
    dash_duo.wait_for_element("#shell-signout").click()
    dash_duo.wait_for_element("#login-username", timeout=10)
    dash_duo_url = dash_duo.driver.current_url
    assert dash_duo_url.endswith("/login")
    dash_duo.driver.get(dash_duo.server.url + "/")
    dash_duo.wait_for_element("#login-username", timeout=10)  # signed out: back to the form
    assert _csp_violations(dash_duo) == []


def test_viewer_cannot_open_admin_but_admin_can(dash_duo, dash_app, small_fleet, browser_sign_in):
    browser_sign_in("viewer", "/admin")
    dash_duo.wait_for_contains_text("body", "Not allowed", timeout=10)
    assert "needs the role 'admin'" in dash_duo.find_element("body").text
    dash_duo.driver.delete_all_cookies()
    browser_sign_in("admin", "/admin", username="root")
    dash_duo.wait_for_contains_text("#adm-users", "root", timeout=15)
    dash_duo.find_element("#adm-tabs").find_element("link text", "Audit log").click()
    dash_duo.wait_for_contains_text("#adm-a-table", "user.signed_in", timeout=10)
    assert _csp_violations(dash_duo) == []


def test_wrong_password_shows_the_generic_message(dash_duo, dash_app, services, browser_sign_in):
    from data.models import Role
    from security.users import create_user

    create_user(services.db, "vera", "correct-horse-battery-9", Role.viewer)
    dash_duo.start_server(dash_app, navigate=False)
    dash_duo.driver.get(dash_duo.server.url + "/login")
    dash_duo.wait_for_element("#login-username").send_keys("vera")
    dash_duo.find_element("#login-password").send_keys("not-the-password")
    dash_duo.find_element("#login-submit").click()
    dash_duo.wait_for_contains_text("#login-message", "Wrong username or password", timeout=10)
