"""The IEC 60870-5-104 view of an RTU: each entry of its point list as an information object.

The RTU keeps one point model (its point list and register store); this view
says which ASDU type and information object address (IOA) each point takes,
so a 104 master and a Modbus master read and operate the same points. It is
data, derived from the point list by kind, in the list's order:

========== ============ ======================================= ==========
kind       IOAs         ASDU type                                direction
========== ============ ======================================= ==========
status     1, 2, ...    M_SP_TB_1 single point with CP56 time    monitor
analog     1001, ...    M_ME_TF_1 short float with CP56 time     monitor
control    2001, ...    C_SC_NA_1 single command                 control
setpoint   3001, ...    C_SE_NC_1 set point, short float         control
========== ============ ======================================= ==========

Sequence-of-events and select points of the Modbus map are not objects
here: 104 carries time tags on every monitored change itself, and a control
object declared select-and-execute does its own selection.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any, Sequence


class Iec104Kind(enum.Enum):
    """How an object travels: monitored single point / float, or single command / float set point."""

    SINGLE_POINT = "M_SP_TB_1"
    SHORT_FLOAT = "M_ME_TF_1"
    SINGLE_COMMAND = "C_SC_NA_1"
    FLOAT_SETPOINT = "C_SE_NC_1"

    @property
    def is_command(self) -> bool:
        return self in (Iec104Kind.SINGLE_COMMAND, Iec104Kind.FLOAT_SETPOINT)


KINDS = ("rtu",)
"""Device kinds with an IEC 104 view: the RTU, whose point list is made of these four kinds."""

LAYOUT: dict[str, tuple[int, Iec104Kind]] = {
    "status": (1, Iec104Kind.SINGLE_POINT),
    "analog": (1001, Iec104Kind.SHORT_FLOAT),
    "control": (2001, Iec104Kind.SINGLE_COMMAND),
    "setpoint": (3001, Iec104Kind.FLOAT_SETPOINT),
}
"""Point kind -> (first IOA, ASDU type)."""


@dataclass(frozen=True)
class Iec104Object:
    """One RTU point as an IEC 104 information object."""

    ioa: int
    kind: Iec104Kind
    point: str  # the point's name in the RTU's register store


def rtu_objects(points: Sequence[Any]) -> tuple[Iec104Object, ...]:
    """The objects of an RTU's point list (entries with ``name`` and ``kind``), in the layout above."""
    counts = {kind: 0 for kind in LAYOUT}
    objects = []
    for point in points:
        kind = getattr(point.kind, "value", point.kind)
        first, asdu = LAYOUT[kind]
        objects.append(Iec104Object(first + counts[kind], asdu, point.name))
        counts[kind] += 1
    return tuple(objects)


def spontaneous_change(obj: Iec104Object, last: Any, value: Any, deadband: float) -> bool:
    """Whether ``value`` is reported spontaneously after ``last``: a status on any change, a float when it
    moved more than ``deadband`` (a fraction) of its last reported value (any move from zero, NaN in or out).

    One rule for the simulated station and the HIL station, so both report the same changes.
    """
    if obj.kind is Iec104Kind.SINGLE_POINT:
        return bool(last) != bool(value)
    last, value = float(last), float(value)
    if math.isnan(last) or math.isnan(value):
        return math.isnan(last) != math.isnan(value)
    return abs(value - last) > deadband * abs(last) if last else value != last


UNTIMED = {Iec104Kind.SINGLE_POINT: "M_SP_NA_1", Iec104Kind.SHORT_FLOAT: "M_ME_NC_1"}
"""The type a monitored object takes in a general interrogation answer (cause 20 allows no time tag)."""


def kind_markdown(kind: Any, register_map: Any) -> list[str]:
    """The IEC 104 section of a device page (the RTU's, from the example point list); the plug-in's docs."""
    if getattr(kind, "value", kind) not in KINDS:
        return []
    from devices.registermaps.rtu import EXAMPLE_POINTS

    lines = ["", "## IEC 60870-5-104 objects", "",
             "Served when the device entry lists `protocols.iec104` (see docs/protocols.md); the IOAs follow the "
             "point list by kind, shown here for the example list. Changes go out spontaneously (cause 3) with "
             "CP56Time2a tags; a general interrogation answers the untimed type (cause 20). Commands are "
             "select-and-execute or direct, and write the point as a Modbus master's write does.", "",
             "| IOA | Point | Spontaneous / command type | Interrogation type |", "|---|---|---|---|"]
    for obj in rtu_objects(EXAMPLE_POINTS):
        lines.append(f"| {obj.ioa} | {obj.point} | {obj.kind.value} | {UNTIMED.get(obj.kind, '')} |")
    return lines
