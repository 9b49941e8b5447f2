"""Modbus conformance: one list of cases (modbus_cases.CASES) over the simulated comm layer and real TCP, tshark
on every case's octets, and pymodbus's client (an independent implementation) asking what it can express.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modbus_cases import CASES, TRANSPORTS, Case, TcpModbus, play
from wire import Outcome, assert_clean, dissect, play_all



@pytest.fixture(scope="module", params=sorted(TRANSPORTS))
def played(request, tmp_path_factory) -> list[Outcome]:
    """Every case over one transport (one served relay), then tshark once over all their octets."""
    folder = tmp_path_factory.mktemp(f"modbus-{request.param}")
    outcomes = play_all(CASES, lambda: TRANSPORTS[request.param](folder), lambda case, t: play(case, t), shared=True)
    dissect(outcomes, folder / "cases.pcap", 502, ["-Y", "mbtcp"], ["modbus.exception_code"])
    return outcomes


@pytest.mark.parametrize("number", range(len(CASES)), ids=[c.name for c in CASES])
def test_modbus_case(number: int, played: list[Outcome]) -> None:
    """The case's response is the one its clause asks for, and tshark's Modbus/TCP dissector reads it cleanly with
    the same exception code."""
    outcome, case = played[number], CASES[number]
    outcome.raise_error()
    assert_clean(outcome)
    assert len(outcome.rows) == 2
    assert outcome.rows[-1]["modbus.exception_code"] == ("" if case.exception is None else str(case.exception))


# -- the third-party peer: pymodbus's client ----------------------------------------------------------------------

def _raw(client: Any, unit: int, pdu: bytes) -> Any:
    """A request pymodbus has no call for, sent as its own PDU class (pymodbus decodes the exception it gets)."""
    from pymodbus.pdu import ModbusPDU

    class Raw(ModbusPDU):
        function_code = pdu[0]

        def encode(self) -> bytes:
            return pdu[1:]

    return client.execute(False, Raw(dev_id=unit))


PEER: dict[str, Callable[[Any, int], Any]] = {
    "read_coils": lambda c, u: c.read_coils(0, count=3, device_id=u),
    "read_discrete_inputs": lambda c, u: c.read_discrete_inputs(0, count=4, device_id=u),
    "read_holding_registers": lambda c, u: c.read_holding_registers(0, count=6, device_id=u),
    "read_input_registers": lambda c, u: c.read_input_registers(0, count=10, device_id=u),
    "write_coil": lambda c, u: c.write_coil(2, True, device_id=u),
    "write_register": lambda c, u: c.write_register(0, 450, device_id=u),
    "write_coils": lambda c, u: c.write_coils(1, [False, True], device_id=u),
    "write_registers": lambda c, u: c.write_registers(4, [2000, 10], device_id=u),
    "illegal_address": lambda c, u: c.read_holding_registers(60, count=2, device_id=u),
    "illegal_function": lambda c, u: _raw(c, u, bytes([0x2B, 0x0E, 0x01, 0x00])),
    "illegal_value": lambda c, u: _raw(c, u, bytes([0x03, 0x00, 0x00, 0x00, 0x7E])),
}
PEER_CASES = [c for c in CASES if c.peer is not None]


@pytest.fixture(scope="module")
def served_relay(tmp_path_factory):
    carrier = TcpModbus(tmp_path_factory.mktemp("modbus"))
    yield carrier
    carrier.close()


@pytest.mark.parametrize("case", PEER_CASES, ids=[c.name for c in PEER_CASES])
def test_modbus_case_against_pymodbus(case: Case, served_relay: TcpModbus) -> None:
    from pymodbus.client import ModbusTcpClient

    assert case.peer is not None
    client = ModbusTcpClient("127.0.0.1", port=served_relay.port, timeout=3, retries=0)
    assert client.connect()
    try:
        result = PEER[case.peer](client, served_relay.unit)
    finally:
        client.close()
    if case.exception is not None:
        assert result.isError() and result.exception_code == case.exception
    else:
        assert not result.isError()
        if case.length is not None:
            assert len(getattr(result, "bits", None) or result.registers) >= (case.length - 2) // 2 or result.bits
