"""SCADA adapter throughput: points/s one adapter sustains against its local peer, through the real
ingest path (validation, exactly-once store on SQLite, in-process bus).

    .venv/bin/python bench/scada_throughput.py [--messages 2000] [--polls 300]

MQTT: ``--messages`` JSON messages of three metrics each (three assets in turn, one second apart)
are published to the local Mosquitto at once with QoS 1; the figure is points stored / time from
the first publish to the last point stored (the adapter ingests what arrived every 0.1 s as one batch).
Modbus: a pymodbus server on loopback serving a 4-register map; the poller polls back to back
(``poll_once``) ``--polls`` times; the figure is points stored per second and the poll latency.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _services(work: Path):
    from bootstrap.build import build
    from core.settings import load_settings
    from tests.support.fleet import make_small_fleet

    settings = load_settings(database_url=f"sqlite:///{work / 'bench.db'}", instance_dir=work, simulator_enabled=False,
                             seed_on_start=False, provider_polling_enabled=False, secret_key="bench-secret-key-0123456789")
    services = build(settings, "test")
    from data.migrate import upgrade_to_head

    upgrade_to_head(services.db)
    make_small_fleet(services.db)
    services.ingest.assets.refresh()
    return services


def _stored(db) -> int:
    from sqlalchemy import func, select

    from data.models import TelemetryPoint

    with db.session() as s:
        return s.execute(select(func.count()).select_from(TelemetryPoint)).scalar_one()


def bench_mqtt(services, n_messages: int) -> None:
    import uuid

    import paho.mqtt.client as mqtt

    from scada.component import build_adapters
    from scada.config import parse_config

    root = f"flbench-{uuid.uuid4().hex[:6]}"
    config = parse_config(f'mqtt:\n  - name: bench\n    subscriptions:\n      - {{topic: "{root}/+", asset: "{{1}}"}}\n')
    (adapter,) = build_adapters(config, services.ingest, services.db, stale_after_s=60)
    adapter.start()
    while not adapter.connected:
        time.sleep(0.05)
    time.sleep(0.3)
    assets = ["t-sol-INV-01", "t-sol-INV-02", "t-sol-INV-03"]
    start_ts = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    payloads = []
    for k in range(n_messages):
        ts = (start_ts + dt.timedelta(seconds=k)).isoformat().replace("+00:00", "Z")
        payloads.append((f"{root}/{assets[k % 3]}", orjson.dumps(
            {"ts": ts, "power_kw": float(k % 900), "temperature_c": 20.0 + k % 10, "irradiance_wm2": float(k % 1000)})))
    before = _stored(services.db)
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    t0 = time.perf_counter()
    infos = [client.publish(topic, body, qos=1) for topic, body in payloads]
    for info in infos:
        info.wait_for_publish(30)
    want = before + 3 * n_messages
    while _stored(services.db) < want and time.perf_counter() - t0 < 120:
        time.sleep(0.02)
    elapsed = time.perf_counter() - t0
    client.loop_stop()
    client.disconnect()
    adapter.stop(5)
    got = _stored(services.db) - before
    print(f"MQTT   : {n_messages:,} messages x 3 points -> {got:,} stored in {elapsed:.2f} s = "
          f"{got / elapsed:,.0f} points/s ({n_messages / elapsed:,.0f} messages/s, ingested in batches every 0.1 s)")


def bench_modbus(services, polls: int) -> None:
    import statistics

    from scada.component import build_adapters
    from scada.config import parse_config
    from tests.support.live_services import free_port
    from tests.support.modbus_peer import ModbusPeer

    peer = ModbusPeer(free_port()).start()
    peer.set_value(0, 500.0, "float32")
    peer.set_value(2, 250, "int16")
    config = parse_config(f"""
modbus:
  - {{name: bench, port: {peer.port}, asset_id: t-sol-INV-01, model: m, poll_s: 1}}
register_maps:
  m:
    - {{metric: power_kw, address: 0, type: float32}}
    - {{metric: temperature_c, address: 2, type: int16, scale: 0.1}}
""")
    (poller,) = build_adapters(config, services.ingest, services.db, stale_after_s=60)
    latencies = []
    before = _stored(services.db)
    for k in range(polls):
        peer.set_value(0, 500.0 + k, "float32")
        t = time.perf_counter()
        poller.poll_once()
        latencies.append(time.perf_counter() - t)
    poller.stop(2)
    peer.stop()
    points = _stored(services.db) - before  # stored, not merely accepted (a repeat would be a duplicate)
    total = sum(latencies)
    latencies.sort()
    print(f"Modbus : {polls} polls x 2 registers back to back -> {points} points in {total:.2f} s = "
          f"{points / total:,.0f} points/s; poll (read + validate + store) p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--polls", type=int, default=300)
    args = parser.parse_args()
    services = _services(Path(tempfile.mkdtemp(prefix="fl-scada-bench-")))
    bench_mqtt(services, args.messages)
    bench_modbus(services, args.polls)
    services.bus.close()


if __name__ == "__main__":
    main()
