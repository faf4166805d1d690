"""Prometheus metrics, request ids, liveness and readiness on the real app (Flask test client, the
test database, the in-process bus)."""
from __future__ import annotations

import json
import logging
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

from bus.deadletter import dead_letter_many
from core.logging_setup import RequestIdFilter, _formatter
from data.models import Role
from security.tokens import create_token
from tests.security.conftest import make_user, sign_in
from tests.support.live_services import REPO


def _scrape(client, token: str) -> dict[tuple[str, tuple], float]:
    response = client.get("/api/v1/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for s in family.samples}


def _value(metrics, metric: str, **labels) -> float:
    return metrics.get((metric, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_ingest_requests_and_dead_letters(client, services, small_fleet, ingest_token):
    scraper = create_token(services.db, "prometheus", ["metrics:read"], Role.admin)
    before = _scrape(client, scraper)
    now = "2026-01-05T10:00:00Z"
    from tests.support.fleet import SOLAR_ASSETS

    body = {"points": [{"asset_id": SOLAR_ASSETS[0], "metric": "power_kw", "ts": f"2026-01-05T10:00:0{i}Z",
                        "value": 10.0 + i} for i in range(3)]
            + [{"asset_id": SOLAR_ASSETS[0], "metric": "power_kw", "ts": now, "value": "ten"}]}
    headers = {"Authorization": f"Bearer {ingest_token}"}
    first = client.post("/api/v1/telemetry", json=body, headers=headers)
    again = client.post("/api/v1/telemetry", json=body, headers=headers)
    assert first.status_code == again.status_code == 422
    from observability.metrics import DeploymentCollector

    DeploymentCollector.cache.clear()  # deployment gauges are read at most every 5 s
    after = _scrape(client, scraper)

    def delta(metric, **labels):
        return _value(after, metric, **labels) - _value(before, metric, **labels)

    assert delta("fleetlight_ingest_points_total", outcome="stored") == 3
    assert delta("fleetlight_ingest_points_total", outcome="duplicate") == 3
    assert delta("fleetlight_ingest_points_total", outcome="rejected") == 2
    assert delta("fleetlight_http_requests_total", route="/api/v1/telemetry", method="POST", status="422") == 2
    assert delta("fleetlight_http_request_seconds_count", route="/api/v1/telemetry", method="POST") == 2
    # the two rejected rows wait in the dead-letter store (read at scrape time, from the database)
    assert _value(after, "fleetlight_dead_letters_waiting", name="telemetry.v1") == 2
    assert ("fleetlight_socket_clients", ()) in after


def test_dead_letter_gauge_counts_only_what_waits(client, services):
    scraper = create_token(services.db, "prometheus", ["metrics:read"], Role.admin)
    dead_letter_many(services.db, "test", "prices.v1", [("bad", {"x": 1}), ("bad", {"x": 2})])
    from observability.metrics import DeploymentCollector

    DeploymentCollector.cache.clear()
    assert _value(_scrape(client, scraper), "fleetlight_dead_letters_waiting", name="prices.v1") == 2


def test_metrics_need_the_permission(client, services):
    ingest_only = create_token(services.db, "ingest", ["telemetry:write"], Role.admin)
    operator = create_token(services.db, "op", ["metrics:read", "read"], Role.operator)
    assert client.get("/api/v1/metrics").status_code == 401
    assert client.get("/api/v1/metrics", headers={"Authorization": f"Bearer {ingest_only}"}).status_code == 403
    assert client.get("/api/v1/metrics", headers={"Authorization": f"Bearer {operator}"}).status_code == 403


def test_dash_callbacks_are_timed_by_their_output(dash_app, client, services, small_fleet):
    make_user(services.db, "admin", "metrics-admin")
    browser = dash_app.server.test_client()
    assert sign_in(browser, "metrics-admin").status_code == 302
    browser.get("/admin/metrics")
    csrf = browser.get_cookie("_csrf_token").value
    output = "..om-summary.children...om-table.rowData.."
    assert output in dash_app.callback_map
    payload = {"output": output, "outputs": [{"id": "om-summary", "property": "children"},
                                             {"id": "om-table", "property": "rowData"}],
               "inputs": [{"id": "om-tick", "property": "n_intervals", "value": 1},
                          {"id": "om-filter", "property": "value", "value": "ingest"}],
               "changedPropIds": ["om-tick.n_intervals"], "state": []}
    response = browser.post("/_dash-update-component", json=payload, headers={"X-CSRFToken": csrf})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    data = response.get_json()["response"]["om-table"]["rowData"]
    assert data and all("ingest" in row["name"] for row in data)
    scraper = create_token(services.db, "prometheus", ["metrics:read"], Role.admin)
    metrics = _scrape(client, scraper)
    assert _value(metrics, "fleetlight_dash_callback_seconds_count", callback=output) >= 1
    # an output the app does not declare is one bounded label, not a new series per request
    browser.post("/_dash-update-component", json={**payload, "output": "made-up.children"},
                 headers={"X-CSRFToken": csrf})
    assert ("fleetlight_dash_callback_seconds_count", (("callback", "made-up.children"),)) not in _scrape(client, scraper)


def test_request_id_is_echoed_or_made(client):
    sent = client.get("/api/v1/health/live", headers={"X-Request-ID": "abc-123"})
    assert sent.status_code == 200 and sent.headers["X-Request-ID"] == "abc-123"
    made = client.get("/api/v1/health/live", headers={"X-Request-ID": "not ok <script>"})
    assert len(made.headers["X-Request-ID"]) == 32 and made.headers["X-Request-ID"] != "not ok <script>"


def test_json_logs_carry_the_request_id(client, dash_app, caplog):
    record = logging.LogRecord("fleetlight.test", logging.WARNING, __file__, 1, "value %s refused", ("x",), None)
    from core.logging_setup import request_id_var

    token = request_id_var.set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(_formatter("json").format(record))
    assert line["message"] == "value x refused" and line["request_id"] == "req-42"
    assert line["level"] == "WARNING" and line["logger"] == "fleetlight.test"


def test_liveness_and_readiness(client, services):
    assert client.get("/api/v1/health/live").get_json()["status"] == "ok"
    waiting = client.get("/api/v1/health/ready")
    assert waiting.status_code == 503 and "components not started yet" in waiting.get_json()["not_ready"]
    services.started = True
    try:
        ready = client.get("/api/v1/health/ready")
        assert ready.status_code == 200 and ready.get_json()["ready"] is True
    finally:
        services.started = False


def test_worker_and_web_processes_share_one_exposition(tmp_path):
    """Two processes writing to one FLEETLIGHT_METRICS_MULTIPROC_DIR: a scrape sums both."""
    script = ("from observability.metrics import INGEST_POINTS; INGEST_POINTS.labels('stored').inc({n})")
    env = {"FLEETLIGHT_METRICS_MULTIPROC_DIR": str(tmp_path / "metrics"), "PATH": "/usr/bin:/bin"}
    for n in (5, 7):
        subprocess.run([sys.executable, "-c", script.format(n=n)], cwd=REPO, env=env, check=True)
    read = ("from observability.metrics import exposition; import sys; sys.stdout.write(exposition().decode())")
    out = subprocess.run([sys.executable, "-c", read], cwd=REPO, env=env, check=True, capture_output=True,
                         text=True).stdout
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for f in text_string_to_metric_families(out) for s in f.samples}
    assert values[("fleetlight_ingest_points_total", (("outcome", "stored"),))] == 12
