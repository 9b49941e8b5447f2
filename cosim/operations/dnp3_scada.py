"""SCADA over DNP3: the same point database, alarms and commands as the Modbus master, fed by DNP3 outstations.

One job: give the DMS what :class:`~cosim.operations.scada.ScadaMaster` gives
it -- last known values by role, switch states, fault reports, commands with a
check-back -- when the field devices are DNP3 outstations. Per device a
:class:`~cosim.operations.dnp3_master.Dnp3MasterSession` runs the usual
startup (disable unsolicited, integrity poll, clear restart, enable
unsolicited), then an integrity poll every ``integrity_s``; between polls the
devices report by exception: every time-stamped event in an unsolicited
response is applied in order, as a report at the device's time of the change
(so a trip and its reclose both reach the DMS, however close together).

Point names come from each device's DNP3 map (data, as its Modbus register
map is), so the DMS's roles (``closed``, ``locked_out``, ``fault_count``,
``fault_flag``; commands ``open``, ``close``, ``reset``, ``fault_reset``) mean
the same points over both protocols. A command is the CROB the DNP3 map
gives for the role's coil, by select-before-operate (IEEE 1815-2012 clause
4.4.3.1); it succeeds when the OPERATE's echo says SUCCESS.

Simulated time; every request, response, unsolicited report and confirm is a
``dnp3`` message in the trace.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

import simpy

from cosim.comm.dnp3 import CommandStatus, Crob, FunctionCode, OpType, TripClose
from cosim.kernel import World
from cosim.kernel.clock import delay_until
from devices.protocols.dnp3_points import ControlMode, Dnp3PointMap
from devices.registermap import Value

from .dnp3_master import Dnp3MasterSession, Heard, PointChange, scales_of
from .scada import PolledDevice, ScadaMaster

PROTOCOL = "dnp3"


@dataclass(frozen=True)
class Outstation:
    """How the master reaches one device over DNP3: its link address and its DNP3 map."""

    address: int
    points: Dnp3PointMap


def crob_for(points: Dnp3PointMap, coil: str) -> tuple[int, Crob] | None:
    """The control index and CROB that drive ``coil`` in a DNP3 map (None: no control drives it)."""
    for index, control in enumerate(points.controls):
        if control.mode is ControlMode.PAIRED and coil in (control.close, control.trip):
            code = TripClose.CLOSE if coil == control.close else TripClose.TRIP
            return index, Crob(OpType.PULSE_ON, code, 1, 100, 100)
        if control.mode is ControlMode.PULSE and coil == control.close:
            return index, Crob(OpType.PULSE_ON, TripClose.NUL, 1, 100, 100)
        if control.mode is ControlMode.LATCH and coil == control.close:
            return index, Crob(OpType.LATCH_ON)
    return None


class Dnp3ScadaMaster(ScadaMaster):
    """A :class:`ScadaMaster` whose devices are DNP3 outstations (``outstations`` by device id).

    ``clock_origin_ms`` is the master's UTC clock at simulated time 0, to
    place the outstations' event time stamps on the simulated time line.
    """

    def __init__(self, world: World, comm: Any, node: str, devices: list[PolledDevice],
                 outstations: Mapping[str, Outstation], *, entity: str, clock_origin_ms: int, master_address: int = 1,
                 timeout_s: float = 5.0, command_attempts: int = 3, integrity_s: float = 3600.0) -> None:
        super().__init__(world, comm, node, devices, entity=entity, timeout_s=timeout_s, retries=0,
                         command_attempts=command_attempts, integrity_s=integrity_s, accept_reports=False)
        self.comm, self.node = comm, node
        self.timeout_s = timeout_s
        self.clock_origin_ms = clock_origin_ms
        self.outstations = dict(outstations)
        self.sessions = {d.device: Dnp3MasterSession(master_address, self.outstations[d.device].address,
                                                     scales_of(self.outstations[d.device].points, d.register_map))
                         for d in devices}
        self._by_source = {(d.node, self.outstations[d.device].address): d.device for d in devices}
        self._locks = {d.device: simpy.Resource(world.env) for d in devices}  # one request at a time (clause 4.4.1)
        self._waiting: dict[str, tuple[int, simpy.Event]] = {}
        comm.attach(node, PROTOCOL, self._on_message)

    def _open_clients(self, comm: Any, node: str, devices: list[PolledDevice], timeout_s: float,
                      retries: int) -> dict[str, Any]:
        return {}  # DNP3 sessions instead (built in __init__)

    def poll_period_s(self, device: PolledDevice) -> float:
        return self.integrity_s  # events come unsolicited: only the integrity poll is periodic

    # -- processes -----------------------------------------------------------
    def start(self) -> None:
        for device in self.devices.values():
            self.world.process(self._session(device))

    def _session(self, device: PolledDevice) -> Generator[Any, Any, None]:
        session = self.sessions[device.device]
        yield from self._ask(device.device, *session.set_unsolicited(False))
        yield from self.poll(device)
        yield from self._ask(device.device, *session.clear_restart())
        yield from self._ask(device.device, *session.set_unsolicited(True))
        due = self.world.now + self.integrity_s
        while True:
            yield self.world.timeout(delay_until(self.world.now, due))
            yield from self.poll(device)
            due += self.integrity_s

    def _send(self, device: str, octets: bytes, kind: str) -> None:
        self.comm.send(self.node, self.devices[device].node, PROTOCOL, octets, len(octets), kind=kind, info=octets.hex())

    def _ask(self, device: str, sequence: int, octets: bytes) -> Generator[Any, Any, Heard | None]:
        """Send one request and wait for its response (None after the response timeout)."""
        with self._locks[device].request() as turn:
            yield turn
            answered = self.world.env.event()
            self._waiting[device] = (sequence, answered)
            self._send(device, octets, "request")
            yield answered | self.world.timeout(self.timeout_s)
            self._waiting.pop(device, None)
            return answered.value if answered.triggered else None

    def _on_message(self, message: Any) -> None:
        octets = bytes(message.payload)
        source = int.from_bytes(octets[6:8], "little") if len(octets) >= 8 else -1
        device = self._by_source.get((message.src, source))
        if device is None:
            message.status, message.reason = "rejected", "no outstation known at that node and address"
            return
        for heard in self.sessions[device].receive(octets):
            if heard.reply:
                self._send(device, heard.reply, "confirm")
            if heard.response.control.unsolicited:
                self._take_events(device, heard.changes)
                continue
            waiting = self._waiting.get(device)
            if waiting is not None and waiting[0] == heard.response.control.sequence and not waiting[1].triggered:
                waiting[1].succeed(heard)

    # -- values --------------------------------------------------------------
    def _named(self, device: str, change: PointChange) -> tuple[str, Value] | None:
        points = self.outstations[device].points
        if change.kind == "binary" and change.index < len(points.binary_inputs):
            return points.binary_inputs[change.index].point, bool(change.value)
        if change.kind == "analog" and change.name is not None and change.engineering is not None:
            return change.name, change.engineering
        return None

    def _take_events(self, device: str, changes: list[PointChange]) -> None:
        """Each event as a report at the device's time of the change, in the order the outstation sent them."""
        dev, tracked = self.devices[device], self._tracked[device]
        for change in changes:
            named = self._named(device, change)
            if named is None or named[0] not in tracked:
                continue
            self.reports += 1
            event_s = (change.time_ms - self.clock_origin_ms) / 1000.0 if change.time_ms else self.world.now
            self.world.record(f"scada/{device}", "report_latency", self.world.now - event_s, "s")
            self._apply(dev, dict([named]), as_of_s=event_s, via="report", event_s=event_s)

    def poll(self, device: PolledDevice, runs: Any = None) -> Generator[Any, Any, bool]:
        """An integrity poll (class 1, 2, 3, then 0); True when it was answered."""
        self.polls += 1
        sent_s = self.world.now
        heard = yield from self._ask(device.device, *self.sessions[device.device].integrity_poll())
        if heard is None:
            self._poll_failed(device, "response timeout")
            return False
        self._poll_answered(device)
        events = [c for c in heard.changes if c.event]
        self._take_events(device.device, events)
        fresh = dict(n for c in heard.changes if not c.event and (n := self._named(device.device, c)) is not None
                     and n[0] in self._tracked[device.device])
        self._apply(device, fresh, as_of_s=sent_s, via="poll")
        return True

    def command(self, device: str, role: str) -> Generator[Any, Any, bool]:
        """Select-before-operate of the CROB that drives ``role``'s coil; True when the OPERATE succeeded."""
        dev = self.devices[device]
        coil = dev.roles[role]
        target = crob_for(self.outstations[device].points, coil)
        started = self.world.now
        self.commands += 1
        outcome = "no DNP3 control drives it"
        attempts = 0
        session = self.sessions[device]
        index, crob = target if target is not None else (0, Crob(OpType.NUL))
        for attempts in range(1, self.command_attempts + 1 if target is not None else 1):
            selected = yield from self._ask(device, *session.control(FunctionCode.SELECT, index, crob))
            if selected is None:
                outcome = "timeout"
                continue
            status = _status(selected)
            if status is CommandStatus.SUCCESS:
                operated = yield from self._ask(device, *session.control(FunctionCode.OPERATE, index, crob))
                if operated is None:
                    outcome = "timeout"
                    continue
                status = _status(operated)
            outcome = "ok" if status is CommandStatus.SUCCESS else f"status {status.name if status else 'missing'}"
            break
        if outcome != "ok":
            self.command_failures += 1
        self.world.log("scada_command", scada=self.entity, device=device, command=role, point=coil,
                       outcome=outcome, attempts=attempts, duration_s=self.world.now - started)
        return outcome == "ok"


def _status(heard: Heard) -> CommandStatus | None:
    """The control status echoed in a response (None when the response carries no control object)."""
    for header in heard.response.headers:
        for _, obj in header.items:
            status = getattr(obj, "status", None)
            if isinstance(status, CommandStatus):
                return status
    return None
