"""The SCADA component: every adapter of the configuration file, started and stopped together."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from scada.config import ScadaConfig, load_config
from scada.modbus_adapter import ModbusPoller
from scada.mqtt_adapter import MqttAdapter

log = logging.getLogger(__name__)


def build_adapters(config: ScadaConfig, ingest: Any, db: Any, stale_after_s: float) -> list[Any]:
    """Return one adapter per MQTT broker and per Modbus device of ``config`` (not started)."""
    adapters: list[Any] = [MqttAdapter(broker, ingest, db, stale_after_s) for broker in config.mqtt]
    adapters += [ModbusPoller(device, config.register_maps[device.model], ingest, stale_after_s)
                 for device in config.modbus]
    return adapters


class ScadaAdapters:
    """All SCADA adapters of the process; its health lists each adapter's."""

    name = "scada"

    def __init__(self, adapters: list[Any], source: Path) -> None:
        self.adapters = adapters
        self.source = source

    @classmethod
    def from_file(cls, path: Path, ingest: Any, db: Any, stale_after_s: float) -> ScadaAdapters:
        """Return the adapters configured in ``path`` (ConfigError naming the field if it is invalid)."""
        return cls(build_adapters(load_config(path), ingest, db, stale_after_s), path)

    def start(self) -> None:
        """Start every adapter (connections are made in the background)."""
        for adapter in self.adapters:
            adapter.start()
        log.info("SCADA adapters started from %s: %s", self.source, ", ".join(a.name for a in self.adapters) or "none")

    def stop(self, timeout: float) -> None:
        """Stop every adapter within ``timeout`` seconds in all."""
        deadline = time.monotonic() + timeout
        for adapter in reversed(self.adapters):
            adapter.stop(max(0.1, deadline - time.monotonic()))

    def health(self) -> dict[str, Any]:
        """Return {"status", "adapters": {name: health}}: degraded when any adapter is not ok."""
        adapters = {a.name: a.health() for a in self.adapters}
        bad = [n for n, h in adapters.items() if h["status"] != "ok"]
        return {"status": "degraded" if bad else "ok", "config": str(self.source), "adapters": adapters,
                "not_ok": bad}
