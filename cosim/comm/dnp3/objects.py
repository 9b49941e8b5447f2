"""DNP3 data objects of subset level 2 (IEEE 1815-2012, clause 11 and Annex A): sizes and typed codecs.

Only the group/variation pairs this package speaks are here; a header naming
any other is "object unknown" (IIN2.1) to an outstation and a decode error to
a master. Multi-octet fields are little-endian. DNP3 time is a 48-bit count of
milliseconds since 1970-01-01 00:00 UTC (clause 11.9.3).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

GroupVariation = tuple[int, int]

# Octets per object of each group/variation that carries data (Annex A); packed bit objects count in bits.
OBJECT_OCTETS: dict[GroupVariation, int] = {
    (1, 2): 1,    # binary input with flags
    (2, 1): 1,    # binary input event without time
    (2, 2): 7,    # binary input event with absolute time
    (10, 2): 1,   # binary output status with flags
    (12, 1): 11,  # control relay output block
    (30, 1): 5,   # 32-bit analog input with flag
    (30, 2): 3,   # 16-bit analog input with flag
    (30, 5): 5,   # single-precision floating-point analog input with flag
    (32, 1): 5,   # 32-bit analog input event without time
    (32, 3): 11,  # 32-bit analog input event with time
    (32, 5): 5,   # single-precision analog input event without time
    (32, 7): 11,  # single-precision analog input event with time
    (40, 1): 5,   # 32-bit analog output status with flag
    (41, 1): 5,   # 32-bit analog output block
    (41, 2): 3,   # 16-bit analog output block
    (50, 1): 6,   # time and date
    (50, 3): 6,   # time and date at last recorded time
    (52, 2): 2,   # time delay fine
}
PACKED_BITS: frozenset[GroupVariation] = frozenset({(1, 1), (10, 1), (80, 1)})
"""Objects that are one bit each, packed from the low bit of the first octet (clause 11.6)."""
NO_DATA_GROUPS = frozenset({60})
"""Class data objects: a header without data asks for events or static data of a class."""


class ObjectError(ValueError):
    """An object that cannot be decoded (short, or a variation this package does not speak)."""


class Flag(enum.IntFlag):
    """Flag octet bits common to inputs and outputs (clause 11.9.6); bit 7 is STATE on binaries."""

    ONLINE = 0x01
    RESTART = 0x02
    COMM_LOST = 0x04
    REMOTE_FORCED = 0x08
    LOCAL_FORCED = 0x10
    OVER_RANGE = 0x20  # analogs (CHATTER_FILTER on binary inputs)
    REFERENCE_ERR = 0x40
    STATE = 0x80  # binaries only


def encode_time(ms: int) -> bytes:
    if not 0 <= ms < 1 << 48:
        raise ValueError(f"DNP3 time {ms} ms outside 48 bits")
    return ms.to_bytes(6, "little")


def decode_time(raw: bytes) -> int:
    return int.from_bytes(raw[:6], "little")


def _i32(value: int) -> int:
    """Saturate at the int32 range, as a transducer reads full scale (and set OVER_RANGE)."""
    return max(-(1 << 31), min((1 << 31) - 1, value))


@dataclass(frozen=True)
class BinaryInput:
    """g1v2 static, g2v1/g2v2 event (``time_ms`` only on v2)."""

    value: bool
    flags: int = Flag.ONLINE
    time_ms: int = 0

    def octet(self) -> int:
        return (self.flags & 0x7F) | (Flag.STATE if self.value else 0)


@dataclass(frozen=True)
class AnalogInput:
    """g30v1/v2/v5 static, g32v1/v3/v5/v7 event; ``value`` in counts (int) or engineering units (float)."""

    value: float
    flags: int = Flag.ONLINE
    time_ms: int = 0


@dataclass(frozen=True)
class BinaryOutputStatus:
    """g10v2: the state of a control point."""

    value: bool
    flags: int = Flag.ONLINE


@dataclass(frozen=True)
class AnalogOutputStatus:
    """g40v1: the present value of a setpoint, in counts."""

    value: int
    flags: int = Flag.ONLINE


class OpType(enum.IntEnum):
    """CROB control code bits 0-3 (clause 11.9.4.1)."""

    NUL = 0
    PULSE_ON = 1
    PULSE_OFF = 2
    LATCH_ON = 3
    LATCH_OFF = 4


class TripClose(enum.IntEnum):
    """CROB control code bits 6-7."""

    NUL = 0
    CLOSE = 1
    TRIP = 2


class CommandStatus(enum.IntEnum):
    """Status of a control or analog output object (clause 11.9.4.2, Table 11-13)."""

    SUCCESS = 0
    TIMEOUT = 1
    NO_SELECT = 2
    FORMAT_ERROR = 3
    NOT_SUPPORTED = 4
    ALREADY_ACTIVE = 5
    HARDWARE_ERROR = 6
    LOCAL = 7
    TOO_MANY_OPS = 8
    NOT_AUTHORIZED = 9
    AUTOMATION_INHIBIT = 10
    PROCESSING_LIMITED = 11
    OUT_OF_RANGE = 12


@dataclass(frozen=True)
class Crob:
    """g12v1 control relay output block."""

    op_type: OpType
    trip_close: TripClose = TripClose.NUL
    count: int = 1
    on_ms: int = 0
    off_ms: int = 0
    status: CommandStatus = CommandStatus.SUCCESS
    queue: bool = False
    clear: bool = False

    def with_status(self, status: CommandStatus) -> Crob:
        return Crob(self.op_type, self.trip_close, self.count, self.on_ms, self.off_ms, status, self.queue, self.clear)


@dataclass(frozen=True)
class AnalogOutput:
    """g41v1 (int32) / g41v2 (int16) analog output block, in counts."""

    value: int
    status: CommandStatus = CommandStatus.SUCCESS


DnpObject = BinaryInput | AnalogInput | BinaryOutputStatus | AnalogOutputStatus | Crob | AnalogOutput | int | bool
"""What a header's items can be: typed objects; an int for times (g50: ms) and delays (g52: ms); a bool for packed bits."""


