"""Sequence-of-events (SOE) buffer of a protection or RTU device, and its Modbus register window.

After an event a protection engineer downloads what the relay recorded: which
element operated, when (UTC, to the microsecond), and the currents it saw.
A device keeps its last ``SOE_RECORDS`` events in an :class:`SoeBuffer`,
newest first, and mirrors them into a fixed window of input registers
declared here as data (:func:`soe_points`), so every map that includes it
documents the same layout:

* input register ``SOE_BASE``: number of records held (0..SOE_RECORDS);
* ``SOE_BASE + 1``: sequence number of the newest record (counts every event
  since power-up, wrapping at 65536, so a master sees what it missed);
* from ``SOE_BASE + 2``: ``SOE_RECORDS`` records of ``RECORD_REGISTERS``
  registers each, record 0 the newest; an empty slot reads sequence 0.

Time stamps are SOC (seconds since 1970-01-01 UTC) and microseconds, from the
devices' UTC clock (the scenario's ``run.start_utc``), as a PMU stamps frames.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections import deque
from collections.abc import Mapping
from types import MappingProxyType

from devices.registermap import DataType, Point, Value
from cosim.comm.modbus.datamodel import ModbusTable

SOE_BASE = 1000
SOE_RECORDS = 16


class SoeEvent(enum.IntEnum):
    """What happened (the ``event`` register of a record)."""

    PROTECTION_TRIP = 1
    REMOTE_TRIP = 2
    CLOSE = 3
    RECLOSE = 4
    LOCKOUT = 5
    STATUS_CHANGE = 6
    CONTROL = 7


ELEMENT_CODES: Mapping[str, int] = MappingProxyType({
    # the ``element`` register: ANSI device numbers for protection elements, 0 for none
    "none": 0, "50": 50, "51": 51, "79": 79, "remote": 1, "manual": 2,
    # ground (residual N, neutral CT G) and negative-sequence (Q) elements: 100, 200, 300 + the ANSI number
    "50N": 150, "51N": 151, "50G": 250, "51G": 251, "50Q": 350, "51Q": 351,
})

# One record: (field, data type, scale, unit, description); laid out in this order.
RECORD_FIELDS: tuple[tuple[str, DataType, float, str, str], ...] = (
    ("sequence", DataType.U16, 1.0, "", "Event sequence number (0: empty slot)"),
    ("soc_s", DataType.U32, 1.0, "s", "Time stamp, seconds since 1970-01-01 UTC"),
    ("fracsec_us", DataType.U32, 1.0, "us", "Time stamp, microseconds within the second"),
    ("event", DataType.U16, 1.0, "", "Event: " + ", ".join(f"{e.value} {e.name.lower()}" for e in SoeEvent)),
    ("element", DataType.U16, 1.0, "", "Element: 50, 51, 79 (ANSI), 150/151 50N/51N, 250/251 50G/51G, 350/351 50Q/51Q, "
                                          "1 remote, 2 manual, 0 none; RTU: point index"),
    ("ia_a", DataType.U16, 1.0, "A", "Phase A current at the event, primary RMS"),
    ("ib_a", DataType.U16, 1.0, "A", "Phase B current at the event"),
    ("ic_a", DataType.U16, 1.0, "A", "Phase C current at the event"),
    ("in_a", DataType.U16, 1.0, "A", "Residual current at the event"),
    ("v_pu", DataType.U16, 0.0001, "pu", "Bus voltage at the event"),
)
RECORD_REGISTERS = sum(2 if data_type is DataType.U32 else 1 for _, data_type, _, _, _ in RECORD_FIELDS)


@functools.lru_cache(maxsize=8)
def soe_points(base: int = SOE_BASE, records: int = SOE_RECORDS) -> tuple[Point, ...]:
    """The SOE window's points, to append to a device's map (built once per layout: points are immutable)."""
    ir = ModbusTable.INPUT_REGISTERS
    points = [
        Point("soe_count", ir, base, DataType.U16, description="SOE: records held"),
        Point("soe_last_sequence", ir, base + 1, DataType.U16, description="SOE: sequence number of the newest record"),
    ]
    address = base + 2
    for slot in range(records):
        for field, data_type, scale, unit, description in RECORD_FIELDS:
            points.append(Point(f"soe_{slot}_{field}", ir, address, data_type, scale, unit,
                                description=f"SOE record {slot} ({'newest' if slot == 0 else 'older'}): {description}"))
            address = points[-1].end_address
    return tuple(points)


@dataclasses.dataclass(frozen=True)
class SoeRecord:
    sequence: int
    utc_us: int
    event: SoeEvent
    element: int
    currents_a: tuple[float, float, float, float]
    v_pu: float


class SoeBuffer:
    """The last ``capacity`` records, newest first; ``register_values()`` is the window's content."""

    def __init__(self, capacity: int = SOE_RECORDS) -> None:
        self.capacity = capacity
        self.records: deque[SoeRecord] = deque(maxlen=capacity)
        self._sequence = 0

    def add(self, utc_us: int, event: SoeEvent, element: int | str, currents_a: tuple[float, float, float, float],
            v_pu: float) -> SoeRecord:
        self._sequence = self._sequence % 0xFFFF + 1  # 1..65535, 0 marks an empty slot
        code = ELEMENT_CODES[element] if isinstance(element, str) else int(element)
        record = SoeRecord(self._sequence, int(utc_us), event, code, currents_a, v_pu)
        self.records.appendleft(record)
        return record

    def register_values(self) -> dict[str, Value]:
        values: dict[str, Value] = {"soe_count": len(self.records), "soe_last_sequence": self._sequence}
        for slot in range(self.capacity):
            if slot < len(self.records):
                r = self.records[slot]
                soc, fracsec = divmod(r.utc_us, 1_000_000)
                fields: tuple[Value, ...] = (r.sequence, soc, fracsec, int(r.event), r.element, *r.currents_a, r.v_pu)
            else:
                fields = (0,) * len(RECORD_FIELDS)
            for (name, *_), value in zip(RECORD_FIELDS, fields):
                values[f"soe_{slot}_{name}"] = value
        return values
