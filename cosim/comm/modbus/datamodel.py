"""The Modbus data model shared by servers (devices) and masters (applications).

A device's register store implements :class:`RegisterBank`; the Modbus server
code in this package turns its :class:`ModbusError` into the exception response
of the Modbus Application Protocol v1.1b3 (section 7).
"""

from __future__ import annotations

import enum
from typing import Protocol, Sequence


class ModbusTable(enum.Enum):
    """The four primary tables (Modbus Application Protocol v1.1b3, section 4.3)."""

    COILS = "coils"                          # 1 bit, read-write
    DISCRETE_INPUTS = "discrete_inputs"      # 1 bit, read-only
    HOLDING_REGISTERS = "holding_registers"  # 16 bit, read-write
    INPUT_REGISTERS = "input_registers"      # 16 bit, read-only

    @property
    def is_bit(self) -> bool:
        return self in (ModbusTable.COILS, ModbusTable.DISCRETE_INPUTS)

    @property
    def is_writable(self) -> bool:
        return self in (ModbusTable.COILS, ModbusTable.HOLDING_REGISTERS)


class ExceptionCode(enum.IntEnum):
    """Exception codes (Modbus Application Protocol v1.1b3, section 7)."""

    ILLEGAL_FUNCTION = 0x01
    ILLEGAL_DATA_ADDRESS = 0x02
    ILLEGAL_DATA_VALUE = 0x03
    SERVER_DEVICE_FAILURE = 0x04
    ACKNOWLEDGE = 0x05
    SERVER_DEVICE_BUSY = 0x06
    GATEWAY_PATH_UNAVAILABLE = 0x0A
    GATEWAY_TARGET_FAILED_TO_RESPOND = 0x0B


class ModbusError(Exception):
    """A request the server refuses; carried on the wire as an exception response."""

    def __init__(self, code: ExceptionCode, reason: str = "") -> None:
        super().__init__(f"Modbus exception {int(code):#04x} {code.name}" + (f": {reason}" if reason else ""))
        self.code = ExceptionCode(code)
        self.reason = reason


class RegisterBank(Protocol):
    """What a Modbus server needs from a device: checked reads and writes.

    Bits are 0/1 ints, registers 0..65535. Implementations raise
    :class:`ModbusError` (02 for an address outside the map, 03 for a value
    out of range or a read-only point) and never anything else for bad input.
    """

    def read(self, table: ModbusTable, address: int, count: int) -> list[int]: ...

    def write(self, table: ModbusTable, address: int, values: Sequence[int]) -> None: ...
