"""Cold start: time from launching ``python app.py`` to the first page served.

    .venv/bin/python bench/cold_start.py

Two runs on a fresh instance folder each time:
* first start: empty SQLite file, so start-up migrates, seeds the demo fleet and back-fills the
  simulator history before serving;
* warm start: the same database again (migrations at head, fleet present).

"First page served" = a signed-in ``GET /`` (the Dash index) and ``GET /_dash-layout`` (the
overview's layout with its data) both answered 200. The bench account is created through the CLI
before each start (that time is not counted).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from signin import create_bench_user, http_session

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_start(instance: Path, extra_env: dict[str, str] | None = None) -> dict[str, float]:
    """Start the app, return seconds to first listen, to GET / and to the overview layout."""
    port = free_port()
    env = {**os.environ, "FLEETLIGHT_INSTANCE_DIR": str(instance), "FLEETLIGHT_PORT": str(port),
           "FLEETLIGHT_LOG_LEVEL": "WARNING", **(extra_env or {})}
    env.pop("FLEETLIGHT_DATABASE_URL", None)
    create_bench_user(env)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    out: dict[str, float] = {}
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = t0 + 300
        while time.perf_counter() < deadline:
            try:
                client = http_session(base)
                r = client.get("/")
                out.setdefault("listening_s", time.perf_counter() - t0)
                if r.status_code == 200:
                    out["index_s"] = time.perf_counter() - t0
                    r = client.get("/_dash-layout")
                    r.raise_for_status()
                    out["layout_s"] = time.perf_counter() - t0
                    out["layout_bytes"] = float(len(r.content))
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the app did not serve within 300 s")
    finally:
        proc.terminate()
        proc.wait(20)
    return out


def main() -> None:
    instance = Path(tempfile.mkdtemp(prefix="fl-cold-"))
    first = time_start(instance)
    warm = time_start(instance)
    quiet = time_start(Path(tempfile.mkdtemp(prefix="fl-cold-")), {"FLEETLIGHT_SEED_ON_START": "false",
                                                                    "FLEETLIGHT_SIMULATOR_ENABLED": "false"})
    print("cold start of `python app.py` to first page served (GET / and /_dash-layout 200)")
    for label, r in (("first start (migrate + seed 400 assets + 24 h back-fill)", first),
                     ("warm start (existing database, simulator on)", warm),
                     ("bare start (empty database, no seed, no simulator)", quiet)):
        print(f"  {label:58s} index {r['index_s']:5.2f} s   overview layout {r['layout_s']:5.2f} s")


if __name__ == "__main__":
    main()
