"""Modbus conformance cases as data (MODBUS Application Protocol Specification V1.1b3) and the transports.

Each case is one request PDU to a protective relay's register store (its
standard map, unit 1) and what the response PDU must be: a normal response
(its function code and length rule, or the echo the clause asks for) or an
exception response with the code clause 7 gives. The same cases run over the
simulated comm layer (the node's Modbus port) and over TCP to the HIL Modbus
server on a free loopback port, octet for octet.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cosim.comm.modbus.sim import ModbusPort
from cosim.kernel import World
from commtools import chain, run_process
from devices.registermaps import DeviceKind, standard_map
from devices.registerstore import RegisterStore
from hiltools import ServedWorld, Wire, adu, settings

UNIT = 1


@dataclass(frozen=True)
class Case:
    name: str
    clause: str
    request: bytes
    """The request PDU (function code and data)."""
    exception: int | None = None
    """The exception code the response must carry (function code + 0x80), or None for a normal response."""
    length: int | None = None
    """A normal response's PDU length (function code, byte count, data)."""
    echo: int | None = None
    """A normal response that repeats the first ``echo`` octets of the request PDU (clauses 6.5, 6.6, 6.11, 6.12)."""
    peer: str | None = None
    """How pymodbus's client asks the same (see test_modbus_conformance), if it can."""

    def check(self, pdu: bytes) -> None:
        if self.exception is not None:
            assert pdu == bytes([self.request[0] | 0x80, self.exception]), pdu.hex()
            return
        assert pdu[0] == self.request[0], pdu.hex()
        if self.length is not None:
            assert len(pdu) == self.length and pdu[1] == self.length - 2, pdu.hex()
        if self.echo is not None:
            assert pdu == self.request[:self.echo], pdu.hex()


def _pdu(function: int, fmt: str, *values: int) -> bytes:
    return bytes([function]) + struct.pack(">" + fmt, *values)


CASES: tuple[Case, ...] = (
    Case("read_coils", "6.1", _pdu(0x01, "HH", 0, 3), length=3, peer="read_coils"),
    Case("read_discrete_inputs", "6.2", _pdu(0x02, "HH", 0, 4), length=3, peer="read_discrete_inputs"),
    Case("read_holding_registers", "6.3", _pdu(0x03, "HH", 0, 6), length=2 + 12, peer="read_holding_registers"),
    Case("read_input_registers", "6.4", _pdu(0x04, "HH", 0, 10), length=2 + 20, peer="read_input_registers"),
    Case("write_single_coil_echoes", "6.5", _pdu(0x05, "HH", 2, 0xFF00), echo=5, peer="write_coil"),
    Case("write_single_register_echoes", "6.6", _pdu(0x06, "HH", 0, 450), echo=5, peer="write_register"),
    Case("write_multiple_coils", "6.11", _pdu(0x0F, "HHBB", 1, 2, 1, 0b10), echo=5, peer="write_coils"),
    Case("write_multiple_registers", "6.12", _pdu(0x10, "HHBHH", 4, 2, 4, 2000, 10), echo=5,
         peer="write_registers"),
    Case("illegal_function", "7 (code 01), 6.x state diagrams", bytes([0x2B, 0x0E, 0x01, 0x00]), exception=1,
         peer="illegal_function"),
    Case("undefined_function_code", "7 (code 01)", bytes([0x41, 0x00, 0x00]), exception=1),
    Case("address_beyond_the_map", "7 (code 02), 6.3", _pdu(0x03, "HH", 60, 2), exception=2,
         peer="illegal_address"),
    Case("range_running_past_the_map", "7 (code 02), 6.1", _pdu(0x01, "HH", 0, 16), exception=2),
    Case("write_to_a_read_only_table_address", "7 (code 02), 6.6", _pdu(0x06, "HH", 200, 1), exception=2),
    Case("zero_quantity", "7 (code 03), 6.3 (1 <= quantity <= 125)", _pdu(0x03, "HH", 0, 0), exception=3),
    Case("register_quantity_126", "7 (code 03), 6.3", _pdu(0x03, "HH", 0, 126), exception=3,
         peer="illegal_value"),
    Case("coil_quantity_2001", "7 (code 03), 6.1 (1 <= quantity <= 2000)", _pdu(0x01, "HH", 0, 2001), exception=3),
    Case("quantity_checked_before_address", "6.3 state diagram (quantity, then address)",
         _pdu(0x03, "HH", 0xFFF0, 0), exception=3),
    Case("coil_value_not_on_or_off", "7 (code 03), 6.5 (0x0000 or 0xFF00)", _pdu(0x05, "HH", 0, 0x1234), exception=3),
    Case("byte_count_not_matching_quantity", "7 (code 03), 6.12 (byte count = 2 x N)",
         _pdu(0x10, "HHBH", 4, 2, 2, 2000), exception=3),
)


def relay_store() -> RegisterStore:
    return RegisterStore(standard_map(DeviceKind.PROTECTIVE_RELAY), protection_writes_allowed=True)


class SimulatedModbus:
    """Request ADUs through the simulated network from a master node to the relay's node."""

    name = "simulated"

    def __init__(self, _folder: Path) -> None:
        self.world = World(seed=1)
        self.network = chain(self.world, "master", "device", latency_s=0.002)
        self.network.modbus_server("device").add_unit(UNIT, relay_store())
        self.port = ModbusPort.of(self.network, "master")
        self.frames: list[tuple[bool, bytes]] = []

    def ask(self, request: bytes) -> bytes:
        answer = run_process(self.world, self.port.exchange("device", request, 1.0))
        assert answer is not None, "no response"
        self.frames += [(True, request), (False, answer)]
        return bytes(answer)

    def close(self) -> None:
        pass


class TcpModbus:
    """Request ADUs over TCP to the HIL Modbus server serving the relay's store."""

    name = "tcp"

    def __init__(self, folder: Path) -> None:
        self.served = ServedWorld(None, settings(modbus={"writable": {"relay": "all"}, "allow_protection_writes": True}))
        store = relay_store()
        self.served.session.expose("relay", "protective_relay", store, register_map=store.register_map)
        self.served.start()
        self.port, self.unit = self.served.port_of("relay"), self.served.unit_of("relay")
        self.wire = Wire(self.port)
        self.frames: list[tuple[bool, bytes]] = []

    def ask(self, request: bytes) -> bytes:
        answer = self.wire.ask(request)
        assert answer is not None, "no response"
        self.frames += [(True, request), (False, answer)]
        return answer

    def close(self) -> None:
        self.wire.close()
        self.served.stop()


TRANSPORTS: dict[str, Any] = {"simulated": SimulatedModbus, "tcp": TcpModbus}


def play(case: Case, transport: Any, transaction: int = 7) -> None:
    """Send the case's request as one ADU and check the response ADU: MBAP echoed (clause 4.1), then the PDU."""
    unit = getattr(transport, "unit", UNIT)
    request = adu(transaction, unit, case.request)
    answer = transport.ask(request)
    tid, protocol, length, answered_unit = struct.unpack(">HHHB", answer[:7])
    assert (tid, protocol, answered_unit) == (transaction, 0, unit) and length == len(answer) - 6
    case.check(answer[7:])
