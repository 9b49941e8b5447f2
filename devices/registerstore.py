"""A device's register store: the memory behind its Modbus server.

Implements :class:`cosim.comm.modbus.datamodel.RegisterBank` over a
:class:`~devices.registermap.RegisterMap`. Masters go through ``read`` and
``write`` (raw words, checked); the device itself goes through ``get`` and
``set`` (engineering units by point name) and reacts to master writes through
callbacks registered with ``on_write``. Cross-point rules (a curve that needs
a reset characteristic, shots that need intervals) are write checks, run
before commit (``add_write_check``; see :mod:`devices.settingsbinding`).

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
import math
from typing import Callable, Mapping, Sequence

import numpy as np

from cosim.comm.modbus.datamodel import ExceptionCode, ModbusError, ModbusTable
from devices.encoding import EncodingError, decode_value, encode_value
from devices.registermap import MODBUS_ADDRESS_SPACE, DataType, Point, RegisterMap, Value, WordOrder

WriteCallback = Callable[[Point, Value], None]
"""Called after a master write commits, once per point written, with the new engineering value."""

WriteCheck = Callable[[Mapping[str, Value]], None]
"""Called before a master write commits with {point name: new engineering value} of the points it
writes; raises ModbusError (03) to refuse a combination no single point's limits can express."""


@dataclasses.dataclass
class _TableImage:
    """The words of one table over the span [base, base + len(words)); ``owner`` is -1 where unmapped."""

    base: int
    words: np.ndarray  # uint16
    owner: np.ndarray  # int32 index into RegisterMap.points


@functools.lru_cache(maxsize=64)
def _initial_image(points: tuple[Point, ...], word_order: WordOrder) -> dict[ModbusTable, _TableImage]:
    """The tables' words holding every point's default, and each word's owner, built once per layout.

    Thousands of devices of one kind share a layout; encoding each one's
    defaults again cost milliseconds per device. Callers copy the words.
    """
    register_map = RegisterMap("layout", points, word_order)
    index = {point.name: i for i, point in enumerate(points)}
    images: dict[ModbusTable, _TableImage] = {}
    for table in register_map.tables():
        in_table = register_map.in_table(table)
        base = in_table[0].address
        span = max(point.end_address for point in in_table) - base
        owner = np.full(span, -1, dtype=np.int32)
        for point in in_table:
            owner[point.address - base : point.end_address - base] = index[point.name]
        owner.setflags(write=False)
        images[table] = _TableImage(base, np.zeros(span, dtype=np.uint16), owner)
    for point in points:
        words = encode_value(point, point.default, register_map.word_order_of(point), saturate=False)
        image = images[point.table]
        start = point.address - image.base
        image.words[start : start + len(words)] = words
    return images


