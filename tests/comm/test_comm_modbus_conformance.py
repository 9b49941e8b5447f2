"""Conformance of a Modbus client/server pair, whatever carries the bytes.

Each test gets an ``endpoint`` (a ModbusClient talking to a server that holds
one ArrayRegisterBank as unit 1) and runs client generators through
``endpoint.run``. Two transports: ``sim`` (the simulated network) and ``tcp``
(a real socket on loopback: cosim.hil's server edge and TCP transport, a
real-time World paced by cosim.hil's loop). Every test passes unchanged on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generator

import pytest

from cosim.comm import CommNetwork, Delay, ModbusClient
from cosim.comm.modbus.datamodel import ArrayRegisterBank, ExceptionCode, ModbusError, ModbusTable
from cosim.kernel import World

from commtools import run_process


@dataclass
class Endpoint:
    client: ModbusClient
    bank: ArrayRegisterBank
    run: Callable[[Generator[Any, Any, Any]], Any]
    close: Callable[[], None] = lambda: None


def sim_endpoint() -> Endpoint:
    world = World(seed=11)
    network = CommNetwork(world)
    network.add_node("master"), network.add_node("device")
    network.add_link("master", "device", Delay.fixed(0.002), 10e6)
    bank = ArrayRegisterBank(coils=64, discrete_inputs=64, holding_registers=64, input_registers=64)
    network.modbus_server("device").add_unit(1, bank)
    client = network.modbus_client("master", "device", timeout_s=0.5, retries=1)
    return Endpoint(client, bank, lambda gen: run_process(world, gen))


def tcp_endpoint() -> Endpoint:
    from cosim.comm.modbus.client import ModbusMaster
    from cosim.comm.modbus.server import ModbusServer
    from cosim.hil import IoThread, RealtimeLoop, SimInbox
    from cosim.hil.modbus_tcp import ModbusTcpServer, TcpModbusTransport

    world = World(seed=11, real_time=True)
    inbox, io = SimInbox(), IoThread().start()
    loop = RealtimeLoop(world.env, inbox)
    bank = ArrayRegisterBank(coils=64, discrete_inputs=64, holding_registers=64, input_registers=64)
    server = ModbusServer()
    server.add_unit(1, bank)
    edge = ModbusTcpServer(server, io, inbox, "127.0.0.1", 0)
    port = edge.start()
    transport = TcpModbusTransport("127.0.0.1", port, world.env, io, inbox, loop.speed)
    client = ModbusMaster(transport, timeout_s=0.5, retries=1)

    def close() -> None:
        transport.close()
        edge.stop()
        io.stop()

    return Endpoint(client, bank, lambda gen: loop.run_process(gen, timeout_s=20.0), close)


TRANSPORTS = {"sim": sim_endpoint, "tcp": tcp_endpoint}


@pytest.fixture(params=sorted(TRANSPORTS))
def endpoint(request) -> Endpoint:
    made = TRANSPORTS[request.param]()
    yield made
    made.close()


def test_read_each_table(endpoint):
    endpoint.bank.set(ModbusTable.COILS, 3, [1, 0, 1])
    endpoint.bank.set(ModbusTable.DISCRETE_INPUTS, 10, [1, 1])
    endpoint.bank.set(ModbusTable.HOLDING_REGISTERS, 0, [1, 65535])
    endpoint.bank.set(ModbusTable.INPUT_REGISTERS, 63, [1234])
    c = endpoint.client
    assert endpoint.run(c.read_coils(1, 2, 5)) == [0, 1, 0, 1, 0]
    assert endpoint.run(c.read_discrete_inputs(1, 9, 4)) == [0, 1, 1, 0]
    assert endpoint.run(c.read_holding_registers(1, 0, 3)) == [1, 65535, 0]
    assert endpoint.run(c.read_input_registers(1, 63, 1)) == [1234]


def test_writes_land_in_the_bank(endpoint):
    c = endpoint.client

    def story():
        yield from c.write_coil(1, 5, True)
        yield from c.write_register(1, 7, 0xBEEF)
        yield from c.write_coils(1, 10, [1, 1, 0, 1, 0, 0, 0, 0, 1])
        yield from c.write_registers(1, 20, [1, 2, 3])

    endpoint.run(story())
    bank = endpoint.bank
    assert bank.read(ModbusTable.COILS, 5, 1) == [1]
    assert bank.read(ModbusTable.HOLDING_REGISTERS, 7, 1) == [0xBEEF]
    assert bank.read(ModbusTable.COILS, 10, 9) == [1, 1, 0, 1, 0, 0, 0, 0, 1]
    assert bank.read(ModbusTable.HOLDING_REGISTERS, 20, 3) == [1, 2, 3]


@pytest.mark.parametrize("call, code", [
    (lambda c: c.read_holding_registers(1, 60, 10), ExceptionCode.ILLEGAL_DATA_ADDRESS),
    (lambda c: c.write_register(1, 64, 1), ExceptionCode.ILLEGAL_DATA_ADDRESS),
    (lambda c: c.read_input_registers(9, 0, 1), ExceptionCode.GATEWAY_TARGET_FAILED_TO_RESPOND),
], ids=["address", "write-address", "unknown-unit"])
def test_refusals_raise_modbus_error_with_the_wire_code(endpoint, call, code):
    with pytest.raises(ModbusError) as info:
        endpoint.run(call(endpoint.client))
    assert info.value.code is code


@pytest.mark.parametrize("call", [
    lambda c: c.read_holding_registers(1, 0, 126),
    lambda c: c.read_coils(1, 0, 2001),
    lambda c: c.write_registers(1, 0, [0] * 124),
    lambda c: c.write_register(1, 0, 70000),
], ids=["register-count", "coil-count", "write-count", "register-value"])
def test_client_refuses_requests_the_protocol_cannot_carry(endpoint, call):
    # The server side answers 03 to such frames (test_comm_modbus_frames); a master never sends them.
    with pytest.raises(ValueError):
        endpoint.run(call(endpoint.client))


def test_unit_ff_reaches_the_only_device(endpoint):
    endpoint.bank.set(ModbusTable.HOLDING_REGISTERS, 1, [99])
    assert endpoint.run(endpoint.client.read_holding_registers(0xFF, 1, 1)) == [99]


def test_many_requests_in_a_row_keep_transaction_ids_straight(endpoint):
    c = endpoint.client

    def story():
        out = []
        for i in range(50):
            yield from c.write_register(1, i % 64, i)
            out.append((yield from c.read_holding_registers(1, i % 64, 1))[0])
        return out

    assert endpoint.run(story()) == list(range(50))
