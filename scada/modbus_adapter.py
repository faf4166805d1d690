"""Modbus TCP adapter: polls one device's registers (pymodbus) by its model's register map and
feeds the values to ingest.

Each poll reads every register of the map; a value is decoded by pymodbus
(``convert_from_registers`` with the register's type and word order), scaled (``value * scale +
offset``) and submitted as a telemetry row, validated like any other (an out-of-range value is
rejected and dead-lettered by the validator). A device that does not answer, or answers with a
Modbus exception, gets the error recorded and is polled again after a back-off (doubling from its
poll interval to 60 s); its data turns stale; other devices are not affected.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from scada.config import ModbusDevice, Register
from scada.devices import DeviceBook

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0
_WORDS = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "int64": 4, "uint64": 4, "float64": 4}


class DeviceError(RuntimeError):
    """The device did not answer or answered with an exception; the message names the register."""


def register_words(register: Register) -> int:
    """Return how many 16-bit registers ``register``'s type spans."""
    return _WORDS[register.type]


def decode(register: Register, words: list[int]) -> float:
    """Return the engineering value of ``words`` read for ``register`` (decoded, scaled, offset)."""
    data_type = getattr(ModbusTcpClient.DATATYPE, register.type.upper())
    raw = ModbusTcpClient.convert_from_registers(words, data_type=data_type, word_order=register.word_order)
    return float(raw) * register.scale + register.offset  # type: ignore[arg-type]


class ModbusPoller:
    """One Modbus TCP device polled in its own thread: a component of the process."""

    def __init__(self, device: ModbusDevice, registers: list[Register], ingest: Any, stale_after_s: float) -> None:
        self.device = device
        self.registers = registers
        self.name = f"modbus:{device.name}"
        self._ingest = ingest
        self.devices = DeviceBook(stale_after_s)
        self.devices.known(device.asset_id)
        self.connected = False
        self.polls = 0
        self.failures = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: ModbusTcpClient | None = None

    def start(self) -> None:
        """Start polling (the first poll at once)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"fleetlight-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Stop polling and close the connection (a poll in progress ends within the device timeout)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close()

    def health(self) -> dict[str, Any]:
        """Return the connection, poll counts and the device's state with its stale flag."""
        stale = self.devices.stale()
        status = "down" if not self.connected else ("degraded" if stale else "ok")
        return {"status": status, "kind": "modbus", "device": f"{self.device.host}:{self.device.port}"
                f"/{self.device.device_id}", "connected": self.connected, "polls": self.polls,
                "failures": self.failures, "last_error": self.last_error, "stale_devices": stale,
                "devices": self.devices.as_dict()}

    # --- polling -----------------------------------------------------------------------------

    def _run(self) -> None:
        delay = self.device.poll_s
        while not self._stop.is_set():
            try:
                self.poll_once()
                delay = self.device.poll_s
            except DeviceError as exc:
                self.failures += 1
                self.last_error = str(exc)
                self.devices.failed(self.device.asset_id, str(exc))
                self._close()
                delay = min(MAX_BACKOFF_S, max(delay * 2, self.device.poll_s))
                log.warning("%s: %s; next try in %.0f s", self.name, exc, delay)
            except Exception:
                log.exception("%s: poll failed", self.name)
                delay = min(MAX_BACKOFF_S, max(delay * 2, self.device.poll_s))
            self._stop.wait(delay)

    def _connected_client(self) -> ModbusTcpClient:
        if self._client is None:
            self._client = ModbusTcpClient(self.device.host, port=self.device.port, timeout=self.device.timeout_s,
                                           retries=0)
        if not self._client.connected and not self._client.connect():
            self.connected = False
            raise DeviceError(f"no connection to {self.device.host}:{self.device.port}")
        self.connected = True
        return self._client

    def _close(self) -> None:
        client, self._client = self._client, None
        self.connected = False
        if client is not None:
            client.close()

    def read(self) -> list[tuple[Register, float]]:
        """Read and decode every register of the map once; raise DeviceError naming the failing register."""
        client = self._connected_client()
        out = []
        for register in self.registers:
            where = f"{register.table} register {register.address} ({register.metric})"
            reader = client.read_holding_registers if register.table == "holding" else client.read_input_registers
            try:
                response = reader(register.address, count=register_words(register), device_id=self.device.device_id)
            except ModbusException as exc:
                raise DeviceError(f"{where}: {exc}") from None
            if response.isError():
                raise DeviceError(f"{where}: device answered {response}")
            out.append((register, decode(register, list(response.registers))))
        return out

    def poll_once(self) -> int:
        """Read the device once and submit its values; return how many points were accepted."""
        values = self.read()
        self.polls += 1
        ts = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        rows = [{"asset_id": self.device.asset_id, "metric": r.metric, "ts": ts, "value": v} for r, v in values]
        report = self._ingest.submit_rows(rows, source=self.name)
        if report.accepted:
            self.devices.seen(self.device.asset_id, report.accepted, len(report.rejected))
        if report.rejected:
            self.devices.failed(self.device.asset_id, "; ".join(f"{r.field}: {r.error}" for r in report.rejected[:3]))
        return report.accepted
