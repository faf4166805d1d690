"""/performance in headless Chromium shows the PR (and every other KPI) of ``GET /api/v1/kpis``, for
a site and for its portfolio; the help popover gives the formula and the standard; the site page's
period tiles equal the API for their period too."""
from __future__ import annotations

import datetime as dt

import pytest
from dash.testing.wait import until

from callbacks.site import PERFORMANCE_DAYS
from data.models import utcnow
from tests.support.performance_rows import store_solar_day

pytestmark = pytest.mark.browser


def _page_texts(dash_duo) -> dict[str, str]:
    return dash_duo.driver.execute_script(
        "const out = {}; document.querySelectorAll('[data-kpi-period]').forEach((el) => {"
        " out[el.getAttribute('data-kpi-period')] = el.innerText.trim(); }); return out;")


def _api(client, token: str, **query) -> dict[str, str]:
    response = client.get("/api/v1/kpis", query_string=query, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {k: v["text"] for k, v in response.json["kpis"].items()}


def _wait_same(dash_duo, api: dict[str, str], keys: set[str]) -> None:
    try:
        until(lambda: (shown := _page_texts(dash_duo)) and keys <= set(shown) and all(shown[k] == api[k] for k in shown),
              timeout=20)
    except Exception:
        raise AssertionError(f"page {_page_texts(dash_duo)} != api {api}") from None


def test_performance_page_shows_the_api_pr(dash_duo, client, small_fleet, browser_sign_in, ingest_token):
    store_solar_day(small_fleet.db)
    browser_sign_in("viewer", "/")
    start, end = "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z"
    api = _api(client, ingest_token, site_id="t-sol", start=start, end=end)
    assert api["performance_ratio_pct"].endswith(" %") and not api["performance_ratio_pct"].startswith("—")
    dash_duo.driver.get(dash_duo.server.url + "/performance?site=t-sol&start=2026-06-01&end=2026-06-01")
    _wait_same(dash_duo, api, set(api))
    assert _page_texts(dash_duo)["performance_ratio_pct"] == api["performance_ratio_pct"]
    coverage = dash_duo.find_element("#pf-note").text
    assert "on 8 % of 288 intervals" in coverage
    until(lambda: "Mean score" in dash_duo.find_element("#pf-quality").text, timeout=10)
    # the help popover of PR: the formula and the standard
    dash_duo.find_element("#pf-help-performance_ratio_pct").click()
    until(lambda: "IEC 61724-1" in dash_duo.driver.execute_script(
        "const p = document.querySelector('.popover'); return p ? p.innerText : '';"), timeout=5)
    # the portfolio: the same numbers as the API's portfolio
    dash_duo.driver.get(dash_duo.server.url + "/performance?portfolio=test&start=2026-06-01&end=2026-06-01")
    _wait_same(dash_duo, _api(client, ingest_token, portfolio_id="test", start=start, end=end), set(api))
    logs = [e for e in dash_duo.get_logs() if e["level"] == "SEVERE"]
    assert logs == [], logs


def test_site_page_period_tiles_equal_the_api(dash_duo, client, small_fleet, browser_sign_in, ingest_token):
    browser_sign_in("viewer", "/")
    end = dt.datetime.combine(utcnow().date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    api = _api(client, ingest_token, site_id="t-sol", start=(end - dt.timedelta(days=PERFORMANCE_DAYS)).isoformat(),
               end=end.isoformat())
    dash_duo.driver.get(dash_duo.server.url + "/sites/t-sol")
    _wait_same(dash_duo, api, {"actual_energy_mwh", "performance_ratio_pct", "capacity_factor_pct"})
    assert _page_texts(dash_duo)["actual_energy_mwh"] == "— (no data in the period)"
