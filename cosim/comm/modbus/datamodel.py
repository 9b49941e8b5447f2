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
    :class:`ModbusError` -- 02 for an address outside the map or one that may
    not be written (read-only point, protection setting not writable), 03 for
    a bad quantity or a value out of range -- and never anything else for bad
    input.
    """

    def read(self, table: ModbusTable, address: int, count: int) -> list[int]: ...

    def write(self, table: ModbusTable, address: int, values: Sequence[int]) -> None: ...


class ArrayRegisterBank:
    """A plain RegisterBank: four zero-filled tables of fixed size starting at address 0.

    For tests, examples and simple devices; device models with register maps
    implement :class:`RegisterBank` themselves. Any address outside a table
    is 02, a bit value other than 0/1 or a register outside 0..65535 is 03,
    writes to the read-only tables are 01 (the function does not apply).
    """

    def __init__(self, coils: int = 0, discrete_inputs: int = 0, holding_registers: int = 0,
                 input_registers: int = 0) -> None:
        self.tables: dict[ModbusTable, list[int]] = {
            ModbusTable.COILS: [0] * coils,
            ModbusTable.DISCRETE_INPUTS: [0] * discrete_inputs,
            ModbusTable.HOLDING_REGISTERS: [0] * holding_registers,
            ModbusTable.INPUT_REGISTERS: [0] * input_registers,
        }

    def _span(self, table: ModbusTable, address: int, count: int) -> list[int]:
        data = self.tables[table]
        if address < 0 or count < 1 or address + count > len(data):
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS,
                              f"{table.value} {address}..{address + count - 1} outside 0..{len(data) - 1}")
        return data

    def read(self, table: ModbusTable, address: int, count: int) -> list[int]:
        return self._span(table, address, count)[address : address + count]

    def write(self, table: ModbusTable, address: int, values: Sequence[int]) -> None:
        data = self._span(table, address, len(values))
        top = 1 if table.is_bit else 0xFFFF
        if any(not 0 <= int(v) <= top for v in values):
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, f"value outside 0..{top}")
        data[address : address + len(values)] = [int(v) for v in values]

    def set(self, table: ModbusTable, address: int, values: Sequence[int]) -> None:
        """Device-side update (any table, including the read-only ones)."""
        self.write(table, address, values)
