"""The DNP3 view of each device kind's point model, declared as data (as the Modbus maps are).

A DNP3 point map lists, per DNP3 point type, the device's store points in
index order (index = position in the tuple):

* binary inputs (g1 static, g2 events) with their event class;
* analog inputs (g30 static, g32 events) with event class and deadband. The
  value is in the point's counts: engineering value / the Modbus point's
  ``scale``, so a DNP3 master and a Modbus master read the same integer
  (g30v5 gives the engineering value as a float);
* controls (g12v1 CROB, status as g10v2): ``PAIRED`` drives two momentary
  coils (close/LATCH_ON/PULSE_ON and trip/LATCH_OFF), ``LATCH`` sets one
  coil to 1 (close/LATCH_ON) or 0 (trip/LATCH_OFF), ``PULSE`` pulses one
  momentary coil (PULSE_ON only);
* analog outputs (g41 commands, g40v1 status), in counts of the Modbus point.

Commands go through the device's register store exactly as a Modbus master
write does (protection lock, range checks, the device's own refusals), so the
two protocols enforce one set of rules. Event class 0 means "static only".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Sequence

from cosim.comm.modbus.datamodel import ModbusTable
from devices.registermap import Access, RegisterMap, RegisterMapError
from devices.registermaps import DeviceKind, RtuPoint, RtuPointKind


@dataclass(frozen=True)
class BinaryInputPoint:
    point: str
    event_class: int = 1


@dataclass(frozen=True)
class AnalogInputPoint:
    point: str
    event_class: int = 2
    deadband: int = 0
    """An event when the value moved more than this many counts from the last reported one."""


class ControlMode(enum.Enum):
    PAIRED = "paired"
    LATCH = "latch"
    PULSE = "pulse"


@dataclass(frozen=True)
class ControlPoint:
    name: str
    mode: ControlMode
    close: str
    """The coil a close (LATCH_ON, PULSE_ON) drives; for LATCH and PULSE the only coil."""
    trip: str | None = None
    """PAIRED: the coil a trip (LATCH_OFF) drives."""
    status: str | None = None
    """The store point reported as the control's state (g10v2); default the ``close`` coil."""


@dataclass(frozen=True)
class AnalogOutputPoint:
    point: str


@dataclass(frozen=True)
class Dnp3PointMap:
    """One device kind's DNP3 points; index = position in each tuple."""

    binary_inputs: tuple[BinaryInputPoint, ...] = ()
    analog_inputs: tuple[AnalogInputPoint, ...] = ()
    controls: tuple[ControlPoint, ...] = ()
    analog_outputs: tuple[AnalogOutputPoint, ...] = ()

    def check(self, register_map: RegisterMap) -> None:
        """Raise RegisterMapError listing every reference the register map cannot serve."""
        problems = []
        names = {p.name: p for p in register_map.points}

        def need(name: str | None, where: str, tables: tuple[ModbusTable, ...], writable: bool = False) -> None:
            if name is None:
                return
            point = names.get(name)
            if point is None:
                problems.append(f"{where}: no point {name!r} in the {register_map.name} map")
            elif point.table not in tables:
                problems.append(f"{where}: {name!r} is in {point.table.value}, not {'/'.join(t.value for t in tables)}")
            elif writable and point.access is not Access.READ_WRITE:
                problems.append(f"{where}: {name!r} is read-only")

        bits = (ModbusTable.DISCRETE_INPUTS, ModbusTable.COILS)
        words = (ModbusTable.INPUT_REGISTERS, ModbusTable.HOLDING_REGISTERS)
        for i, bi in enumerate(self.binary_inputs):
            need(bi.point, f"binary input {i}", bits)
            if not 0 <= bi.event_class <= 3:
                problems.append(f"binary input {i}: event class {bi.event_class} not in 0..3")
        for i, ai in enumerate(self.analog_inputs):
            need(ai.point, f"analog input {i}", words)
            if not 0 <= ai.event_class <= 3 or ai.deadband < 0:
                problems.append(f"analog input {i}: event class {ai.event_class} / deadband {ai.deadband}")
        for i, control in enumerate(self.controls):
            need(control.close, f"control {i}", (ModbusTable.COILS,), writable=True)
            need(control.trip, f"control {i}", (ModbusTable.COILS,), writable=True)
            need(control.status, f"control {i}", bits)
            if (control.mode is ControlMode.PAIRED) != (control.trip is not None):
                problems.append(f"control {i}: a trip coil is needed by, and only by, a paired control")
        for i, ao in enumerate(self.analog_outputs):
            need(ao.point, f"analog output {i}", (ModbusTable.HOLDING_REGISTERS,), writable=True)
        if problems:
            raise RegisterMapError(f"{register_map.name} (DNP3 view)", problems)


