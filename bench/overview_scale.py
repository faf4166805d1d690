"""Fleet overview served for a large portfolio: time to first render.

    .venv/bin/python bench/overview_scale.py [--assets 100000] [--repeats 5]

Seeds the demo fleet at the given size into a fresh SQLite file, gives every asset a live
``power_kw`` value through the ingest store (so every site is reporting), then measures:
* server: building the overview (site frame, KPIs, charts, table rows) in-process, p50 of N;
* browser: navigation to ``/`` until the KPI tiles and the first site rows are rendered, in
  headless Chromium.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from signin import browser_sign_in, create_bench_user  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, n_assets: int) -> tuple[int, int]:
    """Seed the fleet and one live value per asset; return (sites, assets)."""
    from sqlalchemy import select

    from data.db import Database
    from data.migrate import upgrade_to_head
    from data.models import Asset
    from demo.fleet import seed_demo_fleet
    from ingest.store import store_points
    from ingest.validation import ValidPoint

    db = Database(url)
    upgrade_to_head(db)
    t = time.perf_counter()
    summary = seed_demo_fleet(db, n_assets)
    print(f"  seeded {summary['sites']:,} sites / {summary['assets']:,} assets in {time.perf_counter() - t:.1f} s")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with db.session() as s:
        assets = s.execute(select(Asset.id, Asset.capacity_kw)).all()
    points = [ValidPoint(a, "power_kw", now, 0.3 * cap) for a, cap in assets]
    for start in range(0, len(points), 20_000):
        store_points(db, points[start:start + 20_000])
    db.dispose()
    return summary["sites"], summary["assets"]


def browser_time(base: str, repeats: int) -> list[float]:
    """Return seconds from navigation to KPIs + first grid rows rendered, per repeat."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    times = []
    try:
        browser_sign_in(driver, base)
        for _ in range(repeats + 1):
            driver.get("about:blank")
            t = time.perf_counter()
            driver.get(base + "/")
            # polled every 20 ms (WebDriverWait's default 0.5 s would round every load up by up to 1 s)
            WebDriverWait(driver, 60, poll_frequency=0.02).until(
                ec.presence_of_element_located((By.CSS_SELECTOR, "#ov-site-table .ag-row")))
            WebDriverWait(driver, 60, poll_frequency=0.02).until(
                lambda d: d.find_element(By.ID, "ov-kpi-output-value").text.endswith("MW"))
            times.append(time.perf_counter() - t)
    finally:
        driver.quit()
    return times[1:]  # the first load warms the browser cache of the JS bundles


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fl-ovw-"))
    url = f"sqlite:///{work / 'bench.db'}"
    print(f"fleet overview at {args.assets:,} assets")
    sites, assets = prepare(url, args.assets)

    os.environ.update(FLEETLIGHT_DATABASE_URL=url, FLEETLIGHT_INSTANCE_DIR=str(work), FLEETLIGHT_LOG_LEVEL="WARNING",
                      FLEETLIGHT_SIMULATOR_ENABLED="false", FLEETLIGHT_SEED_ON_START="false")
    from bootstrap.build import build
    from core.settings import load_settings

    build(load_settings(), "cli")
    from callbacks.overview import overview_view

    server_times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        overview_view(None, None, "light")
        server_times.append(time.perf_counter() - t)

    port = free_port()
    env = {**os.environ, "FLEETLIGHT_PORT": str(port)}
    create_bench_user(env)
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/api/v1/health", timeout=5).status_code in (200, 503):
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        browser = browser_time(base, args.repeats)
    finally:
        proc.terminate()
        proc.wait(20)
    print(f"  portfolio: {sites:,} sites, {assets:,} assets, all reporting")
    print(f"  server: overview built in-process        p50 {statistics.median(server_times) * 1000:7.0f} ms")
    print(f"  browser: navigation to KPIs + site rows  p50 {statistics.median(browser) * 1000:7.0f} ms "
          f"(min {min(browser) * 1000:.0f}, max {max(browser) * 1000:.0f}, {len(browser)} loads)")


if __name__ == "__main__":
    main()
