"""The one module that imports pymodbus (pinned to 3.16): PDU objects <-> Modbus TCP ADU bytes.

pymodbus renames things in most minor releases (``dev_id=`` on PDUs but
``device_id=`` on ExceptionResponse in 3.16), so every call to it is here and
nowhere else. Callers hand in frames :mod:`.codec` has already checked: this
module never decides exception codes, because pymodbus's own decode failure
is a bare "Unable to decode request".
"""

from __future__ import annotations

from typing import Sequence

from pymodbus.framer import FramerSocket
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.bit_message import (
    ReadCoilsRequest,
    ReadCoilsResponse,
    ReadDiscreteInputsRequest,
    ReadDiscreteInputsResponse,
    WriteMultipleCoilsRequest,
    WriteMultipleCoilsResponse,
    WriteSingleCoilRequest,
    WriteSingleCoilResponse,
)
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
    WriteMultipleRegistersRequest,
    WriteMultipleRegistersResponse,
    WriteSingleRegisterRequest,
    WriteSingleRegisterResponse,
)

_REQUEST_FRAMER = FramerSocket(DecodePDU(is_server=True))   # decodes requests
_RESPONSE_FRAMER = FramerSocket(DecodePDU(is_server=False))  # decodes responses

_READ_REQUESTS: dict[int, type[ModbusPDU]] = {
    1: ReadCoilsRequest, 2: ReadDiscreteInputsRequest,
    3: ReadHoldingRegistersRequest, 4: ReadInputRegistersRequest,
}
_READ_RESPONSES: dict[int, type[ModbusPDU]] = {
    1: ReadCoilsResponse, 2: ReadDiscreteInputsResponse,
    3: ReadHoldingRegistersResponse, 4: ReadInputRegistersResponse,
}


def encode_request(function_code: int, unit_id: int, transaction_id: int, address: int,
                   count: int, values: Sequence[int]) -> bytes:
    """A request ADU (MBAP + PDU) for function codes 1-6, 15, 16."""
    pdu: ModbusPDU
    if function_code in _READ_REQUESTS:
        pdu = _READ_REQUESTS[function_code](address=address, count=count, dev_id=unit_id, transaction_id=transaction_id)
    elif function_code == 5:
        pdu = WriteSingleCoilRequest(address=address, bits=[bool(values[0])], dev_id=unit_id, transaction_id=transaction_id)
    elif function_code == 6:
        pdu = WriteSingleRegisterRequest(address=address, registers=[int(values[0])], dev_id=unit_id, transaction_id=transaction_id)
    elif function_code == 15:
        pdu = WriteMultipleCoilsRequest(address=address, bits=[bool(v) for v in values], dev_id=unit_id, transaction_id=transaction_id)
    elif function_code == 16:
        pdu = WriteMultipleRegistersRequest(address=address, registers=[int(v) for v in values], dev_id=unit_id, transaction_id=transaction_id)
    else:
        raise ValueError(f"function code {function_code} not supported")
    return _REQUEST_FRAMER.buildFrame(pdu)


def encode_response(function_code: int, unit_id: int, transaction_id: int, address: int,
                    count: int, values: Sequence[int]) -> bytes:
    """A normal response ADU; ``values`` are the bits/registers read or echoed."""
    pdu: ModbusPDU
    if function_code in (1, 2):
        pdu = _READ_RESPONSES[function_code](bits=[bool(v) for v in values], dev_id=unit_id, transaction_id=transaction_id)
    elif function_code in (3, 4):
        pdu = _READ_RESPONSES[function_code](registers=[int(v) for v in values], dev_id=unit_id, transaction_id=transaction_id)
    elif function_code == 5:
        pdu = WriteSingleCoilResponse(address=address, bits=[bool(values[0])], dev_id=unit_id, transaction_id=transaction_id)
    elif function_code == 6:
        pdu = WriteSingleRegisterResponse(address=address, registers=[int(values[0])], dev_id=unit_id, transaction_id=transaction_id)
    elif function_code == 15:
        pdu = WriteMultipleCoilsResponse(address=address, count=count, dev_id=unit_id, transaction_id=transaction_id)
    elif function_code == 16:
        pdu = WriteMultipleRegistersResponse(address=address, count=count, dev_id=unit_id, transaction_id=transaction_id)
    else:
        raise ValueError(f"function code {function_code} not supported")
    return _RESPONSE_FRAMER.buildFrame(pdu)


def encode_exception(function_code: int, exception_code: int, unit_id: int, transaction_id: int) -> bytes:
    """An exception response ADU (function code | 0x80, one exception-code byte)."""
    pdu = ExceptionResponse(function_code, exception_code, device_id=unit_id, transaction=transaction_id)
    return _RESPONSE_FRAMER.buildFrame(pdu)


def decode_request(adu: bytes) -> tuple[int, int, list[int]]:
    """``(address, count, values)`` of a checked request ADU; values are the bits/registers written."""
    _, pdu = _REQUEST_FRAMER.handleFrame(adu, 0, 0)
    if pdu is None:
        raise ValueError("pymodbus could not decode the request")
    fc = pdu.function_code
    if fc in (5, 15):
        bits = [int(b) for b in pdu.bits]
        return pdu.address, (1 if fc == 5 else pdu.count), bits[: pdu.count] if fc == 15 else bits
    if fc in (6, 16):
        return pdu.address, len(pdu.registers), [int(r) for r in pdu.registers]
    return pdu.address, pdu.count, []


def decode_response(adu: bytes) -> tuple[int, int, int, list[int]]:
    """``(function_code, exception_code, address, values)`` of a checked response ADU.

    ``values`` holds every bit of the returned bytes for reads of coils and
    discrete inputs (the caller trims to the count it asked for).
    """
    _, pdu = _RESPONSE_FRAMER.handleFrame(adu, 0, 0)
    if pdu is None:
        raise ValueError("pymodbus could not decode the response")
    if pdu.function_code & 0x80:
        return pdu.function_code, pdu.exception_code, 0, []
    if pdu.function_code in (1, 2, 5):
        return pdu.function_code, 0, pdu.address, [int(b) for b in pdu.bits]
    if pdu.function_code in (15, 16):
        return pdu.function_code, 0, pdu.address, [pdu.count]
    return pdu.function_code, 0, pdu.address, [int(r) for r in pdu.registers]