BI, AI, AO = BinaryInputPoint, AnalogInputPoint, AnalogOutputPoint

RECLOSER = Dnp3PointMap(
    binary_inputs=(BI("closed"), BI("locked_out"), BI("reclosing_in_progress"), BI("picked_up", 2)),
    analog_inputs=(AI("current_a_a", 2, 10), AI("current_b_a", 2, 10), AI("current_c_a", 2, 10),
                   AI("current_n_a", 2, 10), AI("source_voltage_v", 3, 100), AI("operations_in_sequence", 2),
                   AI("trip_count", 2), AI("last_fault_current_a", 2)),
    controls=(ControlPoint("breaker", ControlMode.PAIRED, "close_command", "trip_command", "closed"),
              ControlPoint("reset_lockout", ControlMode.PULSE, "reset_lockout_command"),
              ControlPoint("reclosing_enabled", ControlMode.LATCH, "reclosing_enabled")),
    analog_outputs=(AO("pickup_a"), AO("reset_time_s")),
)

RELAY = Dnp3PointMap(
    binary_inputs=(BI("breaker_closed"), BI("trip_output"), BI("pickup_51", 2), BI("pickup_50", 2)),
    analog_inputs=(AI("current_a_a", 2, 10), AI("current_b_a", 2, 10), AI("current_c_a", 2, 10),
                   AI("current_n_a", 2, 10), AI("voltage_ab_v", 3, 100), AI("last_fault_current_a", 2),
                   AI("trip_count", 2)),
    controls=(ControlPoint("breaker", ControlMode.PAIRED, "close_command", "trip_command", "breaker_closed"),
              ControlPoint("protection_enabled", ControlMode.LATCH, "protection_enabled")),
    analog_outputs=(AO("pickup_51_a"), AO("time_dial_51"), AO("pickup_50_a"), AO("delay_50_s")),
)

CAPACITOR = Dnp3PointMap(
    binary_inputs=(BI("bank_closed"), BI("switching_pending", 2)),
    analog_inputs=(AI("voltage_pu", 2, 50), AI("reactive_power_kvar", 2, 50), AI("switching_count", 2)),
    controls=(ControlPoint("bank", ControlMode.LATCH, "bank_close_command", status="bank_closed"),),
    analog_outputs=(AO("control_mode"), AO("voltage_setpoint_pu"), AO("voltage_bandwidth_pu"), AO("time_delay_s")),
)

METER = Dnp3PointMap(
    binary_inputs=(BI("voltage_present"), BI("tamper_detected")),
    analog_inputs=(AI("voltage_an_v", 3, 5), AI("voltage_bn_v", 3, 5), AI("voltage_cn_v", 3, 5),
                   AI("current_a_a", 3, 5), AI("current_b_a", 3, 5), AI("current_c_a", 3, 5),
                   AI("active_power_w", 3, 1000), AI("reactive_power_var", 3, 1000), AI("energy_import_wh", 0),
                   AI("energy_export_wh", 0), AI("demand_w", 3, 1000)),
    controls=(ControlPoint("service_switch", ControlMode.LATCH, "service_connected"),),
    analog_outputs=(AO("demand_interval_s"),),
)

_FIXED: dict[DeviceKind, Dnp3PointMap] = {
    DeviceKind.RECLOSER: RECLOSER,
    DeviceKind.PROTECTIVE_RELAY: RELAY,
    DeviceKind.CAPACITOR_BANK_CONTROLLER: CAPACITOR,
    DeviceKind.SMART_METER: METER,
}

KINDS = (DeviceKind.RECLOSER, DeviceKind.PROTECTIVE_RELAY, DeviceKind.CAPACITOR_BANK_CONTROLLER,
         DeviceKind.SMART_METER, DeviceKind.RTU)
