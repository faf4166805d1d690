"""The composition root's lifecycle: every component starts, stops within its timeout, and leaves
no thread of ours behind; ``python app.py`` exits 0 within 10 s of SIGTERM."""
from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from bootstrap.build import FEATURES, build, start, stop
from core import runtime
from core.component import THREAD_PREFIX, Component
from core.settings import load_settings
from tests.support.live_services import REPO, free_port, wait_for


def _ours() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX) and t.is_alive()}


@pytest.fixture()
def web_settings(tmp_path):
    """Settings of a web process on its own SQLite file: simulator on, a 20-asset demo fleet seeded at start."""
    return load_settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", instance_dir=tmp_path / "instance",
                         simulator_enabled=True, simulator_interval_s=1.0, seed_on_start=True, seed_assets=20,
                         provider_polling_enabled=True, secret_key="test-secret-key-not-for-production")


def test_roles_get_their_components(web_settings, tmp_path):
    previous = runtime.installed()
    try:
        web = build(web_settings, "web")
        names = [c.name for c in web.components]
        assert names == ["store", "live_hub", "ingest", "price_feed", "provider_polling", "alerts",
                         "notifications", "forecasting", "retention", "simulator"]
        assert all(isinstance(c, Component) for c in web.components)
        assert web.hub is not None and web.simulator is not None and web.gateway is not None
        web.db.dispose()
        cli = build(web_settings.model_copy(update={"simulator_enabled": False}), "cli")
        assert cli.components == [] and cli.hub is None
        cli.db.dispose()
        with pytest.raises(ValueError, match="unknown process role 'browser'"):
            build(web_settings, "browser")  # type: ignore[arg-type]
    finally:
        runtime._current = previous
    assert len(FEATURES) == 11  # and "scada", which runs only with FLEETLIGHT_SCADA_CONFIG


def test_start_then_stop_leaves_no_thread_of_ours(web_settings):
    from flask import Flask

    from gateway.core import install_gateway
    from live.hub import bind_socketio

    before = _ours()
    previous_services, previous_gateway = runtime.installed(), install_gateway(None)
    services = build(web_settings, "web")
    bind_socketio(services.socketio, Flask(__name__), "")  # the web app binds it; a bare Flask app will do
    try:
        start(services)
        health = {c.name: c.health() for c in services.components}
        assert health["live_hub"]["status"] == "ok" and health["retention"]["status"] == "ok"
        # the rule evaluator is scheduled in the app: its sweep and the underperformance detector
        assert health["alerts"]["status"] == "ok" and health["alerts"]["rules"] == 4
        assert {"alerts-sweep", "alerts-underperformance"} <= {j.id for j in services.scheduler.get_jobs()}
        wait_for(lambda: services.simulator.status()["ticks"] > 0, 60, 0.2, "a simulator tick")
        started = _ours() - before
        assert {"fleetlight-scheduler", "fleetlight-live-hub", "fleetlight-simulator", "fleetlight-price-feed",
                "fleetlight-retention"} <= {t.name for t in started}
        began = time.monotonic()
        left = stop(services, timeout=10)
        took = time.monotonic() - began
    finally:
        runtime._current = previous_services
        install_gateway(previous_gateway)
    assert not (_ours() & started), sorted(t.name for t in _ours() & started)
    assert not set(left) & {t.name for t in started}, left
    assert took < 10, took
    assert all(c.health()["status"] in ("stopped", "ok") for c in services.components if c.name == "store")
    assert services.simulator.status()["running"] is False


