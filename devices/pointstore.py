"""A device's point model in memory: named points in engineering units, for the device and for masters of any protocol.

The points are the kind's declared point list (:class:`~devices.registermap.RegisterMap`:
name, data type, scale, unit, access, limits, protection lock, default).
Each point's value is kept in its raw form, the 16-bit words its data type
encodes to (:mod:`devices.encoding`), one flat array per device, so a
thousand devices of one kind share one layout and a protocol view can copy
words without converting. Nothing here knows a protocol's addresses: the
Modbus view (:class:`devices.registerstore.RegisterStore`) maps tables and
addresses onto these points; DNP3, IEC 104 and C37.118 name them.

The device reads and writes with :meth:`PointStore.get` and
:meth:`PointStore.set` (no checks, numbers saturate as a transducer does). A
master's write of a named point (:meth:`PointStore.write_point`) is checked:
the point must be writable and, if it is a protection setting, remote
changes must be allowed; the value must be finite, inside the point's limits
and encodable; then the device's own write checks run (a combination no
single point's limits can express, a command in the wrong state), then the
value commits and the device's callbacks fire. Every refusal, the store's or
a device check's, is a :class:`WriteRefused` naming its :class:`Refusal`. Every protocol maps these to its own
answer (a Modbus exception code, a DNP3 command status, a negative IEC 104
confirmation), so all enforce one set of rules.

All calls run in simulated time inside whatever process owns the device; the
store keeps no clock.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
from typing import Callable, Mapping

import numpy as np

from devices.encoding import EncodingError, decode_value, encode_value
from devices.registermap import DataType, Point, RegisterMap, Value, WordOrder

WriteCallback = Callable[[Point, Value], None]
"""Called after a master write commits, once per point written, with the new engineering value."""

WriteCheck = Callable[[Mapping[str, Value]], None]
"""Called before a master write commits with {point name: new engineering value} of the points it
writes; raises WriteRefused (REFUSED or WRONG_STATE) to refuse what no single point's limits can express."""


class Refusal(enum.Enum):
    """Why a master's write was refused: by the store (the first three) or by the device's own write check."""

    NOT_WRITABLE = "not writable"
    LOCKED = "protection setting locked"
    OUT_OF_RANGE = "out of range"
    REFUSED = "refused by the device"
    """A combination or sequence the device refuses (settings that would be invalid, an operate without its select)."""
    WRONG_STATE = "device in the wrong state"
    """A command the device does not take in its present mode (a manual-only command in automatic)."""


class WriteRefused(ValueError):
    """A refused master write; ``point`` names the point (or the points) concerned."""

    def __init__(self, refusal: Refusal, point: str, message: str) -> None:
        super().__init__(message)
        self.refusal, self.point = refusal, point


@dataclasses.dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per cached layout
class Layout:
    """Where each point's words sit in a store's flat array, and the array of defaults (shared, read-only)."""

    points: tuple[Point, ...]
    word_order: WordOrder
    offsets: np.ndarray  # int64, one per point, into the flat words
    defaults: np.ndarray  # uint16, every point's default encoded
    offset_of: Mapping[str, int]  # point name -> its first word


@functools.lru_cache(maxsize=64)
def layout_of(points: tuple[Point, ...], word_order: WordOrder) -> Layout:
    """The layout of a point tuple, built once per distinct layout (thousands of devices share one)."""
    counts = np.array([point.register_count for point in points], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64) if len(points) else counts
    defaults = np.zeros(int(counts.sum()), dtype=np.uint16)
    for point, offset in zip(points, offsets):
        words = encode_value(point, point.default, point.word_order or word_order, saturate=False)
        defaults[offset:offset + len(words)] = words
    offsets.setflags(write=False)
    defaults.setflags(write=False)
    return Layout(points, word_order, offsets, defaults, {point.name: int(offset) for point, offset in zip(points, offsets)})


class PointStore:
    """The checked point memory of one device.

    ``protection_writes_allowed`` mirrors the scenario switch that lets masters
    change protection settings (pickup, time dial, curve...) remotely; it can
    be flipped during a run.
    """

    def __init__(self, register_map: RegisterMap, *, protection_writes_allowed: bool = False) -> None:
        self.register_map = register_map
        self.protection_writes_allowed = protection_writes_allowed
        self._points = register_map.points
        layout = self.layout = layout_of(register_map.points, register_map.word_order)
        self._offset_of = layout.offset_of  # shared by every store of the layout
        self._words = layout.defaults.copy()
        self._callbacks: dict[str, list[WriteCallback]] = {}
        self._checks: list[WriteCheck] = []
        self.generation = 0  # counts stores that changed a word: a reader seeing the generation it saw last knows nothing did

    # -- device side ----------------------------------------------------------------

    def get(self, name: str) -> Value:
        """Engineering value of point ``name`` (int for unscaled integers, float, bool or str)."""
        point = self.register_map.point(name)
        return decode_value(point, self._words_of(point), self.register_map.word_order_of(point))

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

    # -- master side ----------------------------------------------------------------

    def write_point(self, name: str, value: Value) -> None:
        """A master's write of one point by name, in engineering units (see the module docstring for the checks).

        Raises EncodingError for a value the point cannot hold (no
        saturation), WriteRefused for a point the master may not write or a
        value outside its limits, and whatever a device's write check raises.
        """
        point = self.register_map.point(name)
        words = encode_value(point, value, self.register_map.word_order_of(point), saturate=False)
        self.check_writable(point)
        value = decode_value(point, words, self.register_map.word_order_of(point))
        self.check_range(point, value)
        self.commit([(point, words, value)])

    def check_writable(self, point: Point) -> None:
        """Raise WriteRefused unless masters may write ``point`` now."""
        if not point.writable:
            raise WriteRefused(Refusal.NOT_WRITABLE, point.name, f"{point.name} is read-only")
        if point.protection_setting and not self.protection_writes_allowed:
            raise WriteRefused(Refusal.LOCKED, point.name,
                               f"{point.name} is a protection setting and remote changes are off")

    @staticmethod
    def check_range(point: Point, value: Value) -> None:
        """Raise WriteRefused (OUT_OF_RANGE) for a non-finite number or one outside the point's limits."""
        if point.data_type in (DataType.BOOL, DataType.STRING):
            return
        assert isinstance(value, (int, float))
        if not math.isfinite(value):
            raise WriteRefused(Refusal.OUT_OF_RANGE, point.name, f"{point.name}: {value!r} is not finite")
        if (point.minimum is not None and value < point.minimum) or (
            point.maximum is not None and value > point.maximum
        ):
            raise WriteRefused(
                Refusal.OUT_OF_RANGE, point.name,
                f"{point.name}: {value:g} {point.unit} outside [{point.minimum}, {point.maximum}]".replace("  ", " "),
            )

    def commit(self, new_values: list[tuple[Point, list[int], Value]]) -> None:
        """Run the device's write checks on checked values, then store them all and fire the callbacks."""
        proposed = {point.name: value for point, _, value in new_values}
        for check in self._checks:
            check(proposed)
        for point, words, _ in new_values:
            self._store(point, words)
        for point, _, value in new_values:
            for callback in self._callbacks.get(point.name, ()):
                callback(point, value)

    # -- raw words, for the protocol views --------------------------------------------

    def _words_of(self, point: Point) -> list[int]:
        offset = self._offset_of[point.name]
        return [int(w) for w in self._words[offset:offset + point.register_count]]

    def _store(self, point: Point, words: list[int]) -> None:
        offset = self._offset_of[point.name]
        held = self._words[offset:offset + len(words)]
        if held.tolist() != words:
            held[:] = words
            self.generation += 1
