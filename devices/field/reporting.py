"""Report by exception: a view of a device's point model that sends what changed, unasked.

The device's :class:`~devices.registerstore.RegisterStore` is its point model;
the Modbus server is one view of it (masters ask), this is another (the
device tells). After every step the :class:`ExceptionReporter` compares the
reportable points with what it last reported and sends a
:class:`~devices.reports.PointReport` through a :class:`ReportTransport`:

* a **status** point (a boolean, or a unitless integer such as a trip or
  operation counter) is reported on any change, at once;
* an **analog** point (a value with a unit: A, V, kW...) when it moved more
  than ``deadband_pct`` percent of its last reported value and more than
  ``deadband_floor`` in its own unit.

Which points are reportable is read from the register map (data): the
read-only points of the discrete-input and input-register tables, i.e. what
the device measures and states, not its settings or command coils. In
``mixed`` mode only status points are reported (analogs are left to the
master's scan). The transport is a seam: :class:`MqttReportTransport`
publishes on the device node's shared MQTT client; a DNP3 unsolicited
response would be a second transport over the same reporter.

Values are read back from the store, so a report says exactly what a poll
at that instant would have decoded (same quantisation, same noise draw).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cosim.comm.modbus.datamodel import ModbusTable
from devices.registermap import Access, DataType, RegisterMap, Value
from devices.reports import PointReport, ReportCause, ReportMode

if TYPE_CHECKING:
    from devices.field.base import NodeMqtt
    from devices.registerstore import RegisterStore


REPORTED_TABLES = (ModbusTable.DISCRETE_INPUTS, ModbusTable.INPUT_REGISTERS)


@dataclass(frozen=True)
class ReportPoint:
    name: str
    analog: bool


def report_points(register_map: RegisterMap, mode: ReportMode) -> tuple[ReportPoint, ...]:
    """The points a device in ``mode`` reports by exception (empty for ``poll``)."""
    if mode is ReportMode.POLL:
        return ()
    found = []
    for table in REPORTED_TABLES:
        for point in register_map.in_table(table):
            if point.access is not Access.READ_ONLY or point.data_type is DataType.STRING:
                continue
            analog = point.data_type is not DataType.BOOL and bool(point.unit)
            if analog and mode is ReportMode.MIXED:
                continue
            found.append(ReportPoint(point.name, analog))
    return tuple(found)


class ReportTransport(Protocol):
    """Where reports go; the reporter does not know the protocol."""

    def send(self, report: PointReport) -> None: ...


class MqttReportTransport:
    """Publishes reports on ``topic`` through the device node's shared MQTT client (queued, never blocking)."""

    def __init__(self, mqtt: NodeMqtt, topic: str, qos: int) -> None:
        self.mqtt, self.topic, self.qos = mqtt, topic, qos

    def send(self, report: PointReport) -> None:
        self.mqtt.publish(self.topic, report.encode(), qos=self.qos)


class ExceptionReporter:
    """Compares a store's reportable points with the last report and sends what changed.

    The first :meth:`check` reports every point (cause ``startup``), so a
    master that starts listening with the device knows its state without a
    poll. ``sent`` counts reports, ``sent_values`` the point values in them.
    """

    def __init__(self, device_id: str, store: RegisterStore, points: tuple[ReportPoint, ...], transport: ReportTransport,
                 *, deadband_pct: float, deadband_floor: float) -> None:
        self.device_id = device_id
        self.store = store
        self.points = points
        self.transport = transport
        self.deadband = deadband_pct / 100.0
        self.floor = deadband_floor
        self.last: dict[str, Value] = {}
        self.sequence = 0
        self.sent = 0
        self.sent_values = 0
        self._checked_generation = -1

    def _moved(self, point: ReportPoint, value: Value) -> bool:
        if point.name not in self.last:
            return True
        old = self.last[point.name]
        if not point.analog or isinstance(value, (bool, str)) or isinstance(old, (bool, str)):
            return value != old
        step = abs(float(value) - float(old))
        return step > self.floor and step > self.deadband * abs(float(old))

    def check(self, now: float) -> PointReport | None:
        """Send a report of the points that changed since the last one (simulated time ``now``); None if none."""
        if self.store.generation == self._checked_generation:
            return None  # nothing stored since the last check: nothing can have moved
        self._checked_generation = self.store.generation
        cause = ReportCause.CHANGE if self.last else ReportCause.STARTUP
        changed = []
        for point in self.points:
            value = self.store.get(point.name)
            if self._moved(point, value):
                changed.append((point.name, value))
        if not changed:
            return None
        self.last.update(changed)
        report = PointReport(self.device_id, now, self.sequence, cause, tuple(changed))
        self.sequence += 1
        self.sent += 1
        self.sent_values += len(changed)
        self.transport.send(report)
        return report
