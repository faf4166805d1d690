"""Time to recover after a provider comes back: breaker open -> half-open -> closed.

Run: .venv/bin/python bench/gateway_recovery.py
The local server answers 503 until the breaker opens; after a random outage (1.5 to 3 reset
timeouts) the provider comes back while a poller calls every 100 ms. Prints per reset timeout
the time from the provider's return to the first successful call (breaker closed again) — mean
and max over the trials — and the duration of the successful half-open trial call.
"""
from __future__ import annotations

import logging
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]

from provider_server import ProviderServer  # noqa: E402

from core.settings import load_settings  # noqa: E402
from gateway import Gateway, ProviderError  # noqa: E402


def trial(server: ProviderServer, reset_s: float, down_for_s: float, interval_s: float = 0.1) -> tuple[float, float]:
    limits = {"caiso": {"rate_per_s": 1000, "burst": 1000, "reset_timeout_s": reset_s, "fail_max": 3,
                        "max_attempts": 2, "backoff_initial_s": 0.05, "backoff_max_s": 0.1, "timeout_s": 2}}
    settings = load_settings(caiso_enabled=True, provider_base_urls={"caiso": f"{server.url}/raw"},
                             provider_limits=limits, provider_polling_enabled=False)
    gw = Gateway(settings, db=None)
    server.persist("raw", "503")
    start = time.monotonic()
    came_back = None
    while True:
        now = time.monotonic()
        if came_back is None and now - start >= down_for_s:
            server.persist("raw", None)
            came_back = now
        t = time.perf_counter()
        try:
            gw.request("caiso", "GET", "/ping", fallback=False)
            if came_back is not None:
                trial_ms = (time.perf_counter() - t) * 1000
                break
        except ProviderError:
            pass
        time.sleep(interval_s)
    recovered = time.monotonic() - came_back
    assert gw.breaker_state("caiso") == "closed"
    gw.close()
    return recovered, trial_ms


def main(trials: int = 4) -> None:
    logging.disable(logging.CRITICAL)
    rng = random.Random(5)
    print(f"breaker recovery: fail_max 3, poll every 100 ms, {trials} outages per reset timeout")
    with ProviderServer() as server:
        for reset_s in (0.5, 1.0, 2.0):
            results = [trial(server, reset_s, rng.uniform(1.5, 3.0) * reset_s) for _ in range(trials)]
            rec = [r for r, _ in results]
            print(f"  reset_timeout {reset_s:3.1f} s: provider back -> breaker closed mean {statistics.mean(rec):.2f} s,"
                  f" max {max(rec):.2f} s (bound: reset_timeout + poll interval); half-open trial call "
                  f"{statistics.mean(t for _, t in results):.1f} ms")


if __name__ == "__main__":
    main()
