"""End-to-end latency: POST /api/v1/telemetry -> value visible in the browser DOM, under load.

    .venv/bin/python bench/live_latency.py [--load 2000] [--probes 80]

The app runs as `python app.py` (in-process bus, SQLite, Socket.IO threading mode) on a bench
fleet of 40 sites x 25 inverters plus a probe site. A thread posts background telemetry at
``--load`` points/s (batches every 100 ms over the 1,000 inverters). Meanwhile a probe posts one
distinct value for the probe site every 0.2-0.4 s; a MutationObserver in a signed-in headless
Chromium on /live records when the probe site's output cell shows that value. Latency = time
the value appeared in the DOM minus the time just before the POST was sent (same machine clock).
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import threading
import time

from live_common import PROBE_ASSET, WATCH_JS, BenchApp, browser, load_points, percentile


def main() -> None:
    """Run the bench and print p50/p95 latency."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", type=int, default=2000, help="background points per second")
    parser.add_argument("--probes", type=int, default=80)
    parser.add_argument("--interval-ms", type=int, default=0, help="push batching interval (default: the setting)")
    args = parser.parse_args()
    extra = {"FLEETLIGHT_LIVE_PUSH_INTERVAL_MS": str(args.interval_ms)} if args.interval_ms else {}
    app = BenchApp(extra_env=extra)
    driver = None
    stop = threading.Event()
    sent = [0]
    try:
        driver = browser(app.url)
        driver.execute_script(WATCH_JS)
        base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)

        def background() -> None:
            per_tick = max(1, args.load // 10)
            next_at = time.monotonic()
            while not stop.is_set():
                app.post(load_points(app.load_assets, sent[0], per_tick, base))
                sent[0] += per_tick
                next_at += 0.1
                time.sleep(max(0.0, next_at - time.monotonic()))

        thread = threading.Thread(target=background, daemon=True)
        load_start = time.monotonic()
        thread.start()
        time.sleep(2.0)
        probes: list[tuple[float, str]] = []
        post_ms: list[float] = []
        start = dt.datetime.now(dt.UTC).replace(microsecond=0)
        for i in range(args.probes):
            kw = 20_000.0 + 10.0 * i
            ts = start + dt.timedelta(milliseconds=10 * i)
            t0 = time.time() * 1000.0
            app.post([{"asset_id": PROBE_ASSET, "metric": "power_kw", "ts": ts.isoformat(), "value": kw}])
            post_ms.append(time.time() * 1000.0 - t0)
            probes.append((t0, f"{kw / 1000.0:.2f}"))
            time.sleep(random.uniform(0.2, 0.4))
        time.sleep(1.5)
        stop.set()
        thread.join(5)
        achieved = sent[0] / (time.monotonic() - load_start)
        seen = driver.execute_script("return window.__probe;")
        latencies = []
        missing = 0
        for t0, text in probes:
            hit = next((t for t, shown in seen if shown == text and t >= t0 - 5), None)
            if hit is None:
                missing += 1
            else:
                latencies.append(hit - t0)
        print(f"end-to-end latency POST -> browser DOM, {len(latencies)} probes, background load {achieved:,.0f} points/s "
              f"(target {args.load:,})")
        print(f"  p50 {percentile(latencies, 0.5):.0f} ms   p95 {percentile(latencies, 0.95):.0f} ms   "
              f"max {max(latencies):.0f} ms   (probe values never shown: {missing})")
        print(f"  of which the POST itself (validate + store + listeners): p50 {percentile(post_ms, 0.5):.0f} ms, "
              f"p95 {percentile(post_ms, 0.95):.0f} ms; push batching interval {args.interval_ms or 'default'} ms")
    finally:
        stop.set()
        if driver is not None:
            driver.quit()
        app.close()


if __name__ == "__main__":
    main()
