"""Fleet map figures in headless Chromium: the map page vs a bare dash-leaflet page, same points.

    .venv/bin/python bench/map_bench.py                       # 1,000 / 10,000 / 100,000 assets, 5 runs
    .venv/bin/python bench/map_bench.py --sizes 1000 --runs 1

For each size: seeds the demo fleet (demo/fleet.py) into a scratch SQLite database, gives every
site a synthetic live state (asset_latest rows: ~80 % producing, idle, stale, no data — labelled
synthetic, for colour only), starts the app (signed in as a viewer) and a bare dash-leaflet app
serving the *same* geobuf (clustered, default markers), each in its own process, and measures in
a cold-cache Chromium:

* first clusters: ms from navigation start until cluster markers are in the DOM and a frame has
  been painted (ours: styled clusters — ring, MW, worst status — not just placeholders);
* map created: ms from navigation start until the Leaflet map exists (what the app shell costs
  before any point can be drawn: scripts, layout, page render);
* re-cluster on zoom: ms for one zoom step without animation (getClusters + markers + a frame),
  median of 4 steps over the fleet; ours clusters in a Web Worker, so its step lasts until the
  worker's answer is drawn (fleetMap.nextRender) and a frame has followed;
* JS heap: used JS heap after a forced GC, MB: the page (CDP Performance.getMetrics) plus its
  dedicated workers (our page indexes in a Web Worker; CDP Runtime.getHeapUsage in each worker);
* bytes: encoded bytes over the network for the whole page load (resource timing of the page and,
  on our page, of the map worker), MB.

Cold means: the HTTP cache is cleared before every load (CDP Network.clearBrowserCache — the
page's cache switch does not reach requests made by workers) and the back/forward cache is off.
Prints the load averages, a table (medians over ``--runs``) and saves screenshots under bench/out/.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "bench" / "out"
USER, PASSWORD = "mapbench", "Map-bench-password-2026!"

PROBE = r"""
(function () {
  var _L;
  Object.defineProperty(window, "L", {configurable: true, get: function () { return _L; }, set: function (v) {
    _L = v;
    try {
      v.Map.addInitHook(function () {
        (window.__maps = window.__maps || []).push(this);
        window.__t.mapInit = window.__t.mapInit || performance.now();  // the app shell's share
      });
    } catch (e) {}
  }});
  window.__t = {};
  var sel = {styled: ".fl-cluster:not(.fl-pending), .marker-cluster", any: ".fl-cluster, .marker-cluster"};
  function check() {
    for (var k in sel) if (window.__t[k] === undefined && document.querySelector(sel[k])) {
      (function (key) { requestAnimationFrame(function () { if (window.__t[key] === undefined) window.__t[key] = performance.now(); }); })(k);
    }
  }
  new MutationObserver(check).observe(document, {childList: true, subtree: true, attributes: true, attributeFilter: ["class"]});
})();
"""

ZOOM_JS = r"""
var map = (window.__maps || [])[0]; if (!map) return null;
var times = [], z0 = map.getZoom(), c = map.getCenter();
function step(z) {
  return new Promise(function (resolve) {
    // our page draws the worker's answer asynchronously: wait for that drawing, then a frame
    var fm = window.fleetMap, drawn = fm && fm.nextRender && fm.state.map ? fm.nextRender() : Promise.resolve();
    var t0 = performance.now();
    map.setView(c, z, {animate: false});
    drawn.then(function () {
      requestAnimationFrame(function () { times.push(performance.now() - t0); setTimeout(resolve, 150); });
    });
  });
}
var done = arguments[arguments.length - 1];
step(z0 + 1).then(function () { return step(z0 + 2); }).then(function () { return step(z0 + 3); })
  .then(function () { return step(z0 + 4); }).then(function () { map.setView(c, z0, {animate: false}); done(times); });
