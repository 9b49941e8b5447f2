"""The ISO's messages to and from plant controllers, as Modbus register blocks.

Three typed messages, each with one encode and one decode, laid out by the
plant controller's register map (``devices/registermaps/plant_controller.py``,
documented in ``docs/devices/plant_controller.md``), so addresses agree by
construction:

* :class:`BasepointOrder` -- the SCED basepoint and its interval's sequence
  number: one *write multiple registers* to ``basepoint_mw``..``basepoint_seq``;
* :class:`RegulationOrder` -- the AGC regulation signal: one write to
  ``regulation_mw``;
* :class:`AvailablePower` -- what a renewable plant's resource allows, written
  by its turbines' SCADA: one write to ``available_mw``;
* :class:`UnitTelemetry` -- measured output, set-point and where the unit is
  going: one *read input registers* of ``output_mw``..``desired_mw``.

Pure functions over words; nothing here knows SimPy or the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from devices.encoding import decode_value, encode_value
from devices.registermap import Point, RegisterMap
from devices.registermaps.plant_controller import plant_controller_map

MAP: RegisterMap = plant_controller_map()


def _block(names: Sequence[str]) -> tuple[int, int, tuple[Point, ...]]:
    """(first address, register count, points) of contiguous points of one table."""
    points = tuple(MAP.point(n) for n in names)
    start = points[0].address
    for before, after in pairwise(points):
        if before.table is not after.table or before.end_address != after.address:
            raise ValueError(f"{before.name} and {after.name} are not contiguous in the plant controller map")
    return start, points[-1].end_address - start, points


def _encode(points: Sequence[Point], values: Sequence[float | int]) -> list[int]:
    words: list[int] = []
    for point, value in zip(points, values):
        words += encode_value(point, value, MAP.word_order_of(point), saturate=False)
    return words


def _decode(points: Sequence[Point], start: int, words: Sequence[int]) -> list[float | int | bool | str]:
    out = []
    for point in points:
        offset = point.address - start
        out.append(decode_value(point, list(words[offset:offset + point.register_count]), MAP.word_order_of(point)))
    return out


BASEPOINT_BLOCK = _block(("basepoint_mw", "basepoint_seq"))
REGULATION_BLOCK = _block(("regulation_mw",))
AVAILABLE_BLOCK = _block(("available_mw",))
TELEMETRY_BLOCK = _block(("output_mw", "output_mvar", "setpoint_mw", "desired_mw"))


@dataclass(frozen=True)
class BasepointOrder:
    """The economic basepoint of SCED interval ``seq`` (MW); ``seq`` wraps at 65536."""

    basepoint_mw: float
    seq: int

    def encode(self) -> tuple[int, list[int]]:
        """(holding-register address, words) of the write; raises EncodingError out of range."""
        start, _, points = BASEPOINT_BLOCK
        return start, _encode(points, (self.basepoint_mw, self.seq % 65536))

    @classmethod
    def decode(cls, words: Sequence[int]) -> BasepointOrder:
        start, _, points = BASEPOINT_BLOCK
        mw, seq = _decode(points, start, words)
        return cls(float(mw), int(seq))


@dataclass(frozen=True)
class RegulationOrder:
    """The AGC regulation signal (MW above the basepoint; negative: below)."""

    regulation_mw: float

    def encode(self) -> tuple[int, list[int]]:
        start, _, points = REGULATION_BLOCK
        return start, _encode(points, (self.regulation_mw,))

    @classmethod
    def decode(cls, words: Sequence[int]) -> RegulationOrder:
        start, _, points = REGULATION_BLOCK
        (mw,) = _decode(points, start, words)
        return cls(float(mw))


@dataclass(frozen=True)
class AvailablePower:
    """The power a renewable plant's resource (wind, sun) allows now (MW, >= 0)."""

    p_mw: float

    def encode(self) -> tuple[int, list[int]]:
        start, _, points = AVAILABLE_BLOCK
        return start, _encode(points, (max(0.0, self.p_mw),))

    @classmethod
    def decode(cls, words: Sequence[int]) -> AvailablePower:
        start, _, points = AVAILABLE_BLOCK
        (mw,) = _decode(points, start, words)
        return cls(float(mw))


@dataclass(frozen=True)
class UnitTelemetry:
    """What a plant controller reports: measured output and its set-points (MW, Mvar)."""

    output_mw: float
    output_mvar: float
    setpoint_mw: float
    desired_mw: float

    @staticmethod
    def request() -> tuple[int, int]:
        """(input-register address, count) to read."""
        start, count, _ = TELEMETRY_BLOCK
        return start, count

    def encode(self) -> list[int]:
        _, _, points = TELEMETRY_BLOCK
        return _encode(points, (self.output_mw, self.output_mvar, self.setpoint_mw, self.desired_mw))

    @classmethod
    def decode(cls, words: Sequence[int]) -> UnitTelemetry:
        start, _, points = TELEMETRY_BLOCK
        p, q, setpoint, desired = (float(v) for v in _decode(points, start, words))
        return cls(p, q, setpoint, desired)
