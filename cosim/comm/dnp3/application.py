"""DNP3 application layer (IEEE 1815-2012, clause 4.2): fragment headers, IIN bits and object headers.

A request fragment is APPLICATION CONTROL, FUNCTION CODE, then object headers;
a response adds the two internal-indication octets (IIN1, IIN2) before them.
Each object header is GROUP, VARIATION, QUALIFIER and a range field; the
qualifier's low nibble says how the range is given (start/stop, count, or
none) and its bits 4-6 whether each object is prefixed by its index. Supported
qualifiers: 0x00/0x01 (1- and 2-octet start-stop), 0x06 (all objects, no
range), 0x07/0x08 (1- and 2-octet count) and 0x17/0x28 (count, each object
with a 1- or 2-octet index), which covers subset level 2 (clause A.2).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .objects import NO_DATA_GROUPS, OBJECT_OCTETS, PACKED_BITS, DnpObject, ObjectError, decode_object, encode_object


class ApplicationError(ValueError):
    """A fragment that cannot be parsed; ``iin2`` says which IIN2 bit an outstation answers with."""

    def __init__(self, message: str, iin2: int = 0x04) -> None:
        super().__init__(message)
        self.iin2 = iin2


class FunctionCode(enum.IntEnum):
    """Application function codes (clause 4.2.2.5, Table 4-3) of subset level 2."""

    CONFIRM = 0x00
    READ = 0x01
    WRITE = 0x02
    SELECT = 0x03
    OPERATE = 0x04
    DIRECT_OPERATE = 0x05
    DIRECT_OPERATE_NR = 0x06
    COLD_RESTART = 0x0D
    ENABLE_UNSOLICITED = 0x14
    DISABLE_UNSOLICITED = 0x15
    DELAY_MEASURE = 0x17
    RECORD_CURRENT_TIME = 0x18
    RESPONSE = 0x81
    UNSOLICITED_RESPONSE = 0x82


class Iin(enum.IntFlag):
    """Internal indications as one 16-bit field: IIN1 in the low octet, IIN2 in the high (clause 4.2.2.7)."""

    BROADCAST = 0x0001
    CLASS_1_EVENTS = 0x0002
    CLASS_2_EVENTS = 0x0004
    CLASS_3_EVENTS = 0x0008
    NEED_TIME = 0x0010
    LOCAL_CONTROL = 0x0020
    DEVICE_TROUBLE = 0x0040
    DEVICE_RESTART = 0x0080
    NO_FUNC_CODE_SUPPORT = 0x0100
    OBJECT_UNKNOWN = 0x0200
    PARAMETER_ERROR = 0x0400
    EVENT_BUFFER_OVERFLOW = 0x0800
    ALREADY_EXECUTING = 0x1000
    CONFIG_CORRUPT = 0x2000


IIN_INDEX = {7: Iin.DEVICE_RESTART, 4: Iin.NEED_TIME}
"""g80v1 point index -> the IIN bit a master may clear by writing 0 (index = bit number, IIN1 bit 0 = index 0)."""


@dataclass(frozen=True)
class AppControl:
    """APPLICATION CONTROL octet: FIR 0x80, FIN 0x40, CON 0x20, UNS 0x10, SEQ 0..15."""

    sequence: int
    fir: bool = True
    fin: bool = True
    confirm: bool = False
    unsolicited: bool = False

    def octet(self) -> int:
        return ((0x80 if self.fir else 0) | (0x40 if self.fin else 0) | (0x20 if self.confirm else 0)
                | (0x10 if self.unsolicited else 0) | (self.sequence & 0x0F))

    @classmethod
    def from_octet(cls, octet: int) -> AppControl:
        return cls(octet & 0x0F, bool(octet & 0x80), bool(octet & 0x40), bool(octet & 0x20), bool(octet & 0x10))


class Qualifier(enum.IntEnum):
    START_STOP_8 = 0x00
    START_STOP_16 = 0x01
    ALL = 0x06
    COUNT_8 = 0x07
    COUNT_16 = 0x08
    INDEX_8 = 0x17
    INDEX_16 = 0x28


@dataclass(frozen=True)
class ObjectHeader:
    """One object header and its objects: ``items`` pairs each object with its point index.

    For a header without data (a READ, class data g60), ``items`` is empty and
    ``start``/``stop`` or ``count`` say what range was asked (both None for
    qualifier 0x06). For start-stop qualifiers the indices are start..stop.
    """

    group: int
    variation: int
    qualifier: Qualifier
    start: int | None = None
    stop: int | None = None
    count: int | None = None
    items: tuple[tuple[int, DnpObject], ...] = ()
    indices: tuple[int, ...] = ()
    """For a header without data and an index-prefix qualifier (a READ of listed points): the indices listed."""

    @property
    def gv(self) -> tuple[int, int]:
        return (self.group, self.variation)

    def encode(self) -> bytes:
        out = bytearray([self.group, self.variation, self.qualifier])
        q = self.qualifier
        if q in (Qualifier.START_STOP_8, Qualifier.START_STOP_16):
            width = 1 if q == Qualifier.START_STOP_8 else 2
            assert self.start is not None and self.stop is not None
            out += self.start.to_bytes(width, "little") + self.stop.to_bytes(width, "little")
        elif q in (Qualifier.COUNT_8, Qualifier.COUNT_16, Qualifier.INDEX_8, Qualifier.INDEX_16):
            width = 1 if q in (Qualifier.COUNT_8, Qualifier.INDEX_8) else 2
            count = self.count if self.count is not None else len(self.items) or len(self.indices)
            out += count.to_bytes(width, "little")
            if self.indices and not self.items:
                return bytes(out + b"".join(i.to_bytes(width, "little") for i in self.indices))
        if self.gv in PACKED_BITS and self.items:
            bits = bytearray(-(-len(self.items) // 8))
            for position, (_, value) in enumerate(self.items):
                if value:
                    bits[position // 8] |= 1 << (position % 8)
            return bytes(out + bits)
        prefix = {Qualifier.INDEX_8: 1, Qualifier.INDEX_16: 2}.get(q, 0)
        for index, obj in self.items:
            if prefix:
                out += index.to_bytes(prefix, "little")
            out += encode_object(self.gv, obj)
        return bytes(out)


def _range(header: ObjectHeader) -> list[int]:
    if header.start is not None and header.stop is not None:
        return list(range(header.start, header.stop + 1))
    return list(range(header.count or 0))


def parse_headers(body: bytes, with_data: bool) -> list[ObjectHeader]:
    """Object headers of a fragment's body; ``with_data``: objects follow the headers (responses, writes, controls).

    Raises ApplicationError: IIN2.1 (object unknown) for a group/variation or
    qualifier not spoken here, IIN2.2 (parameter error) for a malformed header.
    """
    headers = []
    position = 0
    while position < len(body):
        if len(body) - position < 3:
            raise ApplicationError("truncated object header")
        group, variation, octet = body[position], body[position + 1], body[position + 2]
        position += 3
        try:
            qualifier = Qualifier(octet)
        except ValueError:
            raise ApplicationError(f"qualifier 0x{octet:02x} not supported", 0x02) from None
        start = stop = count = None
        if qualifier in (Qualifier.START_STOP_8, Qualifier.START_STOP_16):
            width = 1 if qualifier == Qualifier.START_STOP_8 else 2
            if len(body) - position < 2 * width:
                raise ApplicationError("truncated range")
            start = int.from_bytes(body[position:position + width], "little")
            stop = int.from_bytes(body[position + width:position + 2 * width], "little")
            position += 2 * width
            if stop < start:
                raise ApplicationError(f"range stop {stop} below start {start}")
        elif qualifier != Qualifier.ALL:
            width = 1 if qualifier in (Qualifier.COUNT_8, Qualifier.INDEX_8) else 2
            if len(body) - position < width:
                raise ApplicationError("truncated count")
            count = int.from_bytes(body[position:position + width], "little")
            position += width
        header = ObjectHeader(group, variation, qualifier, start, stop, count)
        prefix = {Qualifier.INDEX_8: 1, Qualifier.INDEX_16: 2}.get(qualifier, 0)
        if not with_data and prefix:
            listed = count or 0
            if len(body) - position < listed * prefix:
                raise ApplicationError("truncated index list")
            listed_indices = tuple(int.from_bytes(body[position + n * prefix:position + (n + 1) * prefix], "little")
                                   for n in range(listed))
            position += listed * prefix
            headers.append(ObjectHeader(group, variation, qualifier, count=count, indices=listed_indices))
            continue
        if not with_data or group in NO_DATA_GROUPS or qualifier == Qualifier.ALL:
            headers.append(header)
            continue
        indices = _range(header)
        items: list[tuple[int, DnpObject]] = []
        if header.gv in PACKED_BITS:
            if qualifier in (Qualifier.INDEX_8, Qualifier.INDEX_16):
                raise ApplicationError("packed bits with an index prefix", 0x02)
            octets = -(-len(indices) // 8)
            if len(body) - position < octets:
                raise ApplicationError("truncated packed bits")
            bits = body[position:position + octets]
            items = [(index, bool(bits[n // 8] >> (n % 8) & 1)) for n, index in enumerate(indices)]
            position += octets
        else:
            size = OBJECT_OCTETS.get(header.gv)
            if size is None:
                raise ApplicationError(f"g{group}v{variation} not supported", 0x02)
            for n in range(len(indices)):
                if len(body) - position < prefix + size:
                    raise ApplicationError(f"g{group}v{variation}: object {n} truncated")
                index = int.from_bytes(body[position:position + prefix], "little") if prefix else indices[n]
                position += prefix
                try:
                    items.append((index, decode_object(header.gv, body[position:position + size])))
                except ObjectError as error:
                    raise ApplicationError(str(error)) from None
                position += size
        headers.append(ObjectHeader(group, variation, qualifier, start, stop, count, tuple(items)))
    return headers


@dataclass(frozen=True)
class Request:
    """A master's fragment."""

    control: AppControl
    function: FunctionCode
    headers: tuple[ObjectHeader, ...] = ()

    def encode(self) -> bytes:
        return bytes([self.control.octet(), self.function]) + b"".join(h.encode() for h in self.headers)


