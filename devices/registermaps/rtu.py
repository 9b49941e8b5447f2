"""Remote terminal unit: the register map is built from the scenario's point list.

An RTU has no fixed map: a substation or feeder RTU exposes whatever the
utility wired to it. The scenario lists its points by kind; this module lays
them out in the Modbus table their kind implies, in the order given, each at
the next free address (or at an explicit one), 32-bit points on two
registers:

* analog: input registers, read-only;
* status: discrete inputs, read-only;
* control: coils, read-write;
* setpoint: holding registers, read-write.

Every RTU also keeps a sequence-of-events window (devices.soe) from input
register 1000: status changes (element = the point's index in the list) and
control operations, time-stamped in UTC; point lists must leave it free.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from typing import Sequence

from cosim.comm.modbus.datamodel import ModbusTable
from devices.registermap import Access, DataType, Point, RegisterMap, Value, WordOrder
from devices.soe import soe_points


class RtuPointKind(enum.Enum):
    ANALOG = "analog"
    STATUS = "status"
    CONTROL = "control"
    SETPOINT = "setpoint"


_TABLE_OF_KIND = {
    RtuPointKind.ANALOG: ModbusTable.INPUT_REGISTERS,
    RtuPointKind.STATUS: ModbusTable.DISCRETE_INPUTS,
    RtuPointKind.CONTROL: ModbusTable.COILS,
    RtuPointKind.SETPOINT: ModbusTable.HOLDING_REGISTERS,
}


@dataclasses.dataclass(frozen=True)
class RtuPoint:
    """One entry of an RTU point list as a scenario gives it; ``source`` names the grid quantity it mirrors.

    ``data_type`` defaults to I16 for analogs and setpoints and is BOOL for
    status and control points (whatever is given).
    """

    name: str
    kind: RtuPointKind
    source: str = ""  # e.g. "bus:12/vm_pu" or "branch:7/i_from_a"; bound by the device layer
    data_type: DataType = DataType.I16
    scale: float = 1.0
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    default: Value = 0
    address: int | None = None
    description: str = ""


def rtu_map(points: Sequence[RtuPoint], name: str = "RTU", word_order: WordOrder = WordOrder.BIG) -> RegisterMap:
    """Lay out ``points`` into a validated map; raises RegisterMapError listing every clash.

    A map is immutable, so one point list gives one shared map: a study that
    builds the same devices for every incident validates each layout once.
    """
    return _laid_out_map(tuple(points), name, word_order)


@functools.lru_cache(maxsize=4096)
def _laid_out_map(points: tuple[RtuPoint, ...], name: str, word_order: WordOrder) -> RegisterMap:
    next_free = {table: 0 for table in ModbusTable}
    laid_out = []
    for rtu_point in points:
        table = _TABLE_OF_KIND[rtu_point.kind]
        is_bit = table.is_bit
        data_type = DataType.BOOL if is_bit else rtu_point.data_type
        address = next_free[table] if rtu_point.address is None else rtu_point.address
        description = rtu_point.description or (f"mirrors {rtu_point.source}" if rtu_point.source else "")
        point = Point(
            rtu_point.name,
            table,
            address,
            data_type,
            1.0 if is_bit else rtu_point.scale,
            rtu_point.unit,
            Access.READ_WRITE if table.is_writable else Access.READ_ONLY,
            rtu_point.minimum,
            rtu_point.maximum,
            description=description,
            default=rtu_point.default,
        )
        laid_out.append(point)
        next_free[table] = max(next_free[table], point.end_address)
    return RegisterMap(name, tuple(laid_out) + soe_points(), word_order, description=__doc__ or "")


EXAMPLE_POINTS: tuple[RtuPoint, ...] = (
    RtuPoint("bus_voltage_pu", RtuPointKind.ANALOG, "bus:substation/vm_pu", DataType.U16, 0.0001, "pu"),
    RtuPoint("feeder_current_a", RtuPointKind.ANALOG, "branch:feeder1/i_from_a", DataType.U16, 0.1, "A"),
    RtuPoint("feeder_active_power_kw", RtuPointKind.ANALOG, "branch:feeder1/p_from_mw", DataType.I32, 0.1, "kW"),
    RtuPoint("breaker_closed", RtuPointKind.STATUS, "switch:cb1/closed", default=True),
    RtuPoint("breaker_open_command", RtuPointKind.CONTROL, "switch:cb1/open"),
    RtuPoint("tap_setpoint", RtuPointKind.SETPOINT, "transformer:t1/tap", DataType.I16, 1.0, "",
             minimum=-16, maximum=16),
)
"""The point list the documentation shows; a scenario gives its own."""
