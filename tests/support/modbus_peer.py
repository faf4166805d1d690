"""A real Modbus TCP server (pymodbus) on loopback for the adapter tests: registers the test sets,
and a switch that makes the device answer every read with a Modbus exception."""
from __future__ import annotations

import asyncio
import threading

from pymodbus.client import ModbusTcpClient
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


class ModbusPeer:
    """pymodbus's server in its own thread and event loop, serving holding/input registers 0..999."""

    def __init__(self, port: int, device_id: int = 1) -> None:
        self.port = port
        self.device_id = device_id
        self.registers: dict[int, int] = {}
        self.fail_with: ExcCodes | None = None
        self.reads = 0
        self._loop = asyncio.new_event_loop()
        self._server: ModbusTcpServer | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="modbus-peer", daemon=True)

    async def _action(self, function_code, start_address, address, count, current_registers, set_values):
        self.reads += 1
        if self.fail_with is not None:
            return self.fail_with
        for i in range(len(current_registers)):
            current_registers[i] = self.registers.get(start_address + i, 0)
        return None

    def set_value(self, address: int, value: float, data_type: str, word_order: str = "big") -> None:
        """Store ``value`` at ``address`` encoded as ``data_type`` (as a device would)."""
        words = ModbusTcpClient.convert_to_registers(value, getattr(ModbusTcpClient.DATATYPE, data_type.upper()),
                                                     word_order=word_order)
        for i, word in enumerate(words):
            self.registers[address + i] = word

    def start(self) -> ModbusPeer:
        """Start serving; return self."""
        device = SimDevice(id=self.device_id, simdata=[SimData(0, count=1000, values=0, datatype=DataType.REGISTERS)],
                           action=self._action)
        self._thread.start()

        async def serve() -> None:
            self._server = ModbusTcpServer(device, address=("127.0.0.1", self.port))
            await self._server.listen()

        asyncio.run_coroutine_threadsafe(serve(), self._loop).result(10)
        return self

    def stop(self) -> None:
        """Stop serving (connections are closed) and end the thread."""
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(10)
            self._server = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
