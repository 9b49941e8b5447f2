"""The Modbus master on simulated links: timeouts, retries, outages, broadcast, trace bytes."""

from __future__ import annotations

import csv

import pytest

from cosim.comm import CommNetwork, Delay, ModbusTimeoutError
from cosim.comm.modbus.datamodel import ArrayRegisterBank, ModbusTable
from cosim.kernel import World

from commtools import run_process


def setup(world: World, loss: float = 0.0, latency_s: float = 0.05, response_delay_s: float = 0.0):
    network = CommNetwork(world)
    for node in ("scada", "wan", "rtu"):
        network.add_node(node)
    network.add_link("scada", "wan", Delay.fixed(0.005), 100e6)
    network.add_link("wan", "rtu", Delay.fixed(latency_s), 1e6, loss=loss)
    bank = ArrayRegisterBank(holding_registers=10, coils=10)
    network.modbus_server("rtu", response_delay_s=response_delay_s).add_unit(1, bank)
    return network, bank


def test_retries_get_through_a_lossy_link(world):
    network, bank = setup(world, loss=0.2)
    bank.set(ModbusTable.HOLDING_REGISTERS, 0, [7])
    master = network.modbus_client("scada", "rtu", timeout_s=0.5, retries=8)

    def poll():
        got = []
        for _ in range(40):
            got.append((yield from master.read_holding_registers(1, 0, 1)))
        return got

    assert run_process(world, poll()) == [[7]] * 40
    assert master.timeouts > 0
    assert master.attempts == 40 + master.timeouts


def test_timeout_after_all_retries_when_the_link_is_down(world):
    network, _ = setup(world)
    network.set_link_down("wan--rtu")
    master = network.modbus_client("scada", "rtu", timeout_s=0.3, retries=2)
    with pytest.raises(ModbusTimeoutError) as info:
        run_process(world, master.read_coils(1, 0, 1))
    assert info.value.attempts == 3
    assert world.now == pytest.approx(0.9)
    assert network.statistics().dropped == {"no_route": 3}


def test_slow_device_answer_arrives_late_and_is_ignored(world):
    network, _ = setup(world, response_delay_s=0.4)
    master = network.modbus_client("scada", "rtu", timeout_s=0.3, retries=1)
    with pytest.raises(ModbusTimeoutError):
        run_process(world, master.read_holding_registers(1, 0, 1))
    world.run(5)
    port = network.services["modbus/scada"]
    assert port.late_responses == 2


def test_broadcast_write_is_not_answered(world):
    network, bank = setup(world)
    master = network.modbus_client("scada", "rtu")
    run_process(world, master.write_register(0, 3, 5))
    assert world.now == 0  # nothing awaited
    world.run(1)
    assert bank.read(ModbusTable.HOLDING_REGISTERS, 3, 1) == [5]
    assert network.statistics().by_protocol == {"modbus": 1}


def test_trace_holds_the_adu_bytes(world, tmp_path):
    network, _ = setup(world)
    master = network.modbus_client("scada", "rtu")
    run_process(world, master.read_holding_registers(1, 0, 2))
    world.recorder.close()
    rows = list(csv.DictReader(open(tmp_path / "messages.csv")))
    assert [(r["kind"], r["info"]) for r in rows] == [
        ("request", "000100000006010300000002"),
        ("response", "00010000000701030400000000"),
    ]
    assert rows[0]["path"] == "scada>wan>rtu" and rows[0]["size_bytes"] == "12"
