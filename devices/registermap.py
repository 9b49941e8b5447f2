"""Register maps as data: what a device exposes over Modbus, point by point.

A :class:`Point` says where a value lives (table, address), how it is encoded
(data type, scale factor, word order) and who may change it (access, write
limits, protection-setting lock). A :class:`RegisterMap` is a validated set of
points; the same object drives the register store, the configuration checks
and the generated tables in ``docs/devices``.

Addresses are the 0-based protocol addresses carried in the Modbus PDU
(Modbus Application Protocol v1.1b3, section 4.4), never the 1-based
"40001"-style reference numbers.
"""

from __future__ import annotations

import dataclasses
import functools
import enum
import math
from typing import Iterable, Mapping, Sequence

from cosim.comm.modbus.datamodel import ModbusTable

MODBUS_ADDRESS_SPACE = 65536  # 16-bit addresses, MODBUS Application Protocol v1.1b3, section 4.4


class DataType(enum.Enum):
    """How a point's value is laid out in 16-bit registers or 1-bit coils."""

    BOOL = "bool"
    U16 = "u16"
    I16 = "i16"
    U32 = "u32"
    I32 = "i32"
    F32 = "f32"       # IEEE 754 binary32, two registers
    STRING = "string"  # ASCII, two characters per register, NUL padded (SunSpec "string")

    @property
    def is_integer(self) -> bool:
        return self in (DataType.U16, DataType.I16, DataType.U32, DataType.I32)

    @property
    def raw_range(self) -> tuple[int, int]:
        """Smallest and largest raw (unscaled) integer the type can carry."""
        return _RAW_RANGES[self]


_RAW_RANGES = {
    DataType.BOOL: (0, 1),
    DataType.U16: (0, 0xFFFF),
    DataType.I16: (-0x8000, 0x7FFF),
    DataType.U32: (0, 0xFFFF_FFFF),
    DataType.I32: (-0x8000_0000, 0x7FFF_FFFF),
}


class Access(enum.Enum):
    READ_ONLY = "R"
    READ_WRITE = "RW"


class WordOrder(enum.Enum):
    """Order of the two registers of a 32-bit value; bytes inside a register are always big-endian.

    Modbus itself defines only 16-bit registers (v1.1b3, section 4.2); BIG
    ("ABCD", high word first) is what SunSpec mandates and what most masters
    assume. LITTLE ("CDAB") is what mbpoll reads without ``-B``.
    """

    BIG = "big"
    LITTLE = "little"


Value = float | int | bool | str


@dataclasses.dataclass(frozen=True)
class Point:
    """One named value in a device's Modbus tables.

    ``engineering value = raw register value * scale``: a current of 123.4 A in
    an I16 point with ``scale=0.1`` is the raw register 1234. ``minimum`` and
    ``maximum`` bound master writes in engineering units. A
    ``protection_setting`` is writable only when the scenario allows remote
    changes of protection settings. ``default`` is the engineering value the
    store starts with (constants such as SunSpec model ids are read-only
    points with a default).
    """

    name: str
    table: ModbusTable
    address: int
    data_type: DataType
    scale: float = 1.0
    unit: str = ""
    access: Access = Access.READ_ONLY
    minimum: float | None = None
    maximum: float | None = None
    protection_setting: bool = False
    description: str = ""
    default: Value = 0
    word_order: WordOrder | None = None  # None: the map's word order
    string_registers: int = 0  # only for DataType.STRING

    @property
    def register_count(self) -> int:
        """How many consecutive addresses the point occupies."""
        if self.data_type is DataType.STRING:
            return self.string_registers
        if self.data_type in (DataType.U32, DataType.I32, DataType.F32):
            return 2
        return 1

    @property
    def end_address(self) -> int:
        """One past the last address the point occupies."""
        return self.address + self.register_count

    @property
    def writable(self) -> bool:
        return self.access is Access.READ_WRITE

    @property
    def resolution(self) -> float | None:
        """Smallest step the point can represent in engineering units (None: not quantised)."""
        if self.data_type.is_integer:
            return self.scale
        return None


class RegisterMapError(ValueError):
    """A register map that cannot be served; lists every problem found, not just the first."""

    def __init__(self, map_name: str, problems: Sequence[str]) -> None:
        self.map_name = map_name
        self.problems = list(problems)
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"register map {map_name!r} has {len(problems)} problem(s):\n{listing}")