class RegisterStore:
    """Checked register memory for one device; implements ``RegisterBank``.

    ``protection_writes_allowed`` mirrors the scenario switch that lets masters
    change protection settings (pickup, time dial, curve...) remotely; it can
    be flipped during a run.
    """

    def __init__(self, register_map: RegisterMap, *, protection_writes_allowed: bool = False) -> None:
        self.register_map = register_map
        self.protection_writes_allowed = protection_writes_allowed
        self._points = register_map.points
        images = _initial_image(register_map.points, register_map.word_order)
        # Owners are shared (read-only); each store gets its own copy of the words.
        self._images: dict[ModbusTable, _TableImage] = {
            table: _TableImage(image.base, image.words.copy(), image.owner) for table, image in images.items()}
        self._callbacks: dict[str, list[WriteCallback]] = {}
        self._checks: list[WriteCheck] = []
        self.generation = 0  # counts stores that changed a word: a reader seeing the generation it saw last knows nothing did

    # -- master side (RegisterBank) -------------------------------------------------

    def read(self, table: ModbusTable, address: int, count: int) -> list[int]:
        """Raw words (or 0/1 bits) at ``address .. address+count-1``; raises ModbusError 02/03."""
        if count < 1:
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, f"count {count} < 1")
        image, start = self._locate(table, address, count)
        return [int(word) for word in image.words[start : start + count]]

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
        image, start = self._locate(table, address, count)
        touched = [self._points[i] for i in dict.fromkeys(int(i) for i in image.owner[start : start + count])]
        for point in touched:
            self._check_writable(point)  # 02 before any 03, as in the processing order of section 7
        upper = 1 if table.is_bit else 0xFFFF
        for word in values:
            if not isinstance(word, (int, np.integer)) or not 0 <= word <= upper:
                raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, f"{word!r} outside 0..{upper}")
        end = address + count
        new_values: list[tuple[Point, list[int], Value]] = []
        for point in touched:
            if point.address < address or point.end_address > end:
                raise ModbusError(
                    ExceptionCode.ILLEGAL_DATA_VALUE,
                    f"write {address}..{end - 1} covers only part of {point.name} "
                    f"({point.address}..{point.end_address - 1})",
                )
            words = [int(v) for v in values[point.address - address : point.end_address - address]]
            value = decode_value(point, words, self.register_map.word_order_of(point))
            self._check_range(point, value)
            new_values.append((point, words, value))
        proposed = {point.name: value for point, _, value in new_values}
        for check in self._checks:
            check(proposed)
        for point, words, _ in new_values:
            self._store(point, words)
        for point, _, value in new_values:
            for callback in self._callbacks.get(point.name, ()):
                callback(point, value)

    def write_point(self, name: str, value: Value) -> None:
        """A master's write of one point by name, in engineering units: encoded, then :meth:`write`.

        For protocols whose objects name points rather than addresses (DNP3,
        IEC 104), so that their controls pass the same checks and callbacks as
        a Modbus write. Raises EncodingError for a value the point cannot hold
        (no saturation: a master's out-of-range value is refused) and
        ModbusError as :meth:`write` does.
        """
        point = self.register_map.point(name)
        self.write(point.table, point.address,
                   encode_value(point, value, self.register_map.word_order_of(point), saturate=False))

    # -- device side ----------------------------------------------------------------

    def get(self, name: str) -> Value:
        """Engineering value of point ``name`` (int for unscaled integers, float, bool or str)."""
        point = self.register_map.point(name)
        image = self._images[point.table]
        start = point.address - image.base
        words = [int(w) for w in image.words[start : start + point.register_count]]
        return decode_value(point, words, self.register_map.word_order_of(point))

    def set(self, name: str, value: Value) -> None:
        """Store an engineering value from the device side; no access checks, no callbacks.

        Numbers are rounded to the point's resolution and saturate at the
        limits of the raw type (a transducer over range reads full scale).
        Raises ValueError for a value of the wrong kind (a str for a number,
        NaN for an integer point): that is a device bug, not master input.
        """
        point = self.register_map.point(name)
        try:
            words = encode_value(point, value, self.register_map.word_order_of(point), saturate=True)
        except EncodingError as error:
            raise ValueError(f"cannot set {name!r} to {value!r}: {error}") from None
        self._store(point, words)

    def on_write(self, name: str, callback: WriteCallback) -> None:
        """Call ``callback(point, value)`` after every master write to ``name`` (same value or not)."""
        point = self.register_map.point(name)
        if not point.writable:
            raise ValueError(f"{name!r} is read-only: masters can never write it")
        self._callbacks.setdefault(name, []).append(callback)

    def add_write_check(self, check: WriteCheck) -> None:
        """Run ``check`` on every master write before it commits (cross-point validation)."""
        self._checks.append(check)

    # -- internals ------------------------------------------------------------------

    def _locate(self, table: ModbusTable, address: int, count: int) -> tuple[_TableImage, int]:
        image = self._images.get(table)
        if image is None or address < 0 or address + count > MODBUS_ADDRESS_SPACE:
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS, f"{table.value} {address}+{count} not mapped")
        start = address - image.base
        if start < 0 or start + count > len(image.owner) or bool((image.owner[start : start + count] < 0).any()):
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS, f"{table.value} {address}+{count} not mapped")
        return image, start

    def _check_writable(self, point: Point) -> None:
        if not point.writable:
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS, f"{point.name} is read-only")
        if point.protection_setting and not self.protection_writes_allowed:
            raise ModbusError(
                ExceptionCode.ILLEGAL_DATA_ADDRESS, f"{point.name} is a protection setting and remote changes are off"
            )

    @staticmethod
    def _check_range(point: Point, value: Value) -> None:
        if point.data_type in (DataType.BOOL, DataType.STRING):
            return
        assert isinstance(value, (int, float))
        if not math.isfinite(value):
            raise ModbusError(ExceptionCode.ILLEGAL_DATA_VALUE, f"{point.name}: {value!r} is not finite")
        if (point.minimum is not None and value < point.minimum) or (
            point.maximum is not None and value > point.maximum
        ):
            raise ModbusError(
                ExceptionCode.ILLEGAL_DATA_VALUE,
                f"{point.name}: {value:g} {point.unit} outside [{point.minimum}, {point.maximum}]".replace("  ", " "),
            )

    def _store(self, point: Point, words: list[int]) -> None:
        image = self._images[point.table]
        start = point.address - image.base
        held = image.words[start : start + len(words)]
        if held.tolist() != words:
            held[:] = words
            self.generation += 1