@pytest.mark.parametrize("command", [
    pytest.param([sys.executable, "app.py"], id="python-app.py"),
    pytest.param([str(pathlib.Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "app:server"],
                 id="gunicorn"),
])
def test_app_stops_on_sigterm_within_10_s(tmp_path, command):
    if not pathlib.Path(command[0]).exists():
        pytest.skip(f"{command[0]} is not installed")
    port = free_port()
    env = {**os.environ, "FLEETLIGHT_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "FLEETLIGHT_INSTANCE_DIR": str(tmp_path / "instance"), "FLEETLIGHT_SIMULATOR_ENABLED": "true",
           "FLEETLIGHT_SEED_ON_START": "true", "FLEETLIGHT_SEED_ASSETS": "20", "FLEETLIGHT_PORT": str(port),
           "FLEETLIGHT_HOST": "127.0.0.1", "FLEETLIGHT_PROVIDER_POLLING_ENABLED": "true"}
    env.pop("PYTEST_CURRENT_TEST", None)
    from data.db import Database
    from data.migrate import upgrade_to_head
    from data.models import Role
    from security.tokens import create_token

    store = Database(env["FLEETLIGHT_DATABASE_URL"])
    upgrade_to_head(store)
    viewer = create_token(store, "sigterm-viewer", ["read"], Role.viewer)
    store.dispose()
    log_path = tmp_path / "app.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def healthy() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"app exited early: {log_path.read_text()[-3000:]}")
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, 90, 0.2, "HTTP 200 on /api/v1/health")
        body = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5.0).json()
        assert body["components"]["simulator"]["status"] == "ok"
        assert body["components"]["live_hub"]["status"] == "ok"
        import socketio

        screen = socketio.Client(reconnection=False)  # an open websocket, as a wall display holds one
        screen.connect(f"http://127.0.0.1:{port}", namespaces=["/live"], auth={"token": viewer, "rooms": ["live"]},
                       transports=["websocket"], wait_timeout=10)
        assert screen.connected
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"app still running 10 s after SIGTERM: {log_path.read_text()[-3000:]}")
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    output = log_path.read_text()
    assert code == 0, output[-3000:]
    assert "threads still running after stop" not in output, output[-3000:]
    # python app.py logs the signal itself; gunicorn's worker logs "Worker exiting" before worker_exit
    after = output.split("received SIGTERM: stopping" if "app.py" in command else "Worker exiting", 1)
    assert len(after) == 2, output[-3000:]
    assert all(f"stopping {name}" in after[1] for name in ("simulator", "live_hub", "ingest", "store")), after[1][-3000:]
    # both print where they serve and how to create the first administrator; the production server no warning
    assert f"Fleetlight is serving at http://127.0.0.1:{port}" in output, output[:3000]
    assert "No administrator yet: create one with" in output, output[:3000]
    if "app.py" not in command:
        assert "development server" not in output.lower(), output[:3000]
    print(f"\nstopped {took:.2f} s after SIGTERM\n" + after[1][-1500:])


def test_health_and_integrations_page_read_the_components(client, services):
    from callbacks.integrations import component_states, components_table

    body = client.get("/api/v1/health").json
    assert body["components"]["ingest"] == {"status": "ok", "listeners": 0}  # the in-process consumer
    assert body["components"]["simulator"] == {"status": "disabled"}
    assert component_states() == {"ingest": {"status": "ok", "listeners": 0}}
    table = components_table(component_states())
    assert "ingest" in str(table) and "success" in str(table)


def test_a_part_that_fails_to_import_stops_start_up_naming_it(tmp_path):
    shadow = tmp_path / "shadow" / "flask_limiter"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")  # a broken install: the package is there, its names are not
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "shadow"),
           "FLEETLIGHT_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "FLEETLIGHT_INSTANCE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", "import app"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert "Fleetlight cannot start: a part failed to import (flask_limiter)" in done.stderr, done.stderr[-2000:]


def test_store_worker_stops_on_sigterm_within_10_s(tmp_path):
    from bus.rabbitmq import queue_name
    from data.db import Database
    from data.migrate import upgrade_to_head
    from tests.bus.conftest import delete_queues
    from tests.support.live_services import require_rabbitmq

    rabbit_url = require_rabbitmq()
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    store = Database(url)
    upgrade_to_head(store)
    store.dispose()
    env = {**os.environ, "FLEETLIGHT_DATABASE_URL": url, "FLEETLIGHT_RABBITMQ_URL": rabbit_url,
           "FLEETLIGHT_REDIS_URL": "", "FLEETLIGHT_INSTANCE_DIR": str(tmp_path)}
    group = f"sigterm-{os.getpid()}"
    proc = subprocess.Popen([sys.executable, "-m", "bus.worker", "--group", group], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:  # the worker prints "worker ready" once consuming
            lines.append(line)
            if "worker ready" in line:
                break
        assert any("worker ready" in line for line in lines), "".join(lines)[-2000:]
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=10)
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        delete_queues(rabbit_url, [queue_name(t, group) for t in ("telemetry.v1", "prices.v1", "events.v1")])
    assert proc.returncode == 0, output[-2000:]
    assert "stopping ingest" in output and "threads still running" not in output, output[-2000:]
    assert took < 10