@dataclass(frozen=True)
class Response:
    """An outstation's fragment (RESPONSE or UNSOLICITED_RESPONSE)."""

    control: AppControl
    function: FunctionCode
    iin: Iin
    headers: tuple[ObjectHeader, ...] = ()

    def encode(self) -> bytes:
        return (bytes([self.control.octet(), self.function]) + int(self.iin).to_bytes(2, "little")
                + b"".join(h.encode() for h in self.headers))


REQUESTS_WITH_DATA = frozenset({FunctionCode.WRITE, FunctionCode.SELECT, FunctionCode.OPERATE,
                                FunctionCode.DIRECT_OPERATE, FunctionCode.DIRECT_OPERATE_NR})


def decode_request(fragment: bytes) -> Request:
    """A master's fragment; raises ApplicationError (IIN2.0 for an unknown function code)."""
    if len(fragment) < 2:
        raise ApplicationError("fragment shorter than its header")
    control = AppControl.from_octet(fragment[0])
    try:
        function = FunctionCode(fragment[1])
    except ValueError:
        raise ApplicationError(f"function code 0x{fragment[1]:02x} not supported", 0x01) from None
    if function in (FunctionCode.RESPONSE, FunctionCode.UNSOLICITED_RESPONSE):
        raise ApplicationError("a response where a request was expected", 0x01)
    return Request(control, function, tuple(parse_headers(fragment[2:], function in REQUESTS_WITH_DATA)))


def decode_response(fragment: bytes) -> Response:
    """An outstation's fragment; raises ApplicationError."""
    if len(fragment) < 4:
        raise ApplicationError("response shorter than its header")
    control = AppControl.from_octet(fragment[0])
    if fragment[1] not in (FunctionCode.RESPONSE, FunctionCode.UNSOLICITED_RESPONSE):
        raise ApplicationError(f"function code 0x{fragment[1]:02x} is not a response")
    iin = Iin(int.from_bytes(fragment[2:4], "little") & 0x3FFF)
    return Response(control, FunctionCode(fragment[1]), iin, tuple(parse_headers(fragment[4:], True)))
