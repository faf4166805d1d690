"""The SCADA adapters against real peers on loopback: a pymodbus server and the Mosquitto broker,
feeding the real ingest path (validation, exactly-once store, dead letters) of the test database."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from pymodbus.constants import ExcCodes
from sqlalchemy import select

from data.models import AssetLatest, DeadLetter, TelemetryPoint
from scada.component import ScadaAdapters, build_adapters
from scada.config import parse_config
from tests.support.live_services import free_port, require_service, wait_for
from tests.support.modbus_peer import ModbusPeer

pytestmark = pytest.mark.services

MAP = """
register_maps:
  generic-inverter:
    - {metric: power_kw, address: 0, type: float32}
    - {metric: temperature_c, address: 2, type: int16, scale: 0.1}
    - {metric: irradiance_wm2, address: 4, table: input, type: uint32, word_order: little}
"""


def _latest(db, asset: str) -> dict[str, float]:
    with db.session() as s:
        return {m: v for m, v in s.execute(select(AssetLatest.metric, AssetLatest.value).where(AssetLatest.asset_id == asset))}


def _dead(db, source: str) -> list[DeadLetter]:
    with db.session() as s:
        return list(s.execute(select(DeadLetter).where(DeadLetter.source == source)).scalars())


@pytest.fixture()
def peers():
    made = []

    def make() -> ModbusPeer:
        peer = ModbusPeer(free_port()).start()
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.stop()


def _modbus_config(*devices: tuple[str, int, str]) -> str:
    rows = "\n".join(f"  - {{name: {n}, port: {p}, asset_id: {a}, model: generic-inverter, poll_s: 0.2, timeout_s: 1}}"
                     for n, p, a in devices)
    return "modbus:\n" + rows + MAP


def test_modbus_values_read_equal_what_the_device_serves(small_fleet, peers):
    peer = peers()
    peer.set_value(0, 1234.5, "float32")
    peer.set_value(2, 415, "int16")  # 41.5 degC at scale 0.1
    peer.set_value(4, 812, "uint32", word_order="little")
    config = parse_config(_modbus_config(("inv-1", peer.port, "t-sol-INV-01")))
    (poller,) = build_adapters(config, small_fleet.ingest, small_fleet.db, stale_after_s=60)
    assert poller.poll_once() == 3
    assert _latest(small_fleet.db, "t-sol-INV-01") == {"power_kw": 1234.5, "temperature_c": 41.5, "irradiance_wm2": 812.0}
    assert poller.health()["status"] == "ok"


def test_modbus_faults_stay_with_their_device(small_fleet, peers):
    good, bad = peers(), peers()
    good.set_value(0, 100.0, "float32")
    bad.set_value(0, 200.0, "float32")
    config = parse_config(_modbus_config(("inv-1", good.port, "t-sol-INV-01"), ("inv-2", bad.port, "t-sol-INV-02")))
    component = ScadaAdapters(build_adapters(config, small_fleet.ingest, small_fleet.db, stale_after_s=1.0),
                              source=Path("test.yaml"))
    component.start()
    try:
        wait_for(lambda: _latest(small_fleet.db, "t-sol-INV-02").get("power_kw") == 200.0, 10, what="both devices read")
        bad.fail_with = ExcCodes.DEVICE_FAILURE  # the device answers every read with an exception
        good.set_value(0, 150.0, "float32")
        wait_for(lambda: _latest(small_fleet.db, "t-sol-INV-01").get("power_kw") == 150.0, 10, what="the good one")
        inv2 = component.adapters[1]
        wait_for(lambda: inv2.failures > 0, 10, what="the fault recorded")
        assert "holding register 0 (power_kw)" in inv2.last_error
        wait_for(lambda: inv2.health()["stale_devices"] == ["t-sol-INV-02"], 10, what="the faulty device stale")
        health = component.health()
        assert health["status"] == "degraded" and health["not_ok"] == ["modbus:inv-2"]
        assert component.adapters[0].health()["status"] == "ok"
        # the device recovers: polled again after the back-off, fresh again
        bad.fail_with = None
        bad.set_value(0, 250.0, "float32")
        wait_for(lambda: _latest(small_fleet.db, "t-sol-INV-02").get("power_kw") == 250.0, 15, what="recovery")
    finally:
        component.stop(5)


def test_modbus_device_that_goes_away_reconnects(small_fleet, peers):
    port = free_port()
    peer = ModbusPeer(port).start()
    peer.set_value(0, 10.0, "float32")
    config = parse_config(_modbus_config(("inv-1", port, "t-sol-INV-01")))
    (poller,) = build_adapters(config, small_fleet.ingest, small_fleet.db, stale_after_s=60)
    poller.start()
    try:
        wait_for(lambda: _latest(small_fleet.db, "t-sol-INV-01").get("power_kw") == 10.0, 10, what="first read")
        peer.stop()
        wait_for(lambda: not poller.connected and poller.failures > 0, 10, what="the loss noticed")
        assert poller.health()["status"] == "down"
        again = ModbusPeer(port).start()
        try:
            again.set_value(0, 20.0, "float32")
            wait_for(lambda: _latest(small_fleet.db, "t-sol-INV-01").get("power_kw") == 20.0, 20, what="reconnected")
        finally:
            again.stop()
    finally:
        poller.stop(5)


def test_modbus_out_of_range_value_is_rejected_and_dead_lettered(small_fleet, peers):
    peer = peers()
    peer.set_value(0, 1.0e9, "float32")  # a GW on a kW inverter
    peer.set_value(2, 300, "int16")
    config = parse_config(_modbus_config(("inv-1", peer.port, "t-sol-INV-01")))
    (poller,) = build_adapters(config, small_fleet.ingest, small_fleet.db, stale_after_s=60)
    assert poller.poll_once() == 2  # temperature and irradiance kept
    assert "power_kw" not in _latest(small_fleet.db, "t-sol-INV-01")
    (letter,) = _dead(small_fleet.db, "modbus:inv-1")
    assert "outside the plausible range" in letter.reason
    assert "outside the plausible range" in poller.health()["devices"]["t-sol-INV-01"]["last_error"]


# --- MQTT against Mosquitto -----------------------------------------------------------------------


@pytest.fixture()
def broker_config():
    require_service("Mosquitto", "127.0.0.1", 1883)
    root = f"fltest-{uuid.uuid4().hex[:8]}"
    text = f"""