"""


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(n_assets: int, workdir: Path) -> Path:
    """Seed a scratch database with ``n_assets`` demo assets, synthetic live state and a viewer; return its path."""
    from sqlalchemy import insert, select

    from data.db import Database
    from data.migrate import upgrade_to_head
    from data.models import Asset, AssetLatest, Role, Site
    from demo.fleet import seed_demo_fleet
    from security.users import create_user

    path = workdir / f"map_{n_assets}.db"
    path.unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    upgrade_to_head(db)
    seed_demo_fleet(db, n_assets)
    rng = random.Random(n_assets)
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        sites = s.execute(select(Site.id)).scalars().all()
        state = {}
        for sid in sites:
            r = rng.random()
            state[sid] = ("producing", rng.uniform(0.15, 0.9)) if r < 0.8 else ("idle", 0.0) if r < 0.88 else (
                "stale", rng.uniform(0.2, 0.6)) if r < 0.95 else ("no data", None)
        rows = []
        for aid, sid, kw, _kind in s.execute(select(Asset.id, Asset.site_id, Asset.capacity_kw, Asset.kind)).all():
            st, frac = state[sid]
            if frac is None and st == "no data":
                continue
            ts = now - dt.timedelta(hours=2) if st == "stale" else now
            rows.append({"asset_id": aid, "metric": "power_kw", "ts": ts, "value": kw * (frac or 0.0)})
        for i in range(0, len(rows), 20_000):
            s.execute(insert(AssetLatest), rows[i:i + 20_000])
    create_user(db, USER, PASSWORD, Role.viewer)
    db.dispose()
    return path


SERVE_OURS = """
import sys; sys.path.insert(0, {repo!r})
from core.settings import load_settings
from bootstrap.web import create_app
s = load_settings(database_url="sqlite:///{db}", instance_dir={inst!r}, simulator_enabled=False, seed_on_start=False,
                  secret_key="bench-secret-key", map_tile_url="", login_rate_limit="1000/minute")
app = create_app(s)
app.run(host="127.0.0.1", port={port}, debug=False, use_reloader=False, threaded=True)
"""

SERVE_BARE = """
import sys, gzip; sys.path.insert(0, {repo!r})
from data.db import Database
from data.map_queries import build_map_data
import dash, dash_leaflet as dl
from flask import Response, request
db = Database("sqlite:///{db}")
with db.session() as s:
    data = build_map_data(s, "bare")
raw = data.geobuf(); gz = gzip.compress(raw, 5)
app = dash.Dash(__name__, serve_locally=True, assets_folder={assets!r})
app.layout = dl.Map([dl.GeoJSON(url="/points.pbf", format="geobuf", cluster=True, zoomToBoundsOnClick=True,
                                superClusterOptions={{"radius": 60, "maxZoom": 14}})],
                    center=[38, -40], zoom=3, style={{"height": "90vh"}})
@app.server.route("/points.pbf")
def points():
    r = Response(gz, mimetype="application/x-protobuf"); r.headers["Content-Encoding"] = "gzip"; return r
app.run(host="127.0.0.1", port={port}, debug=False, use_reloader=False, threaded=True)
"""


def start_server(kind: str, db: Path, workdir: Path) -> tuple[subprocess.Popen, str]:
    """Start our app or the bare page on a free port; return (process, base URL) once it answers."""
    import urllib.request

    port = free_port()
    empty_assets = workdir / "bare_assets"
    empty_assets.mkdir(exist_ok=True)
    code = (SERVE_OURS if kind == "ours" else SERVE_BARE).format(
        repo=str(REPO), db=str(db), inst=str(workdir / f"inst_{kind}"), port=port, assets=str(empty_assets))
    env = dict(os.environ, FLEETLIGHT_SIMULATOR_ENABLED="false", FLEETLIGHT_SEED_ON_START="false")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=str(REPO), env=env,
                            stdout=subprocess.DEVNULL, stderr=open(workdir / f"{kind}.log", "w"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + ("/login" if kind == "ours" else "/"), timeout=1)
            return proc, base
        except Exception:
            time.sleep(0.25)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start; see {workdir / (kind + '.log')}")


def browser():
    """Return a headless Chromium driver with the probe installed on every new document and no cache."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    o = Options()
    o.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--disable-features=BackForwardCache"):  # pages left behind must not keep running
        o.add_argument(flag)
    d = webdriver.Chrome(options=o)
    d.set_script_timeout(60)
    d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    d.execute_cdp_cmd("Performance.enable", {})
    return d


