"""IEC 60870-5-104 ASDUs for the types an RTU needs: monitored points and floats, commands, interrogation, clock sync.

Layout (IEC 60870-5-101:2003 clause 7 with the 104 parameters of
IEC 60870-5-104:2006 clause 9: two-octet cause of transmission, two-octet
common address, three-octet information object address):

====== ============================================================
octets field
====== ============================================================
1      type identification (:class:`TypeId`)
1      variable structure qualifier: SQ (bit 8) and the number of objects
1      cause of transmission (bits 1-6), P/N (bit 7), T test (bit 8)
1      originator address
2      common address (little-endian)
3+n    per object: IOA (little-endian), information elements; with SQ=1
       one IOA, then the elements of consecutive addresses
====== ============================================================

Information elements (101, 7.2.6): SIQ (SPI bit 1, BL 0x10, SB 0x20, NT
0x40, IV 0x80), QDS (OV bit 1, then as SIQ), IEEE 754 short float
little-endian, SCO (SCS bit 1, QU bits 3-7, S/E bit 8: 1 = select), QOS (QL
bits 1-7, S/E bit 8), QOI (20 = station interrogation), and the seven-octet
CP56Time2a (:class:`Cp56Time`).
"""

from __future__ import annotations

import datetime
import enum
import struct
from dataclasses import dataclass

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
STATION_INTERROGATION = 20  # QOI, 101 clause 7.2.6.22
BROADCAST_ADDRESS = 0xFFFF  # common address "global" in 104 (clause 9, two-octet CA)


class AsduError(ValueError):
    """An ASDU that cannot be decoded; ``type_id`` is set when only the type is unknown (answer cause 44),
    ``cause`` when only the cause of transmission is (answer cause 45, 101 clause 7.2.3)."""

    def __init__(self, message: str, type_id: int | None = None, cause: int | None = None) -> None:
        super().__init__(message)
        self.type_id = type_id
        self.cause = cause


class TypeId(enum.IntEnum):
    M_SP_NA_1 = 1     # single point
    M_ME_NC_1 = 13    # measured value, short floating point
    M_SP_TB_1 = 30    # single point with CP56Time2a
    M_ME_TF_1 = 36    # short float with CP56Time2a
    C_SC_NA_1 = 45    # single command
    C_SE_NC_1 = 50    # set point command, short float
    M_EI_NA_1 = 70    # end of initialisation
    C_IC_NA_1 = 100   # interrogation command
    C_CS_NA_1 = 103   # clock synchronisation command


class Cause(enum.IntEnum):
    """Cause of transmission (101 clause 7.2.3)."""

    PERIODIC = 1
    BACKGROUND = 2
    SPONTANEOUS = 3
    INITIALIZED = 4
    REQUEST = 5
    ACTIVATION = 6
    ACTIVATION_CON = 7
    DEACTIVATION = 8
    DEACTIVATION_CON = 9
    ACTIVATION_TERMINATION = 10
    INTERROGATED_BY_STATION = 20
    UNKNOWN_TYPE = 44
    UNKNOWN_CAUSE = 45
    UNKNOWN_COMMON_ADDRESS = 46
    UNKNOWN_IOA = 47


