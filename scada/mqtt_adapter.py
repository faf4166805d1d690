"""MQTT adapter: subscribes to a broker's topics (paho-mqtt 2.x) and feeds their payloads to ingest.

paho's network thread reconnects on its own with back-off (1 s doubling to 60 s) and only queues
the messages it receives; a worker thread takes what has arrived every ``BATCH_WINDOW_S`` (or as
soon as ``BATCH_MAX_MESSAGES`` wait), turns each message into rows by :mod:`scada.payloads` and
submits them as ONE batch through :meth:`ingest.service.IngestService.submit_rows` (validated,
stored exactly once, rejected rows dead-lettered by the validator): a message at a time paid the
fixed cost of a batch per message and fell behind a busy broker, which then drops what it cannot
queue. A payload that is no telemetry is dead-lettered whole with the reason. Nothing a message
carries can stop either thread.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
from typing import Any

import paho.mqtt.client as mqtt

from bus.deadletter import dead_letter_many
from scada.config import MqttBroker, MqttSubscription
from scada.devices import DeviceBook
from scada.payloads import MAX_PAYLOAD_BYTES, PayloadError, asset_for, payload_rows, wildcard_levels

log = logging.getLogger(__name__)

BATCH_WINDOW_S = 0.1
BATCH_MAX_MESSAGES = 2000


class MqttAdapter:
    """One broker: a component (start, stop, health) of the process."""

    def __init__(self, broker: MqttBroker, ingest: Any, db: Any, stale_after_s: float) -> None:
        self.broker = broker
        self.name = f"mqtt:{broker.name}"
        self._ingest = ingest
        self._db = db
        self.devices = DeviceBook(stale_after_s)
        self.connected = False
        self.last_error: str | None = None
        self.messages = 0
        self.dead_lettered = 0
        self._lock = threading.Lock()
        self._client: mqtt.Client | None = None
        self._inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background (never blocks start-up on a broker that is down) and subscribe."""
        client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                             client_id=f"fleetlight-{self.broker.name}-{os.getpid()}", clean_session=True)
        if self.broker.username:
            password = os.environ.get(self.broker.password_env or "", None) if self.broker.password_env else None
            client.username_pw_set(self.broker.username, password)
        client.reconnect_delay_set(min_delay=1, max_delay=60)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        self._stop.clear()
        self._worker = threading.Thread(target=self._drain_forever, name=f"fleetlight-{self.name}", daemon=True)
        self._worker.start()
        client.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s)
        client.loop_start()

    def stop(self, timeout: float) -> None:
        """Disconnect, stop paho's network thread, then ingest what has arrived and stop the worker."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client.disconnect()
            finally:
                client.loop_stop()
        self.connected = False
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout)
            self._worker = None

    def health(self) -> dict[str, Any]:
        """Return the broker connection, message counts and each device (asset) with its stale flag."""
        stale = self.devices.stale()
        status = "down" if not self.connected else ("degraded" if stale else "ok")
        return {"status": status, "kind": "mqtt", "broker": f"{self.broker.host}:{self.broker.port}",
                "connected": self.connected, "messages": self.messages, "dead_lettered": self.dead_lettered,
                "last_error": self.last_error, "stale_devices": stale, "devices": self.devices.as_dict()}

    # --- paho callbacks (network thread) -----------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any = None) -> None:
        if getattr(reason, "is_failure", False):
            self.connected = False
            self.last_error = f"connect refused: {reason}"
            log.warning("%s: %s", self.name, self.last_error)
            return
        self.connected = True
        for sub in self.broker.subscriptions:
            client.subscribe(sub.topic, qos=sub.qos)
        log.info("%s connected to %s:%s", self.name, self.broker.host, self.broker.port)

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any = None) -> None:
        self.connected = False
        if getattr(reason, "is_failure", False) or str(reason) != "Normal disconnection":
            self.last_error = f"disconnected: {reason}"
            log.warning("%s %s; reconnecting with back-off", self.name, self.last_error)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._inbox.put((message.topic, bytes(message.payload)))

    def _drain_forever(self) -> None:
        while True:
            stopping = self._stop.wait(BATCH_WINDOW_S)
            batch: list[tuple[str, bytes]] = []
            while len(batch) < BATCH_MAX_MESSAGES:
                try:
                    batch.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            if batch:
                try:
                    self.handle_many(batch)
                except Exception:  # a bug must not stop the adapter: log it, keep consuming
                    log.exception("%s: %d messages could not be handled", self.name, len(batch))
            if stopping and self._inbox.empty():
                return

    # --- messages ----------------------------------------------------------------------------

    def _subscription(self, topic: str) -> tuple[MqttSubscription, list[str]] | None:
        for sub in self.broker.subscriptions:
            levels = wildcard_levels(sub.topic, topic)
            if levels is not None:
                return sub, levels
        return None

    def handle(self, topic: str, payload: bytes) -> int:
        """Ingest one message; return the number of points stored or queued (0 if it was dead-lettered)."""
        return self.handle_many([(topic, payload)])

    def handle_many(self, messages: list[tuple[str, bytes]]) -> int:
        """Ingest ``messages`` (topic, payload) as one batch; return the points accepted."""
        with self._lock:
            self.messages += len(messages)
        rows: list[dict[str, Any]] = []
        for topic, payload in messages:
            matched = self._subscription(topic)
            asset_id = topic
            try:
                if matched is None:
                    raise PayloadError(f"topic {topic!r} matches no subscription")
                sub, levels = matched
                asset_id = asset_for(sub.asset, levels)
                rows.extend(payload_rows(topic, payload, asset_id, sub.format))
            except PayloadError as exc:
                self._dead_letter(topic, payload, str(exc))
                self.devices.failed(asset_id, str(exc))
        if not rows:
            return 0
        report = self._ingest.submit_rows(rows, source=self.name)
        rejected_at = {r.index: r for r in report.rejected}
        by_asset: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            by_asset.setdefault(row["asset_id"], [0, 0])[1 if i in rejected_at else 0] += 1
        for asset_id, (good, bad) in by_asset.items():
            if good:
                self.devices.seen(asset_id, good, bad)
        for rejection in report.rejected[:20]:
            self.devices.failed(rows[rejection.index]["asset_id"], f"{rejection.field}: {rejection.error}")
        return report.accepted

    def _dead_letter(self, topic: str, payload: bytes, reason: str) -> None:
        kept: dict[str, Any] = {"topic": topic, "format": "mqtt"}
        if len(payload) <= MAX_PAYLOAD_BYTES:
            kept["payload"] = payload.decode("utf-8", errors="backslashreplace")
        else:
            kept["payload_bytes"] = len(payload)  # too large to keep; the reason says so
            reason += " (payload not kept)"
        dead_letter_many(self._db, self.name, f"scada.{self.name}", [(reason, kept)])
        with self._lock:
            self.dead_lettered += 1
        log.warning("%s: dead-lettered a message on %s: %s", self.name, topic, reason)