def sign_in(d, base: str) -> None:
    """Sign the browser in as the bench viewer."""
    from selenium.webdriver.common.by import By

    d.get(base + "/login")
    d.find_element(By.ID, "login-username").send_keys(USER)
    d.find_element(By.ID, "login-password").send_keys(PASSWORD + "\n")
    time.sleep(1.0)


def worker_heap_mb(d) -> float:
    """Return the used JS heap of the page's dedicated workers after a GC, MB (0 when it has none).

    Chromedriver's CDP command only reaches the page, so this opens the browser's own debugging
    socket, attaches to the page, auto-attaches to its workers and asks each for its heap.
    """
    import urllib.request

    import websocket  # websocket-client

    addr = d.capabilities["goog:chromeOptions"]["debuggerAddress"]
    info = json.load(urllib.request.urlopen(f"http://{addr}/json/version", timeout=5))
    ws = websocket.create_connection(info["webSocketDebuggerUrl"], timeout=10, suppress_origin=True)
    counter = iter(range(1, 10_000))
    events: list[dict] = []

    def call(method: str, params: dict | None = None, session: str | None = None) -> dict:
        mid = next(counter)
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        ws.send(json.dumps(msg))
        while True:
            reply = json.loads(ws.recv())
            if reply.get("id") == mid:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            events.append(reply)

    try:
        url = d.current_url
        page = next(t for t in call("Target.getTargets")["targetInfos"] if t["type"] == "page" and t["url"] == url)
        psession = call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        call("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": True}, psession)
        time.sleep(0.3)
        ws.settimeout(0.5)
        try:
            while True:
                events.append(json.loads(ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        ws.settimeout(10)
        total = 0.0
        for ev in events:
            if ev.get("method") == "Target.attachedToTarget" and ev["params"]["targetInfo"]["type"] == "worker":
                wsession = ev["params"]["sessionId"]
                try:
                    call("HeapProfiler.enable", {}, wsession)
                    call("HeapProfiler.collectGarbage", {}, wsession)
                except websocket.WebSocketTimeoutException:
                    pass  # no GC then: the figure is an upper bound
                total += call("Runtime.getHeapUsage", {}, wsession)["usedSize"]
        call("Target.detachFromTarget", {"sessionId": psession})
        return total / 1e6
    finally:
        ws.close()


def measure(d, url: str, shot: Path | None = None) -> dict[str, float]:
    """Load ``url`` and return first-cluster ms, re-cluster ms, heap MB and transferred MB."""
    d.get("about:blank")
    d.execute_cdp_cmd("Network.clearBrowserCache", {})  # cold also for workers' requests (the cache switch misses them)
    d.get(url)
    deadline = time.time() + 60
    while time.time() < deadline:
        t = d.execute_script("return window.__t")
        if t and "styled" in t:
            break
        time.sleep(0.05)
    else:
        raise RuntimeError(f"no clusters on {url}")
    time.sleep(1.5)  # let late requests (KPIs, outlines) finish before counting bytes and heap
    zoom = d.execute_async_script(ZOOM_JS) or []
    nbytes = d.execute_script(
        "var n = performance.getEntriesByType('navigation')[0].transferSize;"
        "performance.getEntriesByType('resource').forEach(function (e) { n += e.transferSize; });"
        "return n + (window.fleetMap ? window.fleetMap.stats().workerBytes : 0);")  # + what our map worker fetched
    d.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    metrics = {m["name"]: m["value"] for m in d.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    worker_mb = worker_heap_mb(d)
    if shot is not None:
        d.save_screenshot(str(shot))
    return {"first_ms": t["styled"], "first_any_ms": t.get("any", t["styled"]),
            "map_ms": t.get("mapInit", float("nan")),
            "zoom_ms": statistics.median(zoom) if zoom else float("nan"),
            "heap_mb": metrics.get("JSHeapUsedSize", 0.0) / 1e6 + worker_mb, "worker_heap_mb": worker_mb,
            "mb": nbytes / 1e6}


def zoomed_shot(d, base: str, site_query: str, path: Path) -> None:
    """Search a site on the map page, fly to it and save a screenshot at site zoom."""
    from selenium.webdriver.common.by import By

    d.get(base + "/map")
    time.sleep(3)
    d.find_element(By.ID, "map-search").send_keys(site_query)
    deadline = time.time() + 10
    while time.time() < deadline and not d.find_elements(By.CSS_SELECTOR, "#map-hits .list-group-item"):
        time.sleep(0.1)
    d.find_element(By.CSS_SELECTOR, "#map-hits .list-group-item").click()
    deadline = time.time() + 20
    while time.time() < deadline:
        zoom = d.execute_script("var m = window.fleetMap.state.map; return m ? m.getZoom() : 0")
        if zoom >= 15 and d.execute_script("return document.querySelectorAll('.fl-point:not(.fl-pending)').length"):
            break
        time.sleep(0.2)
    time.sleep(1.5)
    points = d.find_elements(By.CSS_SELECTOR, ".fl-point:not(.fl-pending)")
    if points:  # show a tooltip in the picture
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(d).move_to_element(points[0]).perform()
        time.sleep(0.5)
    d.save_screenshot(str(path))


def run(sizes: list[int], runs: int) -> list[dict[str, object]]:
    """Measure every size; return one row per (size, page) with medians."""
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mapbench-") as tmp:
        work = Path(tmp)
        for n in sizes:
            t0 = time.perf_counter()
            db = prepare(n, work)
            print(f"# {n:,} assets: seeded in {time.perf_counter() - t0:.1f} s; load average %.2f %.2f %.2f"
                  % os.getloadavg(), flush=True)
            procs = []
            try:
                ours, ours_url = start_server("ours", db, work)
                procs.append(ours)
                bare, bare_url = start_server("bare", db, work)
                procs.append(bare)
                d = browser()
                try:
                    sign_in(d, ours_url)
                    measure(d, ours_url + "/map")  # warm-up: builds the server cache once per fleet version
                    measure(d, bare_url + "/")
                    results: dict[str, list[dict[str, float]]] = {"map page": [], "bare dash-leaflet": []}
                    for i in range(runs):
                        last = i == runs - 1
                        pair = [("bare dash-leaflet", bare_url + "/", f"map_bare_{n}.png"), ("map page", ours_url + "/map", f"map_{n}.png")]
                        # the browser gets slower over a series of cold loads (both pages alike): alternate who goes first
                        for page, url, shot in pair if i % 2 == 0 else pair[::-1]:
                            results[page].append(measure(d, url, OUT / shot if last else None))
                    if n == max(sizes):
                        zoomed_shot(d, ours_url, "La Haute Borne", OUT / f"map_{n}_site_zoom.png")
                finally:
                    d.quit()
            finally:
                for p in procs:
                    p.terminate()
                    p.wait(timeout=10)
            for page, rs in results.items():
                rows.append({"assets": n, "page": page, **{k: statistics.median(r[k] for r in rs) for k in rs[0]}})
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    """Print the figures table (medians) and the ratio to the bare page."""
    print(f"{'assets':>8} | {'page':<18} | {'first clusters ms':>17} | {'vs bare':>7} | {'map created ms':>14} | "
          f"{'re-cluster ms':>13} | {'JS heap MB':>10} | {'transferred MB':>14}")
    print("-" * 123)
    bare = {r["assets"]: r for r in rows if r["page"] == "bare dash-leaflet"}
    for r in rows:
        ratio = r["first_ms"] / bare[r["assets"]]["first_ms"] if r["assets"] in bare else float("nan")
        print(f"{r['assets']:>8,} | {r['page']:<18} | {r['first_ms']:>17.0f} | {ratio:>6.2f}x | {r['map_ms']:>14.0f} | "
              f"{r['zoom_ms']:>13.1f} | {r['heap_mb']:>10.1f} | {r['mb']:>14.2f}")


def main() -> None:
    """Run the bench from the command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,100000", help="comma-separated asset counts")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = ap.parse_args()
    print("load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    rows = run([int(s) for s in args.sizes.split(",")], args.runs)
    print("load average (1, 5, 15 min) after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
