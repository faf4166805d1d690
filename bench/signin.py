"""Signing benchmark clients in like a user: a bench account, an HTTP session, a browser session."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH_USER = "bench-viewer"
BENCH_PASSWORD = "bench-password-not-secret-1"


def create_bench_user(env: dict[str, str], role: str = "viewer") -> None:
    """Create the bench account in the app's database through the CLI (no-op if it exists)."""
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "create-user", "--username", BENCH_USER,
                    "--role", role, "--password-stdin"], cwd=ROOT, env=env, input=BENCH_PASSWORD + "\n",
                   capture_output=True, text=True)


def http_session(base: str) -> httpx.Client:
    """Return an httpx client signed in as the bench account (session cookie and CSRF header set)."""
    client = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"csrf_token": csrf, "next": "/", "username": BENCH_USER,
                                "password": BENCH_PASSWORD}).raise_for_status()
    token = client.cookies.get("_csrf_token")
    if token:
        client.headers["X-CSRFToken"] = token
    client.headers["Origin"] = base
    return client


def browser_sign_in(driver, base: str) -> None:
    """Sign a selenium driver in as the bench account through the form."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + "/login")
    WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.ID, "login-username"))).send_keys(BENCH_USER)
    driver.find_element(By.ID, "login-password").send_keys(BENCH_PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)
