"""Shared set-up of the live benches: a bench fleet in a fresh SQLite file, the app as a
subprocess, a signed-in headless Chromium on /live, and a telemetry poster."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from data.db import Database  # noqa: E402
from data.migrate import upgrade_to_head  # noqa: E402
from data.models import Asset, AssetKind, Portfolio, Role, Site, SiteKind  # noqa: E402

PASSWORD = "bench-password-long-enough-1"
PROBE_SITE = "bench-probe"
PROBE_ASSET = "bench-probe-INV"


def make_bench_fleet(db: Database, sites: int, assets_per_site: int) -> list[str]:
    """Create ``sites`` sites of ``assets_per_site`` 1 MW inverters plus a probe site; return load asset ids."""
    ids = []
    with db.session() as s:
        s.add(Portfolio(id="bench", name="Bench"))
        for i in range(sites):
            s.add(Site(id=f"bench-{i:03d}", portfolio_id="bench", name=f"Bench site {i:03d}", kind=SiteKind.solar,
                       capacity_mw=float(assets_per_site), market="ERCOT", pricing_node="HB_WEST"))
        s.add(Site(id=PROBE_SITE, portfolio_id="bench", name="AAA probe site", kind=SiteKind.solar, capacity_mw=100.0,
                   market="ERCOT", pricing_node="HB_WEST"))
        s.flush()
        for i in range(sites):
            for j in range(assets_per_site):
                aid = f"bench-{i:03d}-INV-{j:03d}"
                ids.append(aid)
                s.add(Asset(id=aid, site_id=f"bench-{i:03d}", name=aid, kind=AssetKind.inverter, capacity_kw=1000.0))
        s.add(Asset(id=PROBE_ASSET, site_id=PROBE_SITE, name="probe", kind=AssetKind.inverter, capacity_kw=100_000.0))
    return ids


class BenchApp:
    """The app in a subprocess on a fresh database with the bench fleet, a token and a viewer."""

    def __init__(self, sites: int = 40, assets_per_site: int = 25, port: int = 18555, extra_env: dict | None = None) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        db_path = Path(self.tmp.name) / "bench.db"
        db = Database(f"sqlite:///{db_path}")
        upgrade_to_head(db)
        self.load_assets = make_bench_fleet(db, sites, assets_per_site)
        from security.tokens import create_token
        from security.users import create_user

        self.token = create_token(db, "bench", ["telemetry:write", "read"], Role.operator)
        create_user(db, "bench-viewer", PASSWORD, Role.viewer)
        db.dispose()
        env = {**os.environ, "FLEETLIGHT_DATABASE_URL": f"sqlite:///{db_path}", "FLEETLIGHT_PORT": str(port),
               "FLEETLIGHT_INSTANCE_DIR": self.tmp.name, "FLEETLIGHT_SIMULATOR_ENABLED": "false",
               "FLEETLIGHT_SEED_ON_START": "false", "FLEETLIGHT_LOG_LEVEL": "WARNING",
               "FLEETLIGHT_SECRET_KEY": "bench-secret-key-not-for-production", "FLEETLIGHT_PROVIDER_POLLING_ENABLED": "false",
               "FLEETLIGHT_API_RATE_LIMIT": "1000000/minute", **(extra_env or {})}
        self.log = open(Path(self.tmp.name) / "app.log", "w")
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.client.get("/api/v1/health").status_code in (200, 503):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the bench app did not start: " + (Path(self.tmp.name) / "app.log").read_text()[-3000:])
            time.sleep(0.3)

    def post(self, points: list[dict]) -> httpx.Response:
        """POST a telemetry batch; raise on a non-2xx answer."""
        response = self.client.post("/api/v1/telemetry", json={"points": points})
        if response.status_code >= 300:
            raise RuntimeError(f"ingest answered {response.status_code}: {response.text[:300]}")
        return response

    def close(self) -> None:
        """Stop the app and remove its files."""
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        self.tmp.cleanup()


def browser(url: str, path: str = "/live"):
    """Return a headless Chromium signed in as the bench viewer, on ``path`` with the site table filled."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,4000",
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    driver.get(f"{url}/login?next={path}")
    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "login-username"))).send_keys("bench-viewer")
    driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, PROBE_ROW)))
    return driver


# the /live site grid (AG Grid) row of the probe site; the window is tall enough for the grid to
# render every row of the bench fleet (it draws only the rows in view)
PROBE_ROW = f'#lv-site-grid .ag-center-cols-container .ag-row[row-id="{PROBE_SITE}"]'

WATCH_JS = f"""
window.__probe = [];
const target = document.getElementById('lv-site-grid');
let last = null;
new MutationObserver(() => {{
  const cell = target.querySelector('{PROBE_ROW} [col-id="output_mw"]');
  const text = cell ? cell.textContent : null;
  if (text !== last) {{ last = text; window.__probe.push([Date.now(), text]); }}
}}).observe(target, {{childList: true, subtree: true, characterData: true}});
"""


def load_points(assets: list[str], start_index: int, n: int, base: dt.datetime) -> list[dict]:
    """Return ``n`` background points cycling over ``assets`` with distinct timestamps (1 s apart per asset)."""
    out = []
    for k in range(start_index, start_index + n):
        ts = base + dt.timedelta(seconds=k // len(assets))
        out.append({"asset_id": assets[k % len(assets)], "metric": "power_kw", "ts": ts.isoformat(), "value": float(k % 900)})
    return out


def percentile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile (0..1) of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]