@dataclasses.dataclass(frozen=True)
class RegisterMap:
    """A validated, immutable set of points; construction raises :class:`RegisterMapError`.

    Checked: unique names; addresses inside 0..65535 with the whole point in
    range; no two points sharing an address in a table; bit tables hold BOOL
    points and only them; read-only tables hold read-only points; protection
    settings are writable points; write limits ordered; defaults encodable and
    inside the write limits.
    """

    name: str
    points: tuple[Point, ...]
    word_order: WordOrder = WordOrder.BIG
    description: str = ""
    source: str = ""  # the standard or document the layout follows, if any

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", tuple(self.points))
        problems = _problems_of(self.points)
        if problems:
            raise RegisterMapError(self.name, problems)
        object.__setattr__(self, "_by_name", {point.name: point for point in self.points})

    def point(self, name: str) -> Point:
        """The point called ``name``; raises KeyError naming the map."""
        try:
            return self._by_name[name]  # type: ignore[attr-defined,no-any-return]
        except KeyError:
            raise KeyError(f"register map {self.name!r} has no point {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name  # type: ignore[attr-defined]

    def in_table(self, table: ModbusTable) -> tuple[Point, ...]:
        """The points of one table, in address order."""
        return tuple(sorted((p for p in self.points if p.table is table), key=lambda p: p.address))

    def word_order_of(self, point: Point) -> WordOrder:
        return point.word_order or self.word_order

    def tables(self) -> tuple[ModbusTable, ...]:
        """The tables that hold at least one point, in the Modbus order."""
        return tuple(table for table in ModbusTable if any(p.table is table for p in self.points))


@functools.lru_cache(maxsize=64)
def _problems_of(points: tuple[Point, ...]) -> tuple[str, ...]:
    """The problems of a point tuple, checked once per distinct layout.

    Thousands of devices of one kind share a layout (an RTU's point list and
    its SOE window), and a scenario's map is built several times (validation,
    the device, the master's point database): checking each copy again made
    the build of 10,000 RTUs take minutes. Points are immutable, so equal
    tuples have equal problems.
    """
    return tuple(_problems(points))


def _problems(points: Iterable[Point]) -> Iterable[str]:
    # Imported here: encoding depends on this module's types.
    from devices.encoding import EncodingError, encode_value

    seen_names: set[str] = set()
    occupied: dict[tuple[ModbusTable, int], str] = {}
    for point in points:
        where = f"{point.name} ({point.table.value} {point.address})"
        if point.name in seen_names:
            yield f"{where}: duplicate point name"
        seen_names.add(point.name)
        if point.data_type is DataType.STRING and point.string_registers < 1:
            yield f"{where}: a string point needs string_registers >= 1"
        if point.data_type is not DataType.STRING and point.string_registers:
            yield f"{where}: string_registers is only for string points"
        if point.address < 0 or point.end_address > MODBUS_ADDRESS_SPACE:
            yield f"{where}: addresses {point.address}..{point.end_address - 1} outside 0..65535"
            continue
        if point.table.is_bit != (point.data_type is DataType.BOOL):
            yield f"{where}: {point.data_type.value} does not belong in {point.table.value}"
        if point.writable and not point.table.is_writable:
            yield f"{where}: read-write point in read-only table {point.table.value}"
        if point.protection_setting and not point.writable:
            yield f"{where}: a protection setting must be read-write"
        if not (math.isfinite(point.scale) and point.scale > 0):
            yield f"{where}: scale {point.scale!r} must be finite and > 0"
        if point.data_type in (DataType.F32, DataType.STRING, DataType.BOOL) and point.scale != 1.0:
            yield f"{where}: scale must be 1 for {point.data_type.value}"
        if point.minimum is not None and point.maximum is not None and point.minimum > point.maximum:
            yield f"{where}: minimum {point.minimum} > maximum {point.maximum}"
        for address in range(point.address, point.end_address):
            other = occupied.get((point.table, address))
            if other is not None:
                yield f"{where}: address {address} already used by {other}"
            occupied[(point.table, address)] = point.name
        if isinstance(point.default, (int, float)) and not isinstance(point.default, bool):
            too_low = point.minimum is not None and point.default < point.minimum
            too_high = point.maximum is not None and point.default > point.maximum
            if too_low or too_high:
                yield f"{where}: default {point.default} outside [{point.minimum}, {point.maximum}]"
        try:
            encode_value(point, point.default, WordOrder.BIG, saturate=False)
        except EncodingError as error:
            yield f"{where}: default {point.default!r} cannot be encoded ({error})"


def map_table_rows(register_map: RegisterMap) -> list[Mapping[str, str]]:
    """Rows for a documentation table, in table then address order (used by ``devices.docs``)."""
    rows: list[Mapping[str, str]] = []
    for table in register_map.tables():
        for point in register_map.in_table(table):
            limits = ""
            if point.minimum is not None or point.maximum is not None:
                limits = f"{_fmt(point.minimum)}..{_fmt(point.maximum)}"
            access = point.access.value + (" (protection)" if point.protection_setting else "")
            data_type = point.data_type.value
            if point.data_type is DataType.STRING:
                data_type = f"string[{point.string_registers * 2}]"
            rows.append(
                {
                    "address": str(point.address),
                    "table": table.value,
                    "name": point.name,
                    "type": data_type,
                    "scale": _fmt(point.scale),
                    "unit": point.unit,
                    "access": access,
                    "limits": limits,
                    "description": point.description,
                }
            )
    return rows


def _fmt(number: float | None) -> str:
    if number is None:
        return ""
    return f"{number:g}"