mqtt:
  - name: plant
    subscriptions:
      - {{topic: "{root}/+/+/telemetry", asset: "{{1}}-{{2}}"}}
      - {{topic: "{root}/spb/+", asset: "t-wind-{{1}}", format: sparkplug}}
"""
    return root, parse_config(text)


def _publish(topic: str, payload: bytes) -> None:
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    client.publish(topic, payload, qos=1).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def test_mqtt_messages_reach_the_store_and_bad_ones_the_dead_letters(small_fleet, broker_config):
    root, config = broker_config
    (adapter,) = build_adapters(config, small_fleet.ingest, small_fleet.db, stale_after_s=60)
    adapter.start()
    try:
        wait_for(lambda: adapter.connected, 10, what="connected to Mosquitto")
        time.sleep(0.3)  # the subscription is acknowledged after the connect
        ts = "2026-06-01T10:00:00Z"
        _publish(f"{root}/t-sol/INV-01/telemetry", orjson.dumps({"ts": ts, "power_kw": 321.5, "temperature_c": 35.0}))
        _publish(f"{root}/spb/WTG-01", orjson.dumps({"timestamp": 1780308000000,
                                                      "metrics": [{"name": "power_kw", "value": 1500.25}]}))
        _publish(f"{root}/t-sol/INV-02/telemetry", b"{not json")
        _publish(f"{root}/t-sol/INV-03/telemetry", orjson.dumps({"ts": ts, "power_kw": "lots"}))
        wait_for(lambda: _latest(small_fleet.db, "t-wind-WTG-01").get("power_kw") == 1500.25
                 and len(_dead(small_fleet.db, "mqtt:plant")) == 2, 10, what="the four messages handled")
        assert _latest(small_fleet.db, "t-sol-INV-01") == {"power_kw": 321.5, "temperature_c": 35.0}
        letters = {d.reason.split(":")[0]: d for d in _dead(small_fleet.db, "mqtt:plant")}
        assert any("payload is not JSON" in d.reason and d.payload["payload"] == "{not json" for d in letters.values())
        assert any("value" in d.reason for d in letters.values())  # "lots" refused by the validator, by field
        health = adapter.health()
        assert health["connected"] and health["messages"] == 4 and health["dead_lettered"] == 1
        assert health["devices"]["t-sol-INV-01"]["points"] == 2 and not health["devices"]["t-sol-INV-01"]["stale"]
        assert "payload is not JSON" in health["devices"]["t-sol-INV-02"]["last_error"]
        # the same message again is stored once (exactly-once ingest)
        _publish(f"{root}/t-sol/INV-01/telemetry", orjson.dumps({"ts": ts, "power_kw": 321.5, "temperature_c": 35.0}))
        wait_for(lambda: adapter.health()["messages"] == 5, 10, what="the repeat handled")
        with small_fleet.db.session() as s:
            assert len(s.execute(select(TelemetryPoint).where(TelemetryPoint.asset_id == "t-sol-INV-01")).all()) == 2
    finally:
        adapter.stop(5)
    assert not adapter.connected


def test_mqtt_broker_down_is_reported_and_start_up_goes_on(small_fleet):
    config = parse_config(f"""
