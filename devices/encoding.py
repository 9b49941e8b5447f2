"""Packing engineering values into Modbus words and back, one point at a time.

Pure functions over :class:`~devices.registermap.Point`; the register store
uses them for both the device side (``set``/``get``) and master writes.
Registers are unsigned 16-bit ints (0..65535), bits are 0/1.

Scaled values round-trip exactly for decimal scale factors: a point with
``scale=0.01`` stores 12.34 as the raw 1234 and reads back ``1234 / 100``,
which is the same binary64 number as the literal ``12.34`` (``1234 * 0.01`` is
not).
"""

from __future__ import annotations

import functools
import math
import numbers
import struct

from devices.registermap import DataType, Point, Value, WordOrder


_FLOAT32_MAX = 3.4028234663852886e38


class EncodingError(ValueError):
    """A value that the point cannot carry (wrong kind, out of the raw range, not finite)."""


def encode_value(point: Point, value: Value, word_order: WordOrder, *, saturate: bool) -> list[int]:
    """Words (or one bit) for ``value`` in engineering units.

    With ``saturate`` a number beyond the raw range is clipped to the range
    limit, as a transducer saturates; without it, an :class:`EncodingError`.
    """
    data_type = point.data_type
    if data_type is DataType.STRING:
        return _encode_string(point, value)
    if data_type is DataType.BOOL:
        if value not in (0, 1, True, False) or isinstance(value, str):
            raise EncodingError(f"{value!r} is not a bit")
        return [int(value)]
    number: int | float
    kind = type(value)
    if kind is float or kind is int:  # the common case, without the slower numbers.* checks
        number = value  # type: ignore[assignment]
    elif isinstance(value, str) or not isinstance(value, numbers.Real):
        raise EncodingError(f"{value!r} is not a number")
    else:
        # numpy scalars (np.int64, np.float32) are accepted and normalised to Python numbers.
        number = int(value) if isinstance(value, numbers.Integral) else float(value)
    if data_type is DataType.F32:
        try:
            packed = struct.pack(">f", float(number))
        except OverflowError:
            if not saturate:
                raise EncodingError(f"{value!r} beyond the binary32 range") from None
            packed = struct.pack(">f", math.copysign(_FLOAT32_MAX, number))
        high, low = struct.unpack(">HH", packed)
        return _order([high, low], word_order)
    raw = to_raw(point, number)
    low_limit, high_limit = data_type.raw_range
    if not low_limit <= raw <= high_limit:
        if not saturate:
            raise EncodingError(f"{value!r} needs raw {raw}, outside {low_limit}..{high_limit}")
        raw = min(max(raw, low_limit), high_limit)
    if data_type in (DataType.U16, DataType.I16):
        return [raw & 0xFFFF]
    unsigned = raw & 0xFFFF_FFFF
    return _order([unsigned >> 16, unsigned & 0xFFFF], word_order)


def decode_value(point: Point, words: list[int], word_order: WordOrder) -> Value:
    """The engineering value held in ``words`` (exactly ``point.register_count`` of them)."""
    data_type = point.data_type
    if data_type is DataType.BOOL:
        return bool(words[0])
    if data_type is DataType.STRING:
        return b"".join(struct.pack(">H", word) for word in words).rstrip(b"\x00").decode("ascii", "replace")
    if data_type is DataType.F32:
        high, low = _order(list(words), word_order)
        return float(struct.unpack(">f", struct.pack(">HH", high, low))[0])
    if data_type in (DataType.U16, DataType.I16):
        raw = words[0]
    else:
        high, low = _order(list(words), word_order)
        raw = (high << 16) | low
    bits = 16 if data_type in (DataType.U16, DataType.I16) else 32
    if data_type in (DataType.I16, DataType.I32) and raw >= 1 << (bits - 1):
        raw -= 1 << bits
    return from_raw(point, raw)


def to_raw(point: Point, value: float | int) -> int:
    """Raw integer for an engineering value: ``round(value / scale)`` (half to even)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise EncodingError(f"{value!r} is not finite")
    divisor = _decimal_divisor(point.scale)
    if divisor is not None:
        return int(round(value * divisor))
    if point.scale == 1.0:
        return int(round(value))
    return int(round(value / point.scale))


def from_raw(point: Point, raw: int) -> float | int:
    """Engineering value of a raw integer: an int when ``scale`` is 1, else a float."""
    if point.scale == 1.0:
        return raw
    divisor = _decimal_divisor(point.scale)
    if divisor is not None:
        return raw / divisor
    return raw * point.scale


@functools.lru_cache(maxsize=256)
def _decimal_divisor(scale: float) -> int | None:
    """The integer 1/scale for scales below one such as 0.1 or 0.001 (None otherwise)."""
    if scale >= 1.0:
        return None
    inverse = 1.0 / scale
    nearest = round(inverse)
    if abs(inverse - nearest) <= 1e-9 * inverse:
        return int(nearest)
    return None


def _order(words: list[int], word_order: WordOrder) -> list[int]:
    """Swap a high/low pair into (or out of) wire order; the swap is its own inverse."""
    return words if word_order is WordOrder.BIG else [words[1], words[0]]


def _encode_string(point: Point, value: Value) -> list[int]:
    if not isinstance(value, str):
        # Defaults of string points are often written as 0 meaning "empty".
        if value == 0:
            value = ""
        else:
            raise EncodingError(f"{value!r} is not a string")
    try:
        data = value.encode("ascii")
    except UnicodeEncodeError:
        raise EncodingError(f"{value!r} is not ASCII") from None
    capacity = point.string_registers * 2
    if len(data) > capacity:
        raise EncodingError(f"{value!r} is longer than {capacity} characters")
    data = data.ljust(capacity, b"\x00")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, capacity, 2)]