@dataclass(frozen=True)
class Cp56Time:
    """CP56Time2a (101 clause 7.2.6.18) as UTC milliseconds since 1970; years 2000-2099 (the field holds 0-99)."""

    utc_ms: int
    invalid: bool = False

    def encode(self) -> bytes:
        moment = EPOCH + datetime.timedelta(milliseconds=self.utc_ms)
        if not 2000 <= moment.year <= 2099:
            raise AsduError(f"CP56Time2a holds years 2000-2099, not {moment.year}")
        milliseconds = moment.second * 1000 + moment.microsecond // 1000
        return bytes((milliseconds & 0xFF, milliseconds >> 8, moment.minute | (0x80 if self.invalid else 0),
                      moment.hour, moment.day | moment.isoweekday() << 5, moment.month, moment.year - 2000))

    @classmethod
    def decode(cls, octets: bytes) -> Cp56Time:
        milliseconds = octets[0] | octets[1] << 8
        try:
            moment = datetime.datetime(2000 + (octets[6] & 0x7F), octets[5] & 0x0F, octets[4] & 0x1F, octets[3] & 0x1F,
                                       octets[2] & 0x3F, tzinfo=datetime.timezone.utc)
        except ValueError as error:
            raise AsduError(f"CP56Time2a is not a date: {error}") from None
        if milliseconds > 59_999:
            raise AsduError(f"CP56Time2a milliseconds {milliseconds} > 59999")
        return cls((moment - EPOCH) // datetime.timedelta(milliseconds=1) + milliseconds, bool(octets[2] & 0x80))


@dataclass(frozen=True)
class SinglePoint:
    on: bool
    quality: int = 0  # SIQ bits BL/SB/NT/IV
    time: Cp56Time | None = None


@dataclass(frozen=True)
class ShortFloat:
    value: float
    quality: int = 0  # QDS
    time: Cp56Time | None = None


@dataclass(frozen=True)
class SingleCommand:
    on: bool
    select: bool = False
    qualifier: int = 0  # QU: 0 no additional definition, 1 short pulse, 2 long pulse, 3 persistent


@dataclass(frozen=True)
class SetpointFloat:
    value: float
    select: bool = False
    qualifier: int = 0  # QL


@dataclass(frozen=True)
class Interrogation:
    qualifier: int = STATION_INTERROGATION


@dataclass(frozen=True)
class ClockSync:
    time: Cp56Time


@dataclass(frozen=True)
class EndOfInit:
    cause: int = 0  # COI: 0 local power switch on


Element = SinglePoint | ShortFloat | SingleCommand | SetpointFloat | Interrogation | ClockSync | EndOfInit


@dataclass(frozen=True)
class InformationObject:
    ioa: int
    element: Element


@dataclass(frozen=True)
class Asdu:
    type_id: TypeId
    cause: Cause
    common_address: int
    objects: tuple[InformationObject, ...]
    negative: bool = False
    test: bool = False
    originator: int = 0

    def answer(self, cause: Cause, negative: bool = False) -> Asdu:
        """The mirror of this ASDU with another cause (ACT_CON, ACT_TERM, an unknown-... cause)."""
        return Asdu(self.type_id, cause, self.common_address, self.objects, negative, self.test, self.originator)


def _time(element: SinglePoint | ShortFloat) -> bytes:
    if element.time is None:
        raise AsduError("a time-tagged type needs its CP56Time2a")
    return element.time.encode()


def _float(octets: bytes) -> float:
    value: float = struct.unpack("<f", octets[:4])[0]
    return value


def _encode_element(type_id: TypeId, element: Element) -> bytes:
    """The information element(s) of one object of ``type_id`` (101 clause 7.3)."""
    if isinstance(element, SinglePoint) and type_id in (TypeId.M_SP_NA_1, TypeId.M_SP_TB_1):
        siq = bytes(((element.quality & 0xF0) | int(element.on),))
        return siq + (_time(element) if type_id is TypeId.M_SP_TB_1 else b"")
    if isinstance(element, ShortFloat) and type_id in (TypeId.M_ME_NC_1, TypeId.M_ME_TF_1):
        value = struct.pack("<fB", element.value, element.quality & 0xF1)
        return value + (_time(element) if type_id is TypeId.M_ME_TF_1 else b"")
    if isinstance(element, SingleCommand) and type_id is TypeId.C_SC_NA_1:
        return bytes((int(element.on) | (element.qualifier & 0x1F) << 2 | (0x80 if element.select else 0),))
    if isinstance(element, SetpointFloat) and type_id is TypeId.C_SE_NC_1:
        return struct.pack("<fB", element.value, (element.qualifier & 0x7F) | (0x80 if element.select else 0))
    if isinstance(element, EndOfInit) and type_id is TypeId.M_EI_NA_1:
        return bytes((element.cause & 0xFF,))
    if isinstance(element, Interrogation) and type_id is TypeId.C_IC_NA_1:
        return bytes((element.qualifier & 0xFF,))
    if isinstance(element, ClockSync) and type_id is TypeId.C_CS_NA_1:
        return element.time.encode()
    raise AsduError(f"{type_id.name} does not carry {type(element).__name__}")


def _decode_element(type_id: TypeId, octets: bytes) -> Element:
    if type_id is TypeId.M_SP_NA_1:
        return SinglePoint(bool(octets[0] & 1), octets[0] & 0xF0)
    if type_id is TypeId.M_SP_TB_1:
        return SinglePoint(bool(octets[0] & 1), octets[0] & 0xF0, Cp56Time.decode(octets[1:8]))
    if type_id is TypeId.M_ME_NC_1:
        return ShortFloat(_float(octets), octets[4] & 0xF1)
    if type_id is TypeId.M_ME_TF_1:
        return ShortFloat(_float(octets), octets[4] & 0xF1, Cp56Time.decode(octets[5:12]))
    if type_id is TypeId.C_SC_NA_1:
        return SingleCommand(bool(octets[0] & 1), bool(octets[0] & 0x80), (octets[0] >> 2) & 0x1F)
    if type_id is TypeId.C_SE_NC_1:
        return SetpointFloat(_float(octets), bool(octets[4] & 0x80), octets[4] & 0x7F)
    if type_id is TypeId.M_EI_NA_1:
        return EndOfInit(octets[0])
    if type_id is TypeId.C_IC_NA_1:
        return Interrogation(octets[0])
    return ClockSync(Cp56Time.decode(octets[:7]))


ELEMENT_OCTETS: dict[TypeId, int] = {
    TypeId.M_SP_NA_1: 1, TypeId.M_SP_TB_1: 8, TypeId.M_ME_NC_1: 5, TypeId.M_ME_TF_1: 12, TypeId.C_SC_NA_1: 1,
    TypeId.C_SE_NC_1: 5, TypeId.M_EI_NA_1: 1, TypeId.C_IC_NA_1: 1, TypeId.C_CS_NA_1: 7,
}
"""Octets of the information elements of one object, per type (101 clause 7.3): SIQ 1, QDS 1, float 4, CP56 7."""


def encode(asdu: Asdu) -> bytes:
    """The octets of ``asdu`` (one IOA per object, SQ=0); raises AsduError for an element of the wrong type."""
    size = ELEMENT_OCTETS[asdu.type_id]
    if not 1 <= len(asdu.objects) <= 127:
        raise AsduError(f"an ASDU carries 1..127 objects, not {len(asdu.objects)}")
    cot = int(asdu.cause) | (0x40 if asdu.negative else 0) | (0x80 if asdu.test else 0)
    out = bytearray((asdu.type_id, len(asdu.objects), cot, asdu.originator & 0xFF))
    out += asdu.common_address.to_bytes(2, "little")
    for obj in asdu.objects:
        if not 0 <= obj.ioa <= 0xFFFFFF:
            raise AsduError(f"IOA {obj.ioa} outside three octets")
        element = _encode_element(asdu.type_id, obj.element)
        assert len(element) == size
        out += obj.ioa.to_bytes(3, "little") + element
    return bytes(out)


def decode(octets: bytes) -> Asdu:
    """One ASDU; raises AsduError (with ``type_id`` set if only the type is unsupported)."""
    if len(octets) < 6:
        raise AsduError("an ASDU has at least 6 octets of header")
    try:
        type_id = TypeId(octets[0])
    except ValueError:
        raise AsduError(f"unsupported type {octets[0]}", octets[0]) from None
    try:
        cause = Cause(octets[2] & 0x3F)
    except ValueError:
        raise AsduError(f"unknown cause of transmission {octets[2] & 0x3F}", cause=octets[2] & 0x3F) from None
    size = ELEMENT_OCTETS[type_id]
    sequence, count = bool(octets[1] & 0x80), octets[1] & 0x7F
    expected = 6 + (3 + count * size if sequence else count * (3 + size))
    if count == 0 or len(octets) != expected:
        raise AsduError(f"{type_id.name} with {count} objects needs {expected} octets, has {len(octets)}")
    objects: list[InformationObject] = []
    at = 6
    base = int.from_bytes(octets[6:9], "little")
    if sequence:
        at = 9
    for index in range(count):
        if sequence:
            ioa = base + index
        else:
            ioa, at = int.from_bytes(octets[at:at + 3], "little"), at + 3
        objects.append(InformationObject(ioa, _decode_element(type_id, octets[at:at + size])))
        at += size
    return Asdu(type_id, cause, int.from_bytes(octets[4:6], "little"), tuple(objects),
                bool(octets[2] & 0x40), bool(octets[2] & 0x80), octets[3])