mqtt:
  - name: nowhere
    port: {free_port()}
    subscriptions: [{{topic: "x/+", asset: "{{1}}"}}]
""")
    (adapter,) = build_adapters(config, small_fleet.ingest, small_fleet.db, stale_after_s=60)
    started = time.monotonic()
    adapter.start()
    try:
        assert time.monotonic() - started < 1.0  # connects in the background
        time.sleep(1.5)
        assert adapter.health()["status"] == "down" and not adapter.connected
    finally:
        adapter.stop(5)


def test_integrations_page_lists_each_adapter(small_fleet, peers):
    from callbacks.integrations import components_table

    peer = peers()
    peer.fail_with = ExcCodes.DEVICE_FAILURE
    config = parse_config(_modbus_config(("inv-9", peer.port, "t-sol-INV-03")))
    component = ScadaAdapters(build_adapters(config, small_fleet.ingest, small_fleet.db, stale_after_s=60),
                              source=Path("test.yaml"))
    try:
        component.adapters[0].poll_once()
    except Exception as exc:
        component.adapters[0].last_error = str(exc)
    text = str(components_table({"scada": component.health()}))
    assert "scada · modbus:inv-9" in text and "stale: t-sol-INV-03" in text and "holding register 0" in text


def test_mqtt_burst_is_ingested_whole_in_few_batches(small_fleet, broker_config):
    root, config = broker_config
    (adapter,) = build_adapters(config, small_fleet.ingest, small_fleet.db, stale_after_s=60)
    adapter.start()
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2)
    try:
        wait_for(lambda: adapter.connected, 10, what="connected to Mosquitto")
        time.sleep(0.3)
        client.connect("127.0.0.1", 1883)
        client.loop_start()
        infos = [client.publish(f"{root}/t-sol/INV-0{1 + k % 3}/telemetry",
                                orjson.dumps({"ts": f"2026-06-01T10:{k // 60:02d}:{k % 60:02d}Z", "power_kw": float(k)}), qos=1)
                 for k in range(600)]
        for info in infos:
            info.wait_for_publish(10)

        def stored() -> int:
            with small_fleet.db.session() as s:
                return len(s.execute(select(TelemetryPoint.ts).where(TelemetryPoint.asset_id.like("t-sol-INV-%"))).all())

        wait_for(lambda: stored() == 600, 20, what="all 600 points of the burst")
        assert adapter.health()["messages"] == 600 and adapter.dead_lettered == 0
    finally:
        client.loop_stop()
        client.disconnect()
        adapter.stop(5)
