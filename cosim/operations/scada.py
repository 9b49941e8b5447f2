"""SCADA master: polls field devices over Modbus, accepts their reports by exception, alarms on changes, sends commands.

One job: the control centre's front end to the field. Each device is read
through the communication network (a :class:`~cosim.comm.ModbusClient` per
device); the registers are decoded with the device kind's register map from
``devices.registermaps`` (data, not hard-coded addresses). How often depends
on how the device reports (its ``reporting.mode``, engineering data):

* ``poll``: scanned every ``scan_s``;
* ``rbe``: the device reports status changes at once and analogs beyond a
  deadband (:class:`~devices.reports.PointReport` over MQTT); the master
  only runs an integrity poll every ``integrity_s`` (and at start);
* ``mixed``: status changes by exception, scanned every ``scan_s`` as well.

A master built with ``accept_reports=False`` scans every device every
``scan_s`` whatever it sends (a poll-only master). What the master knows is
only what its last good poll or report said: a lost poll leaves the old value
and raises a communication alarm. A report older than the newest information
already applied (a poll sent after the report's time) is counted and dropped.
Each change SCADA learns is logged as ``scada_point_change`` with ``via``
(poll or report) and, for a report, the device's time of the change, so a
study can measure detection latency; ``report_latency`` is recorded per device.

Roles name what the DMS needs from a device, whatever its kind calls it:
``closed`` (switch position), ``locked_out``, ``fault_count`` (trips or
counts: a rise means the device saw fault current), ``fault_flag`` (a
fault-passage indicator), and the command coils ``open``, ``close``,
``reset`` (lockout reset) and ``fault_reset`` (indicator reset).

Simulated time throughout; every poll and command is a Modbus exchange in the
message trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable, Mapping

from cosim.comm import ModbusError, ModbusTimeoutError, MqttMessage
from cosim.comm.errors import CommError
from cosim.comm.modbus.datamodel import ModbusTable
from cosim.kernel import World
from devices.encoding import decode_value
from devices.registermap import Point, RegisterMap, Value
from devices.registermaps import DeviceKind, RtuPoint, rtu_map, standard_map
from devices.reports import PointReport, ReportDecodeError, ReportMode

from .crews import CrewChannel

STANDARD_ROLES: dict[DeviceKind, dict[str, str]] = {
    DeviceKind.RECLOSER: {
        "closed": "closed", "locked_out": "locked_out", "fault_count": "trip_count",
        "open": "trip_command", "close": "close_command", "reset": "reset_lockout_command",
    },
    DeviceKind.PROTECTIVE_RELAY: {
        "closed": "breaker_closed", "fault_count": "trip_count", "open": "trip_command", "close": "close_command",
    },
    DeviceKind.SECTIONALIZER: {
        "closed": "closed", "fault_flag": "fault_current_seen", "fault_count": "count",
        "open": "open_command", "close": "close_command",
    },
}
"""Role -> point name for the fixed-map device kinds (see docs/devices)."""

DEFAULT_MEASUREMENTS: dict[DeviceKind, tuple[str, ...]] = {
    DeviceKind.RECLOSER: ("current_a_a",),
    DeviceKind.PROTECTIVE_RELAY: ("current_a_a",),
    DeviceKind.SECTIONALIZER: ("current_a",),
}
"""Points recorded as time series (``scada/<device>``) for the fixed-map kinds."""

RTU_SWITCH_ROLES: dict[tuple[str, str], str] = {
    ("status", "closed"): "closed",
    ("status", "fault_indicator"): "fault_flag",
    ("control", "open"): "open",
    ("control", "close"): "close",
    ("control", "reset_indicator"): "fault_reset",
}
"""(point kind, quantity of ``switch/X:quantity``) -> role, for an RTU wired to one switch X."""

STATUS_ROLES = ("closed", "locked_out", "fault_count", "fault_flag")
COMMAND_ROLES = ("open", "close", "reset", "fault_reset")


@dataclass(frozen=True)
class PolledDevice:
    """A device as the SCADA master's point database knows it (engineering data)."""

    device: str
    kind: DeviceKind
    node: str
    unit_id: int
    register_map: RegisterMap
    roles: Mapping[str, str]
    switch: str | None = None
    scan_s: float = 2.0
    measurements: tuple[str, ...] = ()
    reporting: ReportMode = ReportMode.POLL
    report_broker: str | None = None
    report_topic: str | None = None

    @property
    def reports(self) -> bool:
        return self.reporting is not ReportMode.POLL

    @classmethod
    def of_kind(cls, device: str, kind: DeviceKind, node: str, unit_id: int, *, switch: str | None = None,
                scan_s: float = 2.0, roles: Mapping[str, str] | None = None,
                rtu_points: tuple[RtuPoint, ...] = (), measurements: tuple[str, ...] = ()) -> "PolledDevice":
        """Build with the kind's standard map and roles; an RTU needs its point list and roles."""
        if kind is DeviceKind.RTU:
            register_map = rtu_map(rtu_points, name=device)
            chosen = dict(roles or {})
        else:
            register_map = standard_map(kind)
            chosen = {**STANDARD_ROLES.get(kind, {}), **(roles or {})}
        for role, point in chosen.items():
            if role not in STATUS_ROLES + COMMAND_ROLES:
                raise ValueError(f"device {device!r}: unknown role {role!r}")
            register_map.point(point)  # KeyError naming the map if absent
        for point in measurements:
            register_map.point(point)
        return cls(device, kind, node, unit_id, register_map, chosen, switch, scan_s, tuple(measurements))

    @classmethod
    def from_device_config(cls, config: Any, *, scan_s: float = 2.0) -> "PolledDevice":
        """The point-database entry of a scenario device (its ``devices:`` entry), as a configuration tool exports it.

        Takes the device's kind, comm node, unit id and register map (for an
        RTU, the map its point list lays out, so addresses agree by
        construction); roles are the kind's standard ones, or for an RTU the
        points wired to its switch (``switch/X:closed`` -> ``closed``,
        ``switch/X:fault_indicator`` -> ``fault_flag``, ``switch/X:open`` /
        ``close`` / ``reset_indicator`` -> the commands). Raises ValueError
        for a kind SCADA does not poll, a device without a comm node, or an
        RTU wired to no switch or to several.
        """
        try:
            kind = DeviceKind(config.kind)
        except ValueError:
            kind = None
        if kind not in (DeviceKind.RTU, *STANDARD_ROLES):
            raise ValueError(f"device {config.id!r}: SCADA polls reclosers, protective relays, sectionalizers and RTUs, not a {config.kind}")
        if config.node is None:
            raise ValueError(f"device {config.id!r} has no comm node: SCADA cannot reach it")
        reporting = config.params.reporting
        mode = ReportMode(reporting.mode)
        topic = reporting.topic or f"rbe/{config.id}"
        if kind is not DeviceKind.RTU:
            return cls(config.id, kind, config.node, config.unit_id, standard_map(kind), dict(STANDARD_ROLES[kind]),
                       config.switch, scan_s, DEFAULT_MEASUREMENTS.get(kind, ()), mode, reporting.broker, topic)
        points = list(config.params.points)
        switches = sorted({p.reference().partition("/")[2] for p in points
                           if p.reference().startswith("switch/") and p.split_source()[1] == "closed"})
        if len(switches) != 1:
            raise ValueError(f"RTU {config.id!r}: SCADA needs exactly one switch/X:closed status point, found {switches or 'none'}")
        [switch] = switches
        roles = {}
        for point in points:
            role = RTU_SWITCH_ROLES.get((point.kind, point.split_source()[1]))
            if role is not None and point.reference() == f"switch/{switch}":
                roles[role] = point.name
        measurements = tuple(p.name for p in points if p.kind == "analog" and p.reference() == f"switch/{switch}")
        return cls(config.id, kind, config.node, config.unit_id, config.params.register_map(config.id), roles, switch,
                   scan_s, measurements, mode, reporting.broker, topic)

    def read_points(self) -> list[Point]:
        names = [self.roles[r] for r in STATUS_ROLES if r in self.roles] + list(self.measurements)
        return [self.register_map.point(n) for n in dict.fromkeys(names)]


