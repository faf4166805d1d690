"""Cost of the security layer on a Dash callback: p50/p95 latency, protected vs open.

    .venv/bin/python bench/security_callback_overhead.py [--requests 400] [--sites 40]

Each mode runs in its own process (a Dash pages app is built once per process):

* ``open``: the app without ``security.web`` (no sign-in, no guard, no CSRF check);
* ``protected``: the full app, a signed-in viewer with the CSRF header, so every request runs
  session decoding, the idle/absolute timeout check, loading the user from the database, the CSRF
  and Origin checks, the callback-to-page role lookup, and the security headers on the response.

Two callbacks are timed through the Flask test client (in-process WSGI, no network): the shell's
navbar toggle (trivial, so it isolates the overhead) and the overview refresh (real queries over
a seeded SQLite fleet). Prints one table; numbers are milliseconds per request.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("FLEETLIGHT_SIMULATOR_ENABLED", "false")
os.environ.setdefault("FLEETLIGHT_SEED_ON_START", "false")

NAV_BODY = {"output": "shell-nav-collapse.is_open", "outputs": {"id": "shell-nav-collapse", "property": "is_open"},
            "inputs": [{"id": "shell-nav-toggler", "property": "n_clicks", "value": 1}],
            "state": [{"id": "shell-nav-collapse", "property": "is_open", "value": False}],
            "changedPropIds": ["shell-nav-toggler.n_clicks"]}
PASSWORD = "bench-password-123"


def _overview_body(app) -> dict:
    key = next(k for k in app.callback_map if "ov-kpi-output-value.children" in k)
    spec = app.callback_map[key]
    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]} for part in key[2:-2].split("...")]
    values = {("ov-search", "value"): None, ("ov-kinds", "value"): None, ("shell-theme", "data"): "light"}
    inputs = [{"id": i["id"], "property": i["property"], "value": values.get((i["id"], i["property"]))}
              for i in spec["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": None} for s in spec.get("state", [])]
    return {"output": key, "outputs": outputs, "inputs": inputs, "state": state,
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}


def run_mode(mode: str, n: int, sites: int) -> dict:
    """Build the app in ``mode`` and return {callback: [latencies ms]}."""
    from bootstrap.web import create_app
    from core import runtime
    from core.settings import load_settings
    from data.db import Database
    from data.migrate import upgrade_to_head

    workdir = Path(tempfile.mkdtemp(prefix="fl-secbench-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade_to_head(Database(url))
    if mode == "open":
        # the baseline without the security layer: its install is skipped and every request is an
        # admin (bench only; the app itself cannot be built without security)
        from data.models import Role
        from security import access
        from security import web as security_web

        security_web.install = lambda app, services: None
        access.IDENTITY_RESOLVERS.append(lambda: access.Caller("bench-open", Role.admin, None, "session"))
    settings = load_settings(database_url=url, instance_dir=workdir, simulator_enabled=False, seed_on_start=False,
                             secret_key="bench-secret")
    app = create_app(settings)
    services = runtime.services()
    from demo.fleet import seed_demo_fleet

    seed_demo_fleet(services.db, sites * 10)
    client = app.server.test_client()
    headers: dict[str, str] = {}
    if mode == "protected":
        import re

        from data.models import Role
        from security.users import create_user

        create_user(services.db, "bench-viewer", PASSWORD, Role.viewer)
        form = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        assert client.post("/login", data={"username": "bench-viewer", "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
        headers = {"X-CSRFToken": client.get_cookie("_csrf_token").value}
    client.get("/")  # first request: Dash registers its router and merges callbacks
    out = {}
    for name, body in (("navbar toggle (trivial)", NAV_BODY), ("overview refresh (DB)", _overview_body(app))):
        for _ in range(20):
            client.post("/_dash-update-component", json=body, headers=headers)
        times = []
        for _ in range(n):
            start = time.perf_counter()
            response = client.post("/_dash-update-component", json=body, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (mode, name, response.status_code, response.get_data(as_text=True)[:200])
        out[name] = times
    return out


def main() -> None:
    """Run both modes in subprocesses and print p50/p95 per callback."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--sites", type=int, default=40, help="demo fleet size in sites (x10 assets)")
    parser.add_argument("--mode", choices=["open", "protected"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.requests, args.sites)))
        return
    results = {}
    for mode in ("open", "protected"):
        proc = subprocess.run([sys.executable, __file__, "--mode", mode, "--requests", str(args.requests),
                               "--sites", str(args.sites)], capture_output=True, text=True, cwd=ROOT, check=True)
        results[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"Dash callback latency, {args.requests} requests each, Flask test client, demo fleet "
          f"{args.sites * 10} assets (ms)")
    print(f"{'callback':26} {'open p50':>9} {'prot p50':>9} {'Δ p50':>7} {'open p95':>9} {'prot p95':>9}")
    for name in results["open"]:
        o, p = results["open"][name], results["protected"][name]
        o50, p50 = statistics.median(o), statistics.median(p)
        o95, p95 = statistics.quantiles(o, n=20)[18], statistics.quantiles(p, n=20)[18]
        print(f"{name:26} {o50:9.2f} {p50:9.2f} {p50 - o50:+7.2f} {o95:9.2f} {p95:9.2f}")


if __name__ == "__main__":
    main()
