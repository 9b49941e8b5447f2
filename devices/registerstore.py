"""A device's register store: its point model (:class:`~devices.pointstore.PointStore`) seen through the Modbus map.

Implements :class:`cosim.comm.modbus.datamodel.RegisterBank`: the Modbus view
places each named point at a table and address (the kind's register map),
and ``read`` and ``write`` take raw words at those addresses, checked. The
device itself goes through ``get`` and ``set`` (engineering units by point
name) and reacts to master writes through callbacks registered with
``on_write``; other protocols write points by name (``write_point``).
Cross-point rules (a curve that needs a reset characteristic, shots that need
intervals) are write checks, run before commit (``add_write_check``; see
:mod:`devices.settingsbinding`).

Exception policy (Modbus Application Protocol v1.1b3, section 7), decided once
here for every device:

* ``02 ILLEGAL_DATA_ADDRESS`` -- any address of a read or write outside the
  map, even when only part of the range is outside (no padding of bit tables
  to multiples of 16 as pymodbus does); a write to a read-only point; a write
  to a protection setting while the scenario does not allow remote setting
  changes. Rationale: the address is not an allowable address *for this
  request*; the value is never looked at.
* ``03 ILLEGAL_DATA_VALUE`` -- a request that names writable addresses but
  carries data the point cannot take: a count below one, a value outside the
  point's minimum/maximum after scaling, a bit other than 0/1, a non-finite
  float, or a write that covers only one register of a 32-bit (or string)
  point, or a combination a write check refuses. The half-value case is 03 rather than 02 because every address in it
  exists and is writable; what is wrong is the data it would leave behind (a
  torn value), and the store refuses torn values atomically.

* ``01 ILLEGAL_FUNCTION`` -- a write check may refuse a command the device is
  in the wrong state to accept (section 7: "the server is in the wrong state
  to process a request of this type"), e.g. a manual-only command while the
  device controls automatically.

A write either applies completely or not at all. A read may cover part of a
32-bit point: reading a register never tears anything.

All calls run in simulated time inside whatever process owns the device; the
store keeps no clock.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Sequence

import numpy as np

from cosim.comm.modbus.datamodel import ExceptionCode, ModbusError, ModbusTable
from devices.encoding import decode_value
from devices.pointstore import Layout, PointStore, Refusal, WriteCallback, WriteCheck, WriteRefused
from devices.registermap import MODBUS_ADDRESS_SPACE, Point, RegisterMap

__all__ = ["RegisterStore", "WriteCallback", "WriteCheck"]

_CODE_OF_REFUSAL = {Refusal.NOT_WRITABLE: ExceptionCode.ILLEGAL_DATA_ADDRESS,
                    Refusal.LOCKED: ExceptionCode.ILLEGAL_DATA_ADDRESS,
                    Refusal.OUT_OF_RANGE: ExceptionCode.ILLEGAL_DATA_VALUE,
                    Refusal.REFUSED: ExceptionCode.ILLEGAL_DATA_VALUE,
                    Refusal.WRONG_STATE: ExceptionCode.ILLEGAL_FUNCTION}
"""The store's refusals as Modbus exception codes (the policy of the module docstring)."""


@dataclasses.dataclass(frozen=True)
class _TableIndex:
    """One table over the span [base, base + len(owner)): the point at each address (-1 unmapped) and its word."""

    base: int
    owner: np.ndarray  # int32 index into RegisterMap.points
    position: np.ndarray  # int64 index into the store's flat words


@functools.lru_cache(maxsize=64)
def _modbus_index(layout: Layout) -> dict[ModbusTable, _TableIndex]:
    """Where each table's addresses are in a store's words, built once per layout (thousands of devices share one)."""
    points, offsets = layout.points, layout.offsets
    register_map = RegisterMap("layout", points, layout.word_order)
    index = {point.name: i for i, point in enumerate(points)}
    tables: dict[ModbusTable, _TableIndex] = {}
    for table in register_map.tables():
        in_table = register_map.in_table(table)
        base = in_table[0].address
        span = max(point.end_address for point in in_table) - base
        owner = np.full(span, -1, dtype=np.int32)
        position = np.full(span, -1, dtype=np.int64)
        for point in in_table:
            i = index[point.name]
            owner[point.address - base : point.end_address - base] = i
            position[point.address - base : point.end_address - base] = offsets[i] + np.arange(point.register_count)
        owner.setflags(write=False)
        position.setflags(write=False)
        tables[table] = _TableIndex(base, owner, position)
    return tables


class RegisterStore(PointStore):
    """Checked register memory for one device; implements ``RegisterBank`` (the Modbus view of its points)."""

    def __init__(self, register_map: RegisterMap, *, protection_writes_allowed: bool = False) -> None:
        super().__init__(register_map, protection_writes_allowed=protection_writes_allowed)
        self._tables = _modbus_index(self.layout)

    def read(self, table: ModbusTable, address: int, count: int) -> list[int]:
        """Raw words (or 0/1 bits) at ``address .. address+count-1``; raises ModbusError 02/03."""
        if count < 1:
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, f"count {count} < 1")
        index, start = self._locate(table, address, count)
        return [int(word) for word in self._words[index.position[start : start + count]]]

    def write(self, table: ModbusTable, address: int, values: Sequence[int]) -> None:
        """Write raw words or bits from a master; atomic; fires ``on_write`` callbacks after commit.

        Raises ModbusError: 02 for unmapped, read-only or locked protection
        addresses (also for the read-only tables); 03 for bad data (see module
        docstring).
        """
        count = len(values)
        if count < 1:
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, "no values to write")
        if not table.is_writable:
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS, f"{table.value} is read-only")
        index, start = self._locate(table, address, count)
        touched = [self._points[i] for i in dict.fromkeys(int(i) for i in index.owner[start : start + count])]
        for point in touched:
            _as_modbus(self.check_writable, point)  # 02 before any 03, as in the processing order of section 7
        upper = 1 if table.is_bit else 0xFFFF
        for word in values:
            if not isinstance(word, (int, np.integer)) or not 0 <= word <= upper:
                raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, f"{word!r} outside 0..{upper}")
        end = address + count
        new_values = []
        for point in touched:
            if point.address < address or point.end_address > end:
                raise ModbusError(
                    ExceptionCode.ILLEGAL_DATA_VALUE,
                    f"write {address}..{end - 1} covers only part of {point.name} "
                    f"({point.address}..{point.end_address - 1})",
                )
            words = [int(v) for v in values[point.address - address : point.end_address - address]]
            value = decode_value(point, words, self.register_map.word_order_of(point))
            _as_modbus(lambda p: self.check_range(p, value), point)
            new_values.append((point, words, value))
        try:
            self.commit(new_values)
        except WriteRefused as refused:  # a device's write check
            raise ModbusError(_CODE_OF_REFUSAL[refused.refusal], str(refused)) from None

    def _locate(self, table: ModbusTable, address: int, count: int) -> tuple[_TableIndex, int]:
        index = self._tables.get(table)
        if index is None or address < 0 or address + count > MODBUS_ADDRESS_SPACE:
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS, f"{table.value} {address}+{count} not mapped")
        start = address - index.base
        if start < 0 or start + count > len(index.owner) or bool((index.owner[start : start + count] < 0).any()):
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS, f"{table.value} {address}+{count} not mapped")
        return index, start


def _as_modbus(check: Callable[[Point], None], point: Point) -> None:
    """Run a point store check; its refusal becomes the Modbus exception the module docstring assigns."""
    try:
        check(point)
    except WriteRefused as refused:
        raise ModbusError(_CODE_OF_REFUSAL[refused.refusal], str(refused)) from None
