"""Golden Modbus TCP frames (hex) and the exception code of every illegal request class.

Request/response PDUs are the worked examples of the Modbus Application
Protocol Specification v1.1b3, section 6 (written out by hand, not produced by
pymodbus), wrapped in an MBAP header with transaction id 1 and unit id 1.
"""

from __future__ import annotations

import pytest

from cosim.comm.modbus.codec import FunctionCode, MalformedFrame, Request, decode_response, encode_request
from cosim.comm.modbus.datamodel import ArrayRegisterBank, ExceptionCode, ModbusError, ModbusTable
from cosim.comm.modbus.server import ModbusServer


def mbap(pdu_hex: str, unit_id: int = 1, tid: int = 1) -> str:
    pdu = bytes.fromhex(pdu_hex)
    return (tid.to_bytes(2, "big") + b"\x00\x00" + (len(pdu) + 1).to_bytes(2, "big") + bytes([unit_id]) + pdu).hex()


def bits_of(hex_bytes: str, count: int) -> list[int]:
    data = bytes.fromhex(hex_bytes)
    return [(data[i // 8] >> (i % 8)) & 1 for i in range(count)]


def spec_bank() -> ArrayRegisterBank:
    """A bank holding the values the specification's examples read."""
    bank = ArrayRegisterBank(coils=512, discrete_inputs=512, holding_registers=512, input_registers=512)
    bank.set(ModbusTable.COILS, 19, bits_of("cd6b05", 19))            # coils 20-38
    bank.set(ModbusTable.DISCRETE_INPUTS, 196, bits_of("acdb35", 22))  # inputs 197-218
    bank.set(ModbusTable.HOLDING_REGISTERS, 107, [0x022B, 0x0000, 0x0064])
    bank.set(ModbusTable.INPUT_REGISTERS, 8, [0x000A])
    return bank


# (request, fields of the request, values returned, golden request PDU, golden response PDU)
GOLDEN = [
    (FunctionCode.READ_COILS, 19, 19, (), "0100130013", "0103cd6b05"),
    (FunctionCode.READ_DISCRETE_INPUTS, 196, 22, (), "0200c40016", "0203acdb35"),
    (FunctionCode.READ_HOLDING_REGISTERS, 107, 3, (), "03006b0003", "0306022b00000064"),
    (FunctionCode.READ_INPUT_REGISTERS, 8, 1, (), "0400080001", "0402000a"),
    (FunctionCode.WRITE_SINGLE_COIL, 172, 1, (1,), "0500acff00", "0500acff00"),
    (FunctionCode.WRITE_SINGLE_REGISTER, 1, 1, (3,), "0600010003", "0600010003"),
    (FunctionCode.WRITE_MULTIPLE_COILS, 19, 10, tuple(bits_of("cd01", 10)), "0f0013000a02cd01", "0f0013000a"),
    (FunctionCode.WRITE_MULTIPLE_REGISTERS, 1, 2, (0x000A, 0x0102), "100001000204000a0102", "1000010002"),
]


@pytest.mark.parametrize("function, address, count, values, request_pdu, response_pdu", GOLDEN,
                         ids=[g[0].name for g in GOLDEN])
def test_golden_frames(function, address, count, values, request_pdu, response_pdu):
    request = Request(1, 1, function, address, count, values)
    assert encode_request(request).hex() == mbap(request_pdu)
    server = ModbusServer()
    server.add_unit(1, spec_bank())
    assert server.handle(bytes.fromhex(mbap(request_pdu))).hex() == mbap(response_pdu)
    response = decode_response(bytes.fromhex(mbap(response_pdu)), request)
    assert response.exception is None
    if function.is_read:
        assert len(response.values) == count
        assert list(response.values) == spec_bank().read(function.table, address, count)


def test_golden_exception_response_decodes():
    # Spec section 7 example: read coils answered with 0x81, exception 02.
    request = Request(1, 1, FunctionCode.READ_COILS, 0x04A1, 1)
    response = decode_response(bytes.fromhex(mbap("8102")), request)
    assert response.exception is ExceptionCode.ILLEGAL_DATA_ADDRESS


ILLEGAL = [
    ("unknown function 0x2b", "2b0e0100", ExceptionCode.ILLEGAL_FUNCTION),
    ("unsupported function 0x07", "07", ExceptionCode.ILLEGAL_FUNCTION),
    ("function 0x00", "00", ExceptionCode.ILLEGAL_FUNCTION),
    ("read registers count 0", "0300000000", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("read registers count 126", "030000007e", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("read input registers count 126", "040000007e", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("read coils count 0", "0100000000", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("read coils count 2001", "01000007d1", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("read discrete inputs count 2001", "02000007d1", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("read registers truncated", "030000", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("read registers trailing byte", "03000000010a", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("write single coil 0x1234", "0500011234", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("write single coil 0x00ff", "05000100ff", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("write registers count 124", "100000007cf8" + "0000" * 120, ExceptionCode.ILLEGAL_DATA_VALUE),
    ("write registers count 0", "100000000000", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("write registers byte count mismatch", "1000000002030001", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("write registers missing data", "100000000204000a", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("write coils byte count mismatch", "0f0000000a0103", ExceptionCode.ILLEGAL_DATA_VALUE),
    ("write coils count 1969", "0f000007b1f7" + "00" * 247, ExceptionCode.ILLEGAL_DATA_VALUE),
    ("read registers past 0xffff", "03ffff0002", ExceptionCode.ILLEGAL_DATA_ADDRESS),
    ("read registers outside the map", "0301ff0002", ExceptionCode.ILLEGAL_DATA_ADDRESS),
    ("read coils outside the map", "0101fc0008", ExceptionCode.ILLEGAL_DATA_ADDRESS),
    ("write register outside the map", "0602000001", ExceptionCode.ILLEGAL_DATA_ADDRESS),
    ("write registers outside the map", "1001ff000204000a0102", ExceptionCode.ILLEGAL_DATA_ADDRESS),
]


@pytest.mark.parametrize("pdu_hex, code", [(p, c) for _, p, c in ILLEGAL], ids=[n for n, _, _ in ILLEGAL])
def test_illegal_request_gets_its_exception_code(pdu_hex, code):
    server = ModbusServer()
    server.add_unit(1, spec_bank())
    answer = server.handle(bytes.fromhex(mbap(pdu_hex)))
    function_code = bytes.fromhex(pdu_hex)[0]
    assert answer is not None
    assert answer.hex() == mbap(f"{function_code | 0x80:02x}{int(code):02x}")
    assert server.counters.exceptions == 1


@pytest.mark.parametrize("adu_hex", [
    "0001000000060103",               # shorter than its MBAP length says
    "00010001000601030000 0001",      # protocol id 1 is not Modbus
    "000100000002",                   # no unit id, no function code
    "0001000000070103000000010000",   # MBAP length says 7, 8 bytes follow
    "00010000000101",                 # MBAP only, no PDU
], ids=["short", "protocol-id", "truncated-mbap", "length-mismatch", "no-pdu"])
def test_malformed_frames_are_dropped_without_a_reply(adu_hex):
    server = ModbusServer()
    server.add_unit(1, spec_bank())
    assert server.handle(bytes.fromhex(adu_hex.replace(" ", ""))) is None
    assert server.counters.malformed == 1
    assert server.last_error.startswith("malformed")


def test_unit_ids_gateway_self_and_broadcast():
    first, second = spec_bank(), spec_bank()
    server = ModbusServer()
    server.add_unit(1, first)
    server.add_unit(2, second)
    # Unknown unit: gateway answers 0x0B.
    assert server.handle(bytes.fromhex(mbap("0300000001", unit_id=9))).hex() == mbap("830b", unit_id=9)
    # 0xFF with two banks and no default: no device is "this server" either.
    assert server.handle(bytes.fromhex(mbap("0300000001", unit_id=0xFF))).hex() == mbap("830b", unit_id=0xFF)
    server.default_unit = 2
    second.set(ModbusTable.HOLDING_REGISTERS, 0, [42])
    assert server.handle(bytes.fromhex(mbap("0300000001", unit_id=0xFF))).hex() == mbap("0302002a", unit_id=0xFF)
    # Broadcast write: applied to every bank, never answered; broadcast read: discarded.
    assert server.handle(bytes.fromhex(mbap("0600050007", unit_id=0))) is None
    assert first.read(ModbusTable.HOLDING_REGISTERS, 5, 1) == [7] == second.read(ModbusTable.HOLDING_REGISTERS, 5, 1)
    assert server.handle(bytes.fromhex(mbap("0300000001", unit_id=0))) is None
    with pytest.raises(ValueError):
        server.add_unit(0, first)
    with pytest.raises(ValueError):
        server.add_unit(255, first)


def test_write_to_read_only_table_and_device_bug():
    class Broken:
        def read(self, table, address, count):
            raise ZeroDivisionError("device bug")

        def write(self, table, address, values):
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, "read-only point")

    server = ModbusServer()
    server.add_unit(1, Broken())
    assert server.handle(bytes.fromhex(mbap("0300000001"))).hex() == mbap("8304")  # device failure
    assert server.handle(bytes.fromhex(mbap("0600000001"))).hex() == mbap("8603")


def test_response_that_does_not_fit_is_malformed():
    request = Request(1, 1, FunctionCode.READ_HOLDING_REGISTERS, 0, 2)
    with pytest.raises(MalformedFrame):
        decode_response(bytes.fromhex(mbap("030200ff")), request)  # one register for two
    with pytest.raises(MalformedFrame):
        decode_response(bytes.fromhex(mbap("0404000000ff")), request)  # other function
    with pytest.raises(MalformedFrame):
        decode_response(bytes.fromhex(mbap("03040000000a", tid=2)), request)  # other transaction


def test_only_the_adapter_imports_pymodbus():
    import pathlib
    import re

    import cosim.comm

    root = pathlib.Path(cosim.comm.__file__).parent
    pattern = re.compile(r"^\s*(import|from)\s+pymodbus\b", re.MULTILINE)
    importers = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py") if pattern.search(p.read_text()))
    assert importers == ["modbus/pymodbus_adapter.py"]
