"""Gateway overhead per call: raw httpx vs Gateway.request against the same local server.

Run: .venv/bin/python bench/gateway_overhead.py [calls]
Prints p50/p95 latency of both and the overhead (gateway - raw) at p50; goal < 1 ms. The gateway
run logs every call into a SQLite database through the buffered call log (as in production), and
a second pair of runs uses an in-memory httpx transport to isolate the gateway's own cost.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]

from provider_server import ProviderServer  # noqa: E402

from core.settings import load_settings  # noqa: E402
from data.db import Database  # noqa: E402
from data.models import Base  # noqa: E402
from gateway import Gateway  # noqa: E402

LIMITS = {"caiso": {"rate_per_s": 1e6, "burst": 1e6}}


def timed(fn, n: int) -> list[float]:
    for _ in range(min(200, n)):  # warm-up
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def report(name: str, values: list[float]) -> float:
    p50 = statistics.median(values)
    print(f"  {name:<34} p50 {p50:7.3f} ms   p95 {pct(values, 0.95):7.3f} ms")
    return p50


def main(n: int = 3000) -> None:
    tmp = Path(tempfile.mkdtemp())
    database = Database(f"sqlite:///{tmp / 'bench.db'}")
    Base.metadata.create_all(database.engine)
    with ProviderServer() as server:
        url = f"{server.url}/raw/ping"
        settings = load_settings(caiso_enabled=True, provider_base_urls={"caiso": f"{server.url}/raw"},
                                 provider_limits=LIMITS, provider_polling_enabled=False)
        print(f"gateway overhead, {n} calls each, local HTTP server ({url})")
        with httpx.Client() as client:
            raw = report("raw httpx.Client.get", timed(lambda: client.get(url), n))
        gw = Gateway(settings, db=database, flush_interval_s=0.5)
        via = report("Gateway.request (+ call log)", timed(lambda: gw.request("caiso", "GET", "/ping"), n))
        gw.close()
        print(f"  overhead at p50: {via - raw:+.3f} ms  (goal < 1 ms)")
        print(f"  call-log rows written: {gw.call_log.written}, dropped: {gw.call_log.dropped}")

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b'{"ok": true}'))
    print(f"isolated (in-memory transport, no network), {n} calls each")
    with httpx.Client(transport=transport) as client:
        raw = report("raw httpx.Client.get", timed(lambda: client.get("http://x/ping"), n))
    gw = Gateway(settings, db=database, transport=transport, flush_interval_s=0.5)
    via = report("Gateway.request (+ call log)", timed(lambda: gw.request("caiso", "GET", "http://x/ping"), n))
    gw.close()
    print(f"  gateway's own cost at p50: {via - raw:+.3f} ms")
    database.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