def encode_object(gv: GroupVariation, obj: DnpObject) -> bytes:
    """The octets of one object (not for packed-bit variations)."""
    group, variation = gv
    if isinstance(obj, BinaryInput) and gv in ((1, 2), (2, 1), (10, 2)):
        return bytes([obj.octet()])
    if isinstance(obj, BinaryInput) and gv == (2, 2):
        return bytes([obj.octet()]) + encode_time(obj.time_ms)
    if isinstance(obj, BinaryOutputStatus) and gv == (10, 2):
        return bytes([(obj.flags & 0x7F) | (Flag.STATE if obj.value else 0)])
    if isinstance(obj, AnalogInput) and group in (30, 32):
        flags = obj.flags
        if variation in (5, 7):
            body = struct.pack("<Bf", flags, float(obj.value))
        else:
            wide = variation in (1, 3)
            limit = (1 << 31) if wide else (1 << 15)
            count = round(obj.value)
            if not -limit <= count < limit:
                flags |= Flag.OVER_RANGE
                count = max(-limit, min(limit - 1, count))
            body = struct.pack("<Bi" if wide else "<Bh", flags, count)
        if variation in (3, 7):
            body += encode_time(obj.time_ms)
        if (group, variation) not in OBJECT_OCTETS:
            raise ObjectError(f"g{group}v{variation} is not spoken here")
        return body
    if isinstance(obj, AnalogOutputStatus) and gv == (40, 1):
        return struct.pack("<Bi", obj.flags, _i32(obj.value))
    if isinstance(obj, Crob) and gv == (12, 1):
        code = (obj.op_type & 0x0F) | (0x10 if obj.queue else 0) | (0x20 if obj.clear else 0) | (obj.trip_close << 6)
        return struct.pack("<BBIIB", code, obj.count, obj.on_ms, obj.off_ms, obj.status)
    if isinstance(obj, AnalogOutput) and gv == (41, 1):
        return struct.pack("<iB", _i32(obj.value), obj.status)
    if isinstance(obj, AnalogOutput) and gv == (41, 2):
        return struct.pack("<hB", max(-32768, min(32767, obj.value)), obj.status)
    if isinstance(obj, int) and not isinstance(obj, bool) and gv in ((50, 1), (50, 3)):
        return encode_time(obj)
    if isinstance(obj, int) and not isinstance(obj, bool) and gv == (52, 2):
        return struct.pack("<H", obj)
    raise ObjectError(f"cannot encode {type(obj).__name__} as g{group}v{variation}")


def decode_object(gv: GroupVariation, raw: bytes) -> DnpObject:
    """One object from exactly ``OBJECT_OCTETS[gv]`` octets; raises ObjectError."""
    size = OBJECT_OCTETS.get(gv)
    if size is None:
        raise ObjectError(f"g{gv[0]}v{gv[1]} is not spoken here")
    if len(raw) != size:
        raise ObjectError(f"g{gv[0]}v{gv[1]} takes {size} octets, got {len(raw)}")
    group, variation = gv
    if group in (1, 2):
        time_ms = decode_time(raw[1:]) if gv == (2, 2) else 0
        return BinaryInput(bool(raw[0] & Flag.STATE), raw[0] & 0x7F, time_ms)
    if gv == (10, 2):
        return BinaryOutputStatus(bool(raw[0] & Flag.STATE), raw[0] & 0x7F)
    if group in (30, 32):
        if variation in (5, 7):
            flags, value = struct.unpack_from("<Bf", raw)
        elif variation == 2:
            flags, value = struct.unpack_from("<Bh", raw)
        else:
            flags, value = struct.unpack_from("<Bi", raw)
        time_ms = decode_time(raw[5:]) if variation in (3, 7) else 0
        return AnalogInput(value, flags, time_ms)
    if gv == (40, 1):
        flags, count = struct.unpack("<Bi", raw)
        return AnalogOutputStatus(count, flags)
    if gv == (12, 1):
        code, count, on_ms, off_ms, status = struct.unpack("<BBIIB", raw)
        try:
            op_type, trip_close = OpType(code & 0x0F), TripClose(code >> 6)
        except ValueError:
            raise ObjectError(f"CROB control code 0x{code:02x} has no meaning") from None
        return Crob(op_type, trip_close, count, on_ms, off_ms, _status(status), bool(code & 0x10), bool(code & 0x20))
    if gv == (41, 1):
        value, status = struct.unpack("<iB", raw)
        return AnalogOutput(value, _status(status))
    if gv == (41, 2):
        value, status = struct.unpack("<hB", raw)
        return AnalogOutput(value, _status(status))
    if group == 50:
        return decode_time(raw)
    return int(struct.unpack("<H", raw)[0])  # g52v2


def _status(code: int) -> CommandStatus:
    try:
        return CommandStatus(code)
    except ValueError:
        raise ObjectError(f"command status {code} undefined") from None