"""Device kinds that can serve DNP3."""


def rtu_points(points: Sequence[RtuPoint]) -> Dnp3PointMap:
    """An RTU's DNP3 map from its point list, in list order: status -> binary input (class 1), analog ->
    analog input (class 2, no deadband), control -> a pulsed control, setpoint -> analog output."""
    return Dnp3PointMap(
        binary_inputs=tuple(BI(p.name) for p in points if p.kind is RtuPointKind.STATUS),
        analog_inputs=tuple(AI(p.name) for p in points if p.kind is RtuPointKind.ANALOG),
        controls=tuple(ControlPoint(p.name, ControlMode.PULSE, p.name) for p in points
                       if p.kind is RtuPointKind.CONTROL and not p.name.endswith(".select")),
        analog_outputs=tuple(AO(p.name) for p in points if p.kind is RtuPointKind.SETPOINT),
    )


def point_map(kind: DeviceKind, rtu: Sequence[RtuPoint] = ()) -> Dnp3PointMap:
    """The DNP3 map of ``kind`` (an RTU's from its point list); raises ValueError for a kind without one."""
    if kind is DeviceKind.RTU:
        return rtu_points(rtu)
    try:
        return _FIXED[kind]
    except KeyError:
        raise ValueError(f"{kind.value} has no DNP3 point map (kinds with one: "
                         f"{', '.join(k.value for k in KINDS)})") from None


def documented_points(kind: DeviceKind) -> Dnp3PointMap | None:
    """The DNP3 map the docs show for ``kind`` (the RTU's from the example point list), None if it has none."""
    from devices.registermaps.rtu import EXAMPLE_POINTS

    return point_map(kind, EXAMPLE_POINTS) if kind in KINDS else None


def markdown(points: Dnp3PointMap, register_map: RegisterMap) -> list[str]:
    """The DNP3 section of a device page: one table per point type, index by index."""
    def unit(name: str) -> str:
        point = register_map.point(name)
        return f"{point.scale:g} {point.unit}".strip() if point.unit or point.scale != 1 else "1"

    classes = {0: "none (static only)", 1: "1", 2: "2", 3: "3"}
    lines = ["", "## DNP3 points (IEEE 1815, subset level 2)", "",
             "Served when the device entry lists `protocols.dnp3` (see docs/protocols.md). Analog values are counts of the "
             "Modbus point's scale (g30v5 and g32v7 give engineering units). Class 0 answers g1v2, g10v2, g30v1 "
             "and g40v1; events are g2v2 and g32v3 with absolute time.", "",
             "| Type | Index | Point | Count = | Event class | Deadband (counts) |", "|---|---|---|---|---|---|"]
    for i, bi in enumerate(points.binary_inputs):
        lines.append(f"| binary input (g1/g2) | {i} | {bi.point} | | {classes[bi.event_class]} | |")
    for i, ai in enumerate(points.analog_inputs):
        lines.append(f"| analog input (g30/g32) | {i} | {ai.point} | {unit(ai.point)} | {classes[ai.event_class]} "
                     f"| {ai.deadband} |")
    for i, control in enumerate(points.controls):
        if control.mode is ControlMode.PAIRED:
            target = f"close/LATCH_ON/PULSE_ON: {control.close}; trip/LATCH_OFF: {control.trip}"
        elif control.mode is ControlMode.LATCH:
            target = f"LATCH_ON/close: {control.close} = 1; LATCH_OFF/trip: {control.close} = 0"
        else:
            target = f"PULSE_ON: {control.close}"
        lines.append(f"| control (g12v1, status g10v2) | {i} | {control.name}: {target} | | | |")
    for i, ao in enumerate(points.analog_outputs):
        lines.append(f"| analog output (g41, status g40v1) | {i} | {ao.point} | {unit(ao.point)} | | |")
    return lines


def kind_markdown(kind: DeviceKind, register_map: RegisterMap) -> list[str]:
    """The DNP3 section of ``kind``'s device page (nothing for a kind without a DNP3 map); the plug-in's docs."""
    points = documented_points(kind)
    return markdown(points, register_map) if points is not None else []
