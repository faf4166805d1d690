"""The forecasts and weather pages in headless Chromium, signed in as an analyst."""
from __future__ import annotations

import pytest

from forecasting.service import issue_forecast, train_site
from tests.forecasting.test_service import NOW, SITE, seed_pv_site

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-battery-9"


@pytest.fixture()
def forecast_fleet(services, pv_data):
    seed_pv_site(services.db, pv_data, days=30)
    for model in ("climatology", "xgboost"):
        train_site(services.db, SITE, model, now=NOW, history_days=30)
        issue_forecast(services.db, SITE, model, now=NOW)
    from data.models import Role
    from security.users import create_user

    create_user(services.db, "ana", PASSWORD, Role.analyst)
    return services


def sign_in(dash_duo, dash_app, path: str) -> None:
    """Start the app without waiting for the (sign-in protected) home page, then sign in and open ``path``."""
    dash_duo.start_server(dash_app, navigate=False)
    dash_duo.driver.get(dash_duo.server.url + "/login?next=" + path)
    dash_duo.wait_for_element("#login-username").send_keys("ana")
    dash_duo.find_element("#login-password").send_keys(PASSWORD)
    dash_duo.find_element("#login-submit").click()


def test_forecasts_page_shows_bands_and_scorecard(dash_duo, dash_app, forecast_fleet, tmp_path):
    sign_in(dash_duo, dash_app, "/forecasts")
    dash_duo.wait_for_contains_text("#fc-scorecard", "Golden PV", timeout=20)
    assert "xgboost" in dash_duo.find_element("#fc-scorecard").text
    dash_duo.wait_for_contains_text("#fc-note", "Latest issue 2012-05-01 00:00 UTC", timeout=10)
    dash_duo.wait_for_element("#fc-chart .js-plotly-plot .scatterlayer .trace", timeout=10)
    legend = dash_duo.find_element("#fc-chart .legend").text
    assert "xgboost p10-p90" in legend and "actual" in legend
    dash_duo.driver.save_screenshot(str(tmp_path / "forecasts.png"))
    assert not [e for e in dash_duo.get_logs() or [] if e["level"] == "SEVERE"]


def test_weather_page_shows_fitted_curve_and_correlations(dash_duo, dash_app, forecast_fleet, tmp_path):
    sign_in(dash_duo, dash_app, "/weather")
    dash_duo.wait_for_contains_text("#wx-note", "Golden PV", timeout=20)
    dash_duo.wait_for_contains_text("#wx-scatter .legend", "fitted curve", timeout=10)
    dash_duo.wait_for_element("#wx-corr .heatmaplayer, #wx-corr .hm", timeout=10)
    dash_duo.driver.save_screenshot(str(tmp_path / "weather.png"))
    assert not [e for e in dash_duo.get_logs() or [] if e["level"] == "SEVERE"]