def contiguous_runs(points: list[Point], register_map: RegisterMap | None = None,
                    max_gap: int = 16) -> list[tuple[ModbusTable, int, int, list[Point]]]:
    """Group points into (table, start address, count, points) runs, so a read never touches an unmapped address.

    With ``register_map``, a gap of at most ``max_gap`` addresses between two
    wanted points is read through when every address in it is mapped (the
    device answers it): one request instead of two, as a SCADA front end
    builds its scan blocks.
    """
    mapped: dict[ModbusTable, set[int]] = {}
    if register_map is not None:
        for table in ModbusTable:
            mapped[table] = {p.address + i for p in register_map.in_table(table) for i in range(p.register_count)}
    runs: list[tuple[ModbusTable, int, int, list[Point]]] = []
    for table in ModbusTable:
        here = sorted((p for p in points if p.table is table), key=lambda p: p.address)
        for point in here:
            if runs and runs[-1][0] is table:
                t, start, count, members = runs[-1]
                end = start + count
                gap = range(end, point.address)
                if point.address == end or (len(gap) <= max_gap and all(a in mapped.get(table, ()) for a in gap)):
                    runs[-1] = (t, start, point.address + point.register_count - start, members + [point])
                    continue
            runs.append((table, point.address, point.register_count, [point]))
    return runs


