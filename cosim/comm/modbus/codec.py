"""Sans-IO Modbus TCP codec: bytes in, typed requests/responses or exception codes out.

We parse the MBAP header and check every request ourselves before pymodbus
sees it, because pymodbus answers anything malformed with a bare "Unable to
decode request". The order of checks follows the server state diagrams of the
Modbus Application Protocol Specification v1.1b3 (section 6.x, figures
"state diagram" per function code): function code supported (else 01), then
quantity and structure (else 03), then address + quantity within 0..0xFFFF
(else 02); the register bank then answers 02/03 for its own map.

No I/O and no simulated time here: the same functions serve the simulated
transport and a real TCP socket.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from . import pymodbus_adapter as adapter
from .datamodel import ExceptionCode, ModbusError, ModbusTable

MBAP_LENGTH = 7
MAX_ADU_BYTES = 260  # Modbus Messaging on TCP/IP Implementation Guide v1.0b, 4.1: MBAP 7 + PDU 253


class FunctionCode(enum.IntEnum):
    READ_COILS = 0x01
    READ_DISCRETE_INPUTS = 0x02
    READ_HOLDING_REGISTERS = 0x03
    READ_INPUT_REGISTERS = 0x04
    WRITE_SINGLE_COIL = 0x05
    WRITE_SINGLE_REGISTER = 0x06
    WRITE_MULTIPLE_COILS = 0x0F
    WRITE_MULTIPLE_REGISTERS = 0x10

    @property
    def table(self) -> ModbusTable:
        return _TABLES[self]

    @property
    def is_read(self) -> bool:
        return self <= 0x04


_TABLES = {
    FunctionCode.READ_COILS: ModbusTable.COILS,
    FunctionCode.READ_DISCRETE_INPUTS: ModbusTable.DISCRETE_INPUTS,
    FunctionCode.READ_HOLDING_REGISTERS: ModbusTable.HOLDING_REGISTERS,
    FunctionCode.READ_INPUT_REGISTERS: ModbusTable.INPUT_REGISTERS,
    FunctionCode.WRITE_SINGLE_COIL: ModbusTable.COILS,
    FunctionCode.WRITE_SINGLE_REGISTER: ModbusTable.HOLDING_REGISTERS,
    FunctionCode.WRITE_MULTIPLE_COILS: ModbusTable.COILS,
    FunctionCode.WRITE_MULTIPLE_REGISTERS: ModbusTable.HOLDING_REGISTERS,
}

# Quantity limits, Modbus Application Protocol v1.1b3, sections 6.1-6.4, 6.11, 6.12.
MAX_READ_BITS = 2000
MAX_READ_REGISTERS = 125
MAX_WRITE_BITS = 1968
MAX_WRITE_REGISTERS = 123
COIL_ON, COIL_OFF = 0xFF00, 0x0000  # section 6.5


class MalformedFrame(ValueError):
    """Bytes that are not a Modbus TCP ADU at all (bad MBAP): no reply is possible.

    A real server closes the connection; the simulated one drops the frame
    and traces why.
    """


@dataclass(frozen=True)
class Request:
    """A decoded Modbus request. ``values`` are the bits (0/1) or registers written."""

    transaction_id: int
    unit_id: int
    function: FunctionCode
    address: int
    count: int
    values: tuple[int, ...] = ()


@dataclass(frozen=True)
class Response:
    """A decoded response: ``values`` read (or echoed), or an ``exception`` code."""

    transaction_id: int
    unit_id: int
    function: int
    values: tuple[int, ...] = ()
    exception: ExceptionCode | None = None


@dataclass(frozen=True)
class Mbap:
    transaction_id: int
    unit_id: int
    function_code: int
    pdu: bytes  # function code + data


def parse_mbap(adu: bytes) -> Mbap:
    """Split an ADU into its MBAP fields and PDU; raises :class:`MalformedFrame`."""
    if len(adu) < MBAP_LENGTH + 1:
        raise MalformedFrame(f"{len(adu)} bytes is shorter than MBAP + function code")
    if len(adu) > MAX_ADU_BYTES:
        raise MalformedFrame(f"{len(adu)} bytes is longer than the 260-byte maximum ADU")
    tid, protocol, length, unit_id = struct.unpack_from(">HHHB", adu)
    if protocol != 0:
        raise MalformedFrame(f"protocol identifier {protocol} is not 0 (Modbus)")
    if length != len(adu) - 6:
        raise MalformedFrame(f"MBAP length {length} but {len(adu) - 6} bytes follow it")
    return Mbap(tid, unit_id, adu[7], adu[7:])


def check_request(frame: Mbap) -> Request:
    """Validate a request PDU; raises :class:`ModbusError` with the code to answer."""
    fc = frame.function_code
    try:
        function = FunctionCode(fc)
    except ValueError:
        raise ModbusError(ExceptionCode.ILLEGAL_FUNCTION, f"function code {fc:#04x} not supported") from None
    data = frame.pdu[1:]
    bad_value = ExceptionCode.ILLEGAL_DATA_VALUE
    if function in (FunctionCode.WRITE_MULTIPLE_COILS, FunctionCode.WRITE_MULTIPLE_REGISTERS):
        if len(data) < 5:
            raise ModbusError(bad_value, "request shorter than address, quantity and byte count")
        address, count, byte_count = struct.unpack_from(">HHB", data)
        limit, need = ((MAX_WRITE_BITS, (count + 7) // 8) if function is FunctionCode.WRITE_MULTIPLE_COILS
                       else (MAX_WRITE_REGISTERS, 2 * count))
        if not 1 <= count <= limit:
            raise ModbusError(bad_value, f"quantity {count} outside 1..{limit}")
        if byte_count != need or len(data) != 5 + byte_count:
            raise ModbusError(bad_value, f"byte count {byte_count} / {len(data) - 5} data bytes for quantity {count}")
    else:
        if len(data) != 4:
            raise ModbusError(bad_value, f"request data is {len(data)} bytes, expected 4")
        address, second = struct.unpack_from(">HH", data)
        count = 1
        if function.is_read:
            count = second
            limit = MAX_READ_BITS if function.table.is_bit else MAX_READ_REGISTERS
            if not 1 <= count <= limit:
                raise ModbusError(bad_value, f"quantity {count} outside 1..{limit}")
        elif function is FunctionCode.WRITE_SINGLE_COIL and second not in (COIL_ON, COIL_OFF):
            raise ModbusError(bad_value, f"coil value {second:#06x} is neither 0xFF00 nor 0x0000")
    if address + count > 0x10000:
        raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS, f"address {address} + quantity {count} past 0xFFFF")
    adu = _mbap_bytes(frame) + frame.pdu
    address, count, values = adapter.decode_request(adu)
    return Request(frame.transaction_id, frame.unit_id, function, address, count, tuple(values))


def _mbap_bytes(frame: Mbap) -> bytes:
    return struct.pack(">HHHB", frame.transaction_id, 0, len(frame.pdu) + 1, frame.unit_id)


def decode_request(adu: bytes) -> Request:
    """Parse and check a request ADU (raises MalformedFrame or ModbusError)."""
    return check_request(parse_mbap(adu))


def encode_request(request: Request) -> bytes:
    """The ADU bytes of a request. Raises ValueError for values the protocol cannot carry."""
    fn = request.function
    if not 0 <= request.unit_id <= 0xFF or not 0 <= request.transaction_id <= 0xFFFF:
        raise ValueError("unit_id must be 0..255 and transaction_id 0..65535")
    if not 0 <= request.address <= 0xFFFF:
        raise ValueError(f"address {request.address} outside 0..65535")
    limit = {True: MAX_READ_BITS if fn.table.is_bit else MAX_READ_REGISTERS,
             False: MAX_WRITE_BITS if fn.table.is_bit else MAX_WRITE_REGISTERS}[fn.is_read]
    if not 1 <= request.count <= limit:
        raise ValueError(f"{fn.name}: quantity {request.count} outside 1..{limit}")
    if not fn.table.is_bit and any(not 0 <= v <= 0xFFFF for v in request.values):
        raise ValueError("register values must be 0..65535")
    return adapter.encode_request(int(fn), request.unit_id, request.transaction_id, request.address,
                                  request.count, request.values)


def encode_response(request: Request, values: tuple[int, ...] | list[int]) -> bytes:
    """The normal response to ``request`` (``values`` read, ignored for multiple writes)."""
    echo = values if request.function.is_read else request.values
    return adapter.encode_response(int(request.function), request.unit_id, request.transaction_id,
                                   request.address, request.count, echo)


def encode_exception(transaction_id: int, unit_id: int, function_code: int, code: ExceptionCode) -> bytes:
    return adapter.encode_exception(function_code & 0x7F, int(code), unit_id, transaction_id)


def decode_response(adu: bytes, request: Request) -> Response:
    """Parse a response to ``request``; raises MalformedFrame if it does not answer it."""
    frame = parse_mbap(adu)
    fc = frame.function_code
    if frame.transaction_id != request.transaction_id:
        raise MalformedFrame(f"transaction id {frame.transaction_id}, expected {request.transaction_id}")
    if fc == int(request.function) | 0x80:
        if len(frame.pdu) != 2:
            raise MalformedFrame("exception response must carry exactly one exception code")
        try:
            code = ExceptionCode(frame.pdu[1])
        except ValueError:
            raise MalformedFrame(f"unknown exception code {frame.pdu[1]:#04x}") from None
        return Response(frame.transaction_id, frame.unit_id, fc, (), code)
    if fc != int(request.function):
        raise MalformedFrame(f"function code {fc:#04x} does not answer {int(request.function):#04x}")
    n = request.count
    fn = request.function
    if fn.is_read:
        need = (n + 7) // 8 if fn.table.is_bit else 2 * n
        if len(frame.pdu) != 2 + need or frame.pdu[1] != need:
            raise MalformedFrame(f"read response carries {len(frame.pdu) - 2} data bytes, expected {need}")
    elif len(frame.pdu) != 5:
        raise MalformedFrame("write response must be 5 PDU bytes")
    _, _, _, values = adapter.decode_response(adu)
    if fn.is_read:
        values = values[:n]
    return Response(frame.transaction_id, frame.unit_id, fc, tuple(values))
