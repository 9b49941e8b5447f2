"""The simulation as master: it polls a real Modbus TCP device and the device's trip output opens a breaker."""

from __future__ import annotations

import json
import threading
import time

from cosim.comm.modbus.datamodel import ArrayRegisterBank, ModbusTable
from cosim.comm.modbus.server import ModbusServer
from cosim.hil.bridge import IoThread, SimInbox
from cosim.hil.config import MasterConfig
from cosim.hil.modbus_tcp import ModbusTcpServer

from hiltools import ServedWorld, free_port, settings


class BenchDevice:
    """A stand-in for a relay on a test bench: a Modbus TCP server with its own thread, outside the simulation."""

    def __init__(self, bank: ArrayRegisterBank) -> None:
        self.io, self.inbox = IoThread().start(), SimInbox()
        server = ModbusServer()
        server.add_unit(1, bank)
        self.edge = ModbusTcpServer(server, self.io, self.inbox)
        self.port = self.edge.start()
        self._running = True
        self._thread = threading.Thread(target=self._firmware, daemon=True)
        self._thread.start()

    def _firmware(self) -> None:
        while self._running:
            if self.inbox.wait(0.05):
                for job in self.inbox.take_all():
                    job()

    def stop(self) -> None:
        self._running = False
        self._thread.join(2)
        self.edge.stop()
        self.io.stop()


def test_a_real_relays_trip_output_opens_the_simulated_breaker(tmp_path):
    bank = ArrayRegisterBank(discrete_inputs=4, input_registers=4)
    bank.set(ModbusTable.INPUT_REGISTERS, 0, [123])
    device = BenchDevice(bank)
    master = MasterConfig.model_validate({
        "id": "bench_relay", "port": device.port, "poll": 0.05, "timeout": 0.5, "points": [
            {"table": "discrete_inputs", "address": 1, "on": 1, "action": "open", "switch": "feeder_cb"},
            {"table": "input_registers", "address": 0, "record": "current_a", "unit": "A"},
        ]})
    served = ServedWorld(tmp_path, settings(masters=[master]))
    try:
        with served:
            time.sleep(0.3)
            bank.set(ModbusTable.DISCRETE_INPUTS, 1, [1])  # the relay trips
            time.sleep(0.4)
    finally:
        device.stop()
    assert served.world.service("grid").measurements().switch_closed("feeder_cb") is False
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    actions = [e for e in events if e["kind"] == "hil_external_action"]
    assert len(actions) == 1 and actions[0]["switch"] == "feeder_cb"
    series = (tmp_path / "timeseries.csv").read_text()
    assert "hil/bench_relay,current_a,123.0,A" in series and "hil/bench_relay,online,1.0,bool" in series


def test_a_bench_device_that_does_not_answer_is_logged_not_fatal(tmp_path):
    master = MasterConfig.model_validate({
        "id": "absent", "port": free_port(), "poll": 0.1, "timeout": 0.1, "retries": 0,
        "points": [{"table": "coils", "address": 0, "action": "open", "switch": "feeder_cb"}]})
    with ServedWorld(tmp_path, settings(masters=[master])):
        time.sleep(0.5)
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert sum(e["kind"] == "hil_external_error" for e in events) == 1  # once per outage
    assert "hil/absent,online,0.0,bool" in (tmp_path / "timeseries.csv").read_text()