Listener = Callable[[str, str, Value, Value | None], None]
"""Called on every change SCADA sees: (device, point, new value, old value or None at the first poll)."""


@dataclass
class DeviceState:
    values: dict[str, Value] = field(default_factory=dict)
    comm_ok: bool = True
    last_poll_s: float = float("nan")
    fault_baseline: float = 0.0
    as_of_s: float = float("-inf")  # device time of the newest information applied (poll sent, or report taken)
    last_sequence: int = -1


class ScadaMaster:
    """Polls devices, accepts their reports, keeps their last known values, alarms on change, carries out commands.

    ``timeout_s`` and ``retries`` are the Modbus master's (per request);
    ``command_attempts`` how often a command is re-issued when it gets no
    answer at all. ``integrity_s`` is the poll period of a device that reports
    by exception (``rbe`` mode); ``accept_reports=False`` makes a poll-only
    master; ``reports_node`` is where its MQTT client for reports sits
    (default ``node``). ``spread_scans`` spreads the devices' first polls
    evenly over each one's poll period instead of polling all at once at the
    start. The master registers with no world service itself; the
    application that owns it does.
    """

    def __init__(self, world: World, comm: Any, node: str, devices: list[PolledDevice], *, entity: str,
                 timeout_s: float = 1.0, retries: int = 2, command_attempts: int = 3,
                 integrity_s: float = 3600.0, accept_reports: bool = True, reports_node: str | None = None,
                 spread_scans: bool = False) -> None:
        self.world = world
        self.node = node
        self.entity = entity
        self.devices = {d.device: d for d in devices}
        self.state = {d.device: DeviceState() for d in devices}
        self.command_attempts = command_attempts
        self.integrity_s = integrity_s
        self.accept_reports = accept_reports
        self.spread_scans = spread_scans
        self._clients = self._open_clients(comm, node, devices, timeout_s, retries)
        self._listeners: list[Listener] = []
        self._changed = world.env.event()
        self.polls = self.poll_failures = self.commands = self.command_failures = 0
        self.reports = self.reports_stale = self.reports_rejected = self.polls_superseded = 0
        self._tracked = {d.device: frozenset(p.name for p in d.read_points()) for d in devices}
        self._channels: list[tuple[CrewChannel, list[str]]] = []
        if accept_reports:
            by_broker: dict[str, list[str]] = {}
            for d in devices:
                if d.reports and d.report_broker is not None and d.report_topic is not None:
                    by_broker.setdefault(d.report_broker, []).append(d.report_topic)
            for index, (broker, topics) in enumerate(sorted(by_broker.items())):
                client = comm.mqtt_client(reports_node or node, f"{entity}-scada-rbe{index}", broker)
                self._channels.append((CrewChannel(world, client), sorted(set(topics))))

    def _open_clients(self, comm: Any, node: str, devices: list[PolledDevice], timeout_s: float,
                      retries: int) -> dict[str, Any]:
        """One Modbus client per device (a master over another protocol opens its own sessions instead)."""
        return {d.device: comm.modbus_client(node, d.node, timeout_s=timeout_s, retries=retries) for d in devices}

    def poll_period_s(self, device: PolledDevice) -> float:
        """Seconds between two polls of ``device``: its scan, or the integrity period if it reports everything."""
        if self.accept_reports and device.reporting is ReportMode.RBE:
            return self.integrity_s
        return device.scan_s

    # -- what the DMS reads --------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def changed(self) -> Any:
        """A SimPy event that fires at the next change SCADA sees (yield it to wait)."""
        return self._changed

    def value(self, device: str, role: str) -> Value | None:
        point = self.devices[device].roles.get(role)
        return None if point is None else self.state[device].values.get(point)

    def switch_states(self) -> dict[str, bool]:
        """Known positions of the switches that devices report (last good poll)."""
        found = {}
        for name, dev in self.devices.items():
            closed = self.value(name, "closed")
            if dev.switch is not None and closed is not None:
                found[dev.switch] = bool(closed)
        return found

    def saw_fault(self, device: str) -> bool:
        flag = self.value(device, "fault_flag")
        count = self.value(device, "fault_count")
        rose = count is not None and float(count) > self.state[device].fault_baseline
        return bool(flag) or rose

    def fault_reports(self) -> set[str]:
        """Switches whose device saw fault current since the last acknowledgement."""
        return {d.switch for n, d in self.devices.items() if d.switch and self.saw_fault(n)}

    def monitored_switches(self) -> set[str]:
        return {d.switch for d in self.devices.values() if d.switch and ("fault_flag" in d.roles or "fault_count" in d.roles)}

    def remote_switches(self) -> dict[str, str]:
        """Switch -> device for the switches SCADA can open and close."""
        return {d.switch: n for n, d in self.devices.items() if d.switch and "open" in d.roles and "close" in d.roles}

    def acknowledge_faults(self, keep: Iterable[str] = ()) -> Generator[Any, Any, None]:
        """Take the present fault counts as the new baseline and reset fault indicators (except the devices in ``keep``)."""
        kept = set(keep)
        for name, dev in self.devices.items():
            if name in kept:
                continue
            count = self.value(name, "fault_count")
            if count is not None:
                self.state[name].fault_baseline = float(count)
            if "fault_reset" in dev.roles and self.value(name, "fault_flag"):
                yield from self.command(name, "fault_reset")

    # -- processes -----------------------------------------------------------
    def start(self) -> None:
        for channel, topics in self._channels:
            self.world.process(channel.start([(topic, self._on_report) for topic in topics]))
        count = len(self.devices)
        for index, device in enumerate(self.devices.values()):
            self.world.process(self._poll_loop(device, index / count if self.spread_scans else 0.0))

    def _poll_loop(self, device: PolledDevice, phase: float = 0.0) -> Generator[Any, Any, None]:
        """Poll ``device`` first at ``phase`` (a fraction of its period) after the start, then every period."""
        runs = contiguous_runs(device.read_points(), device.register_map)
        period = self.poll_period_s(device)
        if phase > 0.0:
            yield self.world.timeout(phase * period)
        while True:
            yield from self.poll(device, runs)
            yield self.world.timeout(period)

    def _on_report(self, message: MqttMessage) -> None:
        """A report by exception arrived: apply it unless it is malformed, unknown, a copy, or older than a poll."""
        try:
            report = PointReport.decode(message.payload)
        except ReportDecodeError as error:
            self.reports_rejected += 1
            self.world.log("scada_report_rejected", scada=self.entity, topic=message.topic, reason=str(error))
            return
        device = self.devices.get(report.device)
        if device is None or not device.reports:
            self.reports_rejected += 1
            self.world.log("scada_report_rejected", scada=self.entity, topic=message.topic,
                           reason=f"device {report.device!r} does not report to this master")
            return
        state = self.state[report.device]
        if report.sequence <= state.last_sequence or report.time_s < state.as_of_s:
            self.reports_stale += 1
            return
        state.last_sequence = report.sequence
        tracked = self._tracked[device.device]
        fresh = {name: value for name, value in report.values if name in tracked}
        self.reports += 1
        self.world.record(f"scada/{device.device}", "report_latency", self.world.now - report.time_s, "s")
        self._apply(device, fresh, as_of_s=report.time_s, via="report", event_s=report.time_s)

    def poll(self, device: PolledDevice, runs: list[tuple[ModbusTable, int, int, list[Point]]] | None = None) -> Generator[Any, Any, bool]:
        """Read every point of ``device`` once; True when all reads answered."""
        client = self._clients[device.device]
        state = self.state[device.device]
        self.polls += 1
        readers = {
            ModbusTable.COILS: client.read_coils, ModbusTable.DISCRETE_INPUTS: client.read_discrete_inputs,
            ModbusTable.HOLDING_REGISTERS: client.read_holding_registers, ModbusTable.INPUT_REGISTERS: client.read_input_registers,
        }
        fresh: dict[str, Value] = {}
        sent_s = self.world.now
        try:
            for table, start, count, points in runs if runs is not None else contiguous_runs(device.read_points(), device.register_map):
                words = yield from readers[table](device.unit_id, start, count)
                for point in points:
                    offset = point.address - start
                    fresh[point.name] = decode_value(point, list(words[offset:offset + point.register_count]),
                                                     device.register_map.word_order_of(point))
        except (ModbusTimeoutError, ModbusError, CommError) as error:
            self._poll_failed(device, type(error).__name__)
            return False
        self._poll_answered(device)
        if state.as_of_s > sent_s:
            # A report taken after this request went out was applied meanwhile: the poll's values may be older.
            self.polls_superseded += 1
            return True
        self._apply(device, fresh, as_of_s=sent_s, via="poll")
        return True

    def _poll_failed(self, device: PolledDevice, error: str) -> None:
        """A poll got no (good) answer: count it, and raise the communication alarm on the first in a row."""
        state = self.state[device.device]
        self.poll_failures += 1
        if state.comm_ok:
            state.comm_ok = False
            self.world.log("scada_comm_alarm", scada=self.entity, device=device.device, status="lost", error=error)
            self.world.record(f"scada/{device.device}", "comm_ok", 0.0, "bool")

    def _poll_answered(self, device: PolledDevice) -> None:
        """A poll was answered: clear the communication alarm if it was raised."""
        state = self.state[device.device]
        if not state.comm_ok:
            state.comm_ok = True
            self.world.log("scada_comm_alarm", scada=self.entity, device=device.device, status="restored")
            self.world.record(f"scada/{device.device}", "comm_ok", 1.0, "bool")
        state.last_poll_s = self.world.now

    def _apply(self, device: PolledDevice, fresh: Mapping[str, Value], *, as_of_s: float, via: str,
               event_s: float | None = None) -> None:
        """Take new values of ``device``'s points (from a poll or a report): record, alarm, tell listeners."""
        state = self.state[device.device]
        state.as_of_s = max(state.as_of_s, as_of_s)
        changes = []
        for name, value in fresh.items():
            old = state.values.get(name)
            if old != value:
                changes.append((name, value, old))
                self.world.record(f"scada/{device.device}", name, float(value) if not isinstance(value, str) else float("nan"), device.register_map.point(name).unit)
                if isinstance(value, bool) and old is not None:
                    self.world.log("scada_alarm", scada=self.entity, device=device.device, point=name, value=value, previous=old)
                if old is not None and not device.register_map.point(name).unit:
                    self.world.log("scada_point_change", scada=self.entity, device=device.device, point=name, value=value,
                                   via=via, event_s=event_s if event_s is not None else float("nan"))
        state.values.update(fresh)
        for name, value, old in changes:
            for listener in self._listeners:
                listener(device.device, name, value, old)
        if changes and not self._changed.triggered:
            event, self._changed = self._changed, self.world.env.event()
            event.succeed()

    def command(self, device: str, role: str) -> Generator[Any, Any, bool]:
        """Write the command coil of ``role`` (1, momentary); True when a device acknowledged it.

        Each of ``command_attempts`` is a Modbus write with the master's own
        timeout and retries; the outcome, attempts and time taken are logged
        as a ``scada_command`` event.
        """
        dev = self.devices[device]
        point = dev.register_map.point(dev.roles[role])
        started = self.world.now
        self.commands += 1
        outcome = "timeout"
        attempts = 0
        select_name = f"{point.name}.select"
        select = dev.register_map.point(select_name) if select_name in dev.register_map else None
        for attempts in range(1, self.command_attempts + 1):
            try:
                if select is not None:  # select-before-operate: the select coil first, then the operate coil
                    yield from self._clients[device].write_coil(dev.unit_id, select.address, True)
                yield from self._clients[device].write_coil(dev.unit_id, point.address, True)
                outcome = "ok"
                break
            except ModbusTimeoutError:
                outcome = "timeout"
            except ModbusError as error:
                outcome = f"exception {int(error.code):02d}"
                break
            except CommError:
                outcome = "comm_error"
        if outcome != "ok":
            self.command_failures += 1
        self.world.log("scada_command", scada=self.entity, device=device, command=role, point=point.name,
                       outcome=outcome, attempts=attempts, duration_s=self.world.now - started)
        return outcome == "ok"

    def refresh(self, device: str) -> Generator[Any, Any, bool]:
        """Poll ``device`` now (a check-back after a command)."""
        return (yield from self.poll(self.devices[device]))
