"""Live push capacity: points/s one wall display keeps up with, and clients one process serves.

    .venv/bin/python bench/live_throughput.py [--rates 5000,10000,20000] [--clients 100,300,600]

Part 1 (wall display): the app (one process, in-process bus, SQLite) on 40 sites x 25 inverters;
two threads POST telemetry at each target rate for 12 s while a signed-in headless Chromium
shows /live. A probe value is posted every 0.5 s; the display "keeps up" when the server ingests
the target rate, every probe value appears in the DOM, and the probe latency p95 stays under 1 s.

Part 2 (clients): N python-socketio clients (websocket, room ``live``) on the same single process;
one point is posted per second for 10 s; reported: the share of (client, update) pairs delivered
and the p95 delivery latency (receive time minus the time just before the POST).
"""
from __future__ import annotations

import argparse
import datetime as dt
import threading
import time

import socketio
from live_common import PROBE_ASSET, PROBE_SITE, WATCH_JS, BenchApp, browser, load_points, percentile


def wall_display(app: BenchApp, rates: list[int]) -> None:
    """Print, per ingest rate, whether one browser keeps up."""
    driver = browser(app.url)
    try:
        driver.execute_script(WATCH_JS)
        base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=4)
        offset = 0
        print("wall display (one Chromium on /live), 12 s per rate:")
        for rate in rates:
            stop = threading.Event()
            sent = [0, 0]
            per_post = 1000

            def poster(slot: int, start_index: int) -> None:
                next_at = time.monotonic()
                k = start_index
                while not stop.is_set():
                    app.post(load_points(app.load_assets, k, per_post, base))
                    k += 2 * per_post
                    sent[slot] += per_post
                    next_at += 2 * per_post / rate
                    time.sleep(max(0.0, next_at - time.monotonic()))

            threads = [threading.Thread(target=poster, args=(i, offset + i * per_post), daemon=True) for i in range(2)]
            pushes_before = driver.execute_script("return window.flLive.pushes;")
            t_start = time.monotonic()
            for t in threads:
                t.start()
            probes = []
            stored: list[float] = []
            start = dt.datetime.now(dt.UTC).replace(microsecond=0)
            i = 0
            while time.monotonic() - t_start < 12.0:
                kw = 30_000.0 + 10.0 * (i + 100 * rates.index(rate))
                t0 = time.time() * 1000.0
                app.post([{"asset_id": PROBE_ASSET, "metric": "power_kw",
                           "ts": (start + dt.timedelta(milliseconds=10 * i)).isoformat(), "value": kw}])
                stored.append(time.time() * 1000.0)
                probes.append((t0, f"{kw / 1000.0:.2f}"))
                i += 1
                time.sleep(0.5)
            stop.set()
            for t in threads:
                t.join(10)
            elapsed = time.monotonic() - t_start
            offset += sum(sent) + 4 * per_post
            time.sleep(1.5)
            seen = driver.execute_script("return window.__probe;")
            lat = [next((t for t, shown in seen if shown == text and t >= t0 - 5), None) for t0, text in probes]
            missing = sum(1 for v in lat if v is None)
            lats = [v - t0 for v, (t0, _) in zip(lat, probes, strict=False) if v is not None]
            push_lats = [v - s for v, s in zip(lat, stored, strict=False) if v is not None]
            pushes = driver.execute_script("return window.flLive.pushes;") - pushes_before
            achieved = sum(sent) / elapsed
            p95 = percentile(push_lats, 0.95) if push_lats else float("nan")
            ok = achieved >= 0.95 * rate and missing == 0 and p95 < 1000
            print(f"  target {rate:>6,}/s: ingested {achieved:>7,.0f} points/s, browser applied {pushes / elapsed:4.1f} "
                  f"pushes/s; probe POST->DOM p50 {percentile(lats, 0.5):.0f} p95 {percentile(lats, 0.95):.0f} ms, "
                  f"stored->DOM p50 {percentile(push_lats, 0.5):.0f} p95 {p95:.0f} ms, missing {missing} -> "
                  f"{'keeps up' if ok else 'FALLS BEHIND (ingest limit)' if missing == 0 and p95 < 1000 else 'FALLS BEHIND'}")
    finally:
        driver.quit()


def clients(app: BenchApp, counts: list[int]) -> None:
    """Print delivery figures for N concurrent Socket.IO clients at one update per second."""
    print("concurrent clients on one process, 1 update/s for 10 s:")
    for n in counts:
        received: dict[int, dict[str, float]] = {}
        lock = threading.Lock()
        sockets = []
        for c in range(n):
            sio = socketio.Client(reconnection=False)

            def on_push(payload: dict, c: int = c) -> None:
                site = payload["sites"].get(PROBE_SITE)
                if site and site.get("output_mw") is not None and not payload.get("full"):
                    with lock:
                        received.setdefault(c, {}).setdefault(f"{site['output_mw']:.3f}", time.time() * 1000.0)

            sio.on("live_sites", on_push, namespace="/live")
            sio.connect(app.url, namespaces=["/live"], auth={"token": app.token, "rooms": ["live"]},
                        transports=["websocket"], wait_timeout=30)
            sockets.append(sio)
        time.sleep(2.0)
        sent = []
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
        for i in range(10):
            kw = 50_000.0 + 7.0 * i + n
            t0 = time.time() * 1000.0
            app.post([{"asset_id": PROBE_ASSET, "metric": "power_kw", "ts": (start + dt.timedelta(seconds=i)).isoformat(),
                       "value": kw}])
            sent.append((t0, f"{kw / 1000.0:.3f}"))
            time.sleep(1.0)
        time.sleep(2.0)
        lats = [received[c][key] - t0 for c in range(n) for t0, key in sent if key in received.get(c, {})]
        share = len(lats) / (n * len(sent))
        print(f"  {n:>4} clients: delivered {share:6.1%} of updates, latency p50 {percentile(lats, 0.5):.0f} ms, "
              f"p95 {percentile(lats, 0.95):.0f} ms, max {max(lats):.0f} ms")
        for sio in sockets:
            sio.disconnect()
        time.sleep(2.0)


def main() -> None:
    """Run both parts."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="5000,10000,20000")
    parser.add_argument("--clients", default="100,300,600")
    args = parser.parse_args()
    app = BenchApp()
    try:
        if args.rates:
            wall_display(app, [int(r) for r in args.rates.split(",")])
        if args.clients:
            clients(app, [int(c) for c in args.clients.split(",")])
    finally:
        app.close()


if __name__ == "__main__":
    main()
