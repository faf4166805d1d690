"""Helpers of the live-path tests: required loopback services, free ports, app subprocesses."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RABBITMQ_URL = os.environ.get("FLEETLIGHT_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
REDIS_URL = os.environ.get("FLEETLIGHT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_service(name: str, host: str, port: int) -> None:
    """Skip the test if ``name`` does not answer on host:port; under CI=true fail instead."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return
    except OSError as exc:
        message = f"{name} is not reachable on {host}:{port} ({exc})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " — CI=true requires it (.ci/run starts it)")
        pytest.skip(message)


def require_rabbitmq() -> str:
    """Return the test RabbitMQ URL after checking the broker answers."""
    require_service("RabbitMQ", "127.0.0.1", 5672)
    return RABBITMQ_URL


def require_redis() -> str:
    """Return the test Redis URL after checking the server answers."""
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL


def free_port() -> int:
    """Return a TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def start_app_process(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    """Start ``python app.py`` on ``port`` with ``env`` added; return once it answers /api/v1/health."""
    import httpx

    full_env = {**os.environ, **env, "FLEETLIGHT_PORT": str(port), "FLEETLIGHT_HOST": "127.0.0.1"}
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT)

    def up() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"app on port {port} exited: {log_path.read_text()[-2000:]}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1.0).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    wait_for(up, 60, 0.2, f"app on port {port}")
    return proc


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate ``proc`` (kill after 10 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
