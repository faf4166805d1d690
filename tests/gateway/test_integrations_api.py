"""GET /api/v1/integrations and the integrations page builders, on a real call log."""
from __future__ import annotations

import pytest

from gateway import AuthError, ProviderError, install_gateway


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def busy_gateway(make_gateway, server, services):
    gw = make_gateway()
    install_gateway(gw)
    params = {"lat": 1, "lon": 2, "units": "metric", "appid": "test-owm-key"}
    for _ in range(3):
        gw.request("openweathermap", "GET", "/data/3.0/onecall", endpoint="onecall", params=params)
    with pytest.raises(AuthError):
        gw.request("openweathermap", "GET", "/data/2.5/weather", endpoint="weather",
                   params={**params, "appid": "nope"}, fallback=False)
    server.persist("caiso", "503")
    for _ in range(3):
        with pytest.raises(ProviderError):
            gw.request("caiso", "GET", "/SingleZip", params={"queryname": "PRC_LMP"}, fallback=False)
    gw.call_log.flush()
    return gw


def test_integrations_api(client, busy_gateway, ingest_token):
    assert client.get("/api/v1/integrations").status_code == 401
    body = client.get("/api/v1/integrations", headers=auth(ingest_token)).json
    rows = {r["provider"]: r for r in body["providers"]}
    assert set(rows) >= {"openweathermap", "noaa_nws", "noaa_ncei", "ercot", "caiso", "entsoe", "eex"}
    owm = rows["openweathermap"]
    assert owm["state"] == "degraded" and owm["calls_today"] == 4 and owm["calls_month"] == 4
    assert owm["success_rate_today"] == pytest.approx(0.75) and owm["p50_ms"] > 0 and owm["p95_ms"] >= owm["p50_ms"]
    assert owm["cost_today"] == pytest.approx(3 * 0.0015) and owm["quota_burn_today"] == pytest.approx(4 / 1000)
    assert "credentials refused" in owm["last_error"] and owm["last_error_at"]
    assert rows["caiso"]["state"] == "breaker open" and rows["caiso"]["breaker"] == "open"
    assert rows["noaa_nws"]["state"] == "live" and rows["noaa_nws"]["calls_today"] == 0


def test_integrations_page_view(busy_gateway):
    # (the page module itself is rendered for every role by tests/security/test_role_matrix.py;
    # importing pages.integrations here would re-register the page outside Dash's loader)
    from callbacks.integrations import integrations_view, summary_text

    view = integrations_view("dark")
    assert {t.name for t in view["calls"].data} == {"openweathermap", "caiso"}
    assert "breaker open" in view["summary"]
    text = str(view["table"])
    assert "OpenWeatherMap" in text and "breaker open" in text and "credentials refused" in text
    assert "circuit breaker opened" in str(view["events"])
    assert summary_text([{"state": "live"}, {"state": "live"}, {"state": "offline replay"}]) == "2 live · 1 offline replay"


def test_failure_list_counts_what_the_failures_chart_counts(busy_gateway):
    """The list under the failures chart names every failed call the chart counts (same window,
    same outcomes): a failed call never sits next to "no failures recorded"."""
    from callbacks.integrations import integrations_view
    from core.runtime import db
    from data.integration_queries import failure_log, hourly_timeline

    with db().read_session() as session:
        charted = sum(sum(v) for v in hourly_timeline(session, hours=48).failures.values())
        listed = failure_log(session, hours=48, limit=1000)
    calls = [e for e in listed if e["kind"].startswith("call.")]
    assert charted == len(calls) >= 4  # the refused credentials and the CAISO 503s and breaker rejections
    assert any(e["provider"] == "openweathermap" and "credentials refused" in e["message"] for e in calls)
    assert any(e["kind"] == "integration.failed" for e in listed)
    assert "No failed calls" not in str(integrations_view("light")["events"])


def test_no_failures_says_so_for_the_charted_window(services):
    from callbacks.integrations import events_list

    assert "No failed calls and no integration incidents in the last 48 hours" in str(events_list([]))


def test_each_provider_says_how_it_is_called(busy_gateway):
    """Replayed market data is read once after start, so its call count stays still: the page says so."""
    from connectors.polling import polling_note

    assert polling_note(busy_gateway, "caiso", enabled=False).startswith("polling off")
    note = polling_note(busy_gateway, "caiso", enabled=True)
    assert note in ("recorded data read once after start", "not polled") or note.startswith("polled every")
    from callbacks.integrations import integrations_view

    text = str(integrations_view("light")["table"])
    assert "last call" in text and ("called on request" in text or "polling off" in text)
