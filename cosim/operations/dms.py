"""The DMS process: carries out FLISR over SCADA and field crews, then returns to normal.

One job: sequence the plan of :mod:`cosim.operations.flisr` in simulated
time. It waits for SCADA to report a protective device that stays open
(a recloser locked out, or a relay's breaker open after a trip), locates the
fault from the devices' fault reports, opens the isolating switches (Modbus
commands with a check-back poll, or a crew order for a manual switch),
recloses the upstream device, closes the normally-open ties the power flow
on its own model accepts, sends a crew to repair the faulted zone and, once
the crew reports the repair, switches back to the normal configuration.

The DMS's picture of the network is ``states``: switch positions from SCADA
polls and from crew reports. It never reads the live grid. Every step is an
event in the log (``flisr_*``), and the times of each incident are kept in
``incidents`` for the run summary and the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Generator

from cosim.comm.interfaces import MqttMessage
from cosim.kernel import World

from .crews import CrewChannel, WorkOrder, WorkReport, orders_topic, reports_topic
from .dms_model import DmsModel
from .flisr import customers_of, locate_fault, plan_restoration, return_to_normal
from .scada import ScadaMaster


class CrewLink:
    """The DMS's end of the crew work-order channel (an MQTT client kept connected).

    An order without a report after ``resend_s`` is sent again (the crews
    recognise its id), in case the crews' client was offline when it went out.
    """

    def __init__(self, world: World, client: Any, team: str, resend_s: float = 3600.0) -> None:
        self.world = world
        self.channel = CrewChannel(world, client)
        self.team = team
        self.resend_s = resend_s
        self._waiting: dict[int, Any] = {}
        self._next_id = 0

    def start(self) -> Generator[Any, Any, None]:
        yield from self.channel.start([(reports_topic(self.team), self._on_report)])

    def _on_report(self, message: MqttMessage) -> None:
        try:
            report = WorkReport.decode(message.payload)
        except (ValueError, KeyError):
            self.world.log("crew_report_rejected", payload=message.payload[:80].decode("latin-1"))
            return
        event = self._waiting.pop(report.order_id, None)
        if event is not None and not event.triggered:  # a DUP copy finds nothing to wake
            event.succeed(report)

    def order(self, task: str, switch: str = "", buses: tuple[str, ...] = ()) -> Generator[Any, Any, WorkReport]:
        """Send a work order and wait for its report (simulated time passes: travel and work)."""
        self._next_id += 1
        order = WorkOrder(self._next_id, task, switch, buses)
        done = self.world.env.event()
        self._waiting[order.order_id] = done
        self.world.log("crew_order", team=self.team, order_id=order.order_id, task=task, switch=switch, buses=list(buses))
        while True:
            yield from self.channel.publish(orders_topic(self.team), order.encode())
            yield self.world.env.any_of([done, self.world.timeout(self.resend_s)])
            if done.triggered:
                report = done.value
                assert isinstance(report, WorkReport)
                return report
            self.world.log("crew_order_resent", team=self.team, order_id=order.order_id)


@dataclass
class Incident:
    """Times (simulated s) of one FLISR incident; NaN until reached."""

    device: str
    detected_s: float
    located_s: float = float("nan")
    isolated_s: float = float("nan")
    upstream_restored_s: float = float("nan")
    downstream_restored_s: float = float("nan")
    repaired_s: float = float("nan")
    normal_s: float = float("nan")
    faulted_buses: tuple[str, ...] = ()
    ties_closed: tuple[str, ...] = ()
    stranded_customers: int = 0
    failed_steps: list[str] = field(default_factory=list)


class Dms:
    """FLISR for the switches SCADA reports and the ties in ``ties``.

    ``confirm_s`` is how long a command's check-back may take before the
    command is re-issued (``command_rounds`` times in a row); after that the
    DMS waits ``retry_wait_s`` and tries again, for ``remote_patience_s`` at
    most, then sends a crew to operate the switch by hand. Fault reports
    after a reclose that held are acknowledged ``momentary_hold_s`` later.

    ``processing_delay_s`` is the time the DMS takes to turn an alarm into a
    located fault and a plan (state estimation, topology processing);
    ``operator_delay_s`` the time the operator takes to review and accept a
    switching plan before it is executed (0 for closed-loop automation).
    During isolation a switch that does not answer within
    ``isolation_patience_s`` is given up: the DMS isolates at the next
    switch beyond it (a larger zone) and restores what it can, and a crew is
    sent to open the silent switch by hand so the zone can then be narrowed.
    The repair crew is ordered as soon as the fault is located. When the
    located zone holds switches that report nothing (manual disconnects), a
    crew is sent to ``patrol`` it (if ``patrol``): the damage it finds narrows
    the zone to the part those switches can cut off, and crews open them.
    """

    def __init__(self, world: World, scada: ScadaMaster, model: DmsModel, *, entity: str, ties: list[str],
                 crews: CrewLink | None = None, confirm_s: float = 10.0, command_rounds: int = 3,
                 restore_to_normal: bool = True, retry_wait_s: float = 30.0, remote_patience_s: float = 1800.0,
                 momentary_hold_s: float = 60.0, processing_delay_s: float = 0.0, operator_delay_s: float = 0.0,
                 isolation_patience_s: float = 0.0, patrol: bool = True) -> None:
        self.world = world
        self.scada = scada
        self.model = model
        self.graph = model.graph
        self.entity = entity
        self.ties = ties
        self.crews = crews
        self.confirm_s = confirm_s
        self.command_rounds = command_rounds
        self.restore_to_normal = restore_to_normal
        self.retry_wait_s = retry_wait_s
        self.remote_patience_s = remote_patience_s
        self.states = self.graph.normal_states()
        self.incidents: list[Incident] = []
        self.busy = False
        self.momentary_hold_s = momentary_hold_s
        self.processing_delay_s = processing_delay_s
        self.operator_delay_s = operator_delay_s
        self.isolation_patience_s = isolation_patience_s
        self.patrol = patrol
        self._settling = False
        self._listeners: list[Callable[[], None]] = []
        scada.subscribe(self._on_scada_change)

    def on_states_changed(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _set_state(self, switch: str, closed: bool) -> None:
        if self.states.get(switch) != closed:
            self.states[switch] = closed
            for listener in self._listeners:
                listener()

    def _on_scada_change(self, device: str, point: str, value: Any, old: Any) -> None:
        dev = self.scada.devices[device]
        if dev.switch is not None and point == dev.roles.get("closed"):
            self._set_state(dev.switch, bool(value))

    # -- the process -----------------------------------------------------------
    def run(self) -> Generator[Any, Any, None]:
        if self.crews is not None:
            yield from self.crews.start()
        gave_up: tuple[str, Any] | None = None  # an incident that could not be completed: wait for news
        while True:
            device = self._tripped_device()
            if device is not None and not self.busy and (device, self.scada.value(device, "fault_count")) != gave_up:
                # Re-checked at once after an incident: a device that locked out meanwhile is not missed.
                self.busy = True
                try:
                    incident = yield from self.handle(device)
                finally:
                    self.busy = False
                gave_up = (device, self.scada.value(device, "fault_count")) if incident.failed_steps or math.isnan(incident.located_s) else None
                continue
            if device is None and not self.busy and not self._settling and self.scada.fault_reports():
                self.world.process(self._settle())
            yield self.scada.changed()

    def _settle(self) -> Generator[Any, Any, None]:
        """Fault reports with every protective device closed: a reclose held (a temporary fault).

        After ``momentary_hold_s`` with no device staying open, the reports
        are acknowledged (indicators reset, trip counts taken as the new
        baseline), so a later fault is located from fresh reports only. The
        hold must outlast a reclosing sequence, or a permanent fault's
        reports would be cleared before the lockout.
        """
        self._settling = True
        try:
            yield self.world.timeout(self.momentary_hold_s)
            if not self.busy and self._tripped_device() is None and self.scada.fault_reports():
                self.world.log("flisr_momentary", dms=self.entity, reports=sorted(self.scada.fault_reports()))
                yield from self.scada.acknowledge_faults()
        finally:
            self._settling = False

    def _tripped_device(self) -> str | None:
        """A protective device that stays open after a trip (lockout, or a non-reclosing breaker that saw fault)."""
        for name, dev in sorted(self.scada.devices.items()):
            if dev.switch is None or not self.graph.normally_closed[self.graph.switch_index(dev.switch)]:
                continue
            if "locked_out" in dev.roles:
                if self.scada.value(name, "locked_out"):
                    return name
            elif "fault_count" in dev.roles and "open" in dev.roles and dev.kind.value != "sectionalizer":
                if self.scada.value(name, "closed") is False and self.scada.saw_fault(name):
                    return name
        return None

    def handle(self, device: str) -> Generator[Any, Any, Incident]:
        """One incident, from detection to the normal configuration (or as far as it can go)."""
        world, graph = self.world, self.graph
        tripped = self.scada.devices[device].switch
        assert tripped is not None
        incident = Incident(device, world.now)
        self.incidents.append(incident)
        world.log("flisr_detected", dms=self.entity, device=device, switch=tripped)
        if self.processing_delay_s > 0:
            yield world.timeout(self.processing_delay_s)
        prefault = {**self.states, tripped: True}
        was_energised = graph.energised_buses(prefault)
        location = locate_fault(graph, prefault, self.scada.fault_reports(), self.scada.monitored_switches())
        if location is None:
            incident.failed_steps.append("locate: no fault report")
            world.log("flisr_not_located", dms=self.entity, device=device)
            return incident
        incident.located_s = world.now
        incident.faulted_buses = graph.sites(location.faulted_buses)
        world.log("flisr_located", dms=self.entity, upstream=location.upstream, isolating=list(location.isolating),
                  buses=list(incident.faulted_buses), customers=customers_of(graph, location.faulted_buses))
        # The repair crew sets out now: travel overlaps isolation and restoration.
        repair = world.process(self.crews.order("repair", buses=incident.faulted_buses)) if self.crews is not None else None
        if self.operator_delay_s > 0:
            yield world.timeout(self.operator_delay_s)  # the operator reviews and accepts the plan

        located = set(location.faulted_buses)
        if self.patrol and self.crews is not None and self._interior_switches(located):
            report = yield from self.crews.order("patrol", buses=incident.faulted_buses)
            damaged = self._damage_zone(report.buses, located)
            world.log("flisr_patrolled", dms=self.entity, found=list(report.buses),
                      buses=sorted(graph.buses[b] for b in damaged) if damaged else [])
            if damaged:
                located = damaged
        zone, silent = yield from self._isolate(located, tripped, prefault)
        if zone is None:
            incident.failed_steps.append("isolate: no reachable boundary")
            world.log("flisr_isolation_failed", dms=self.entity, failed=incident.failed_steps)
            return incident
        incident.isolated_s = world.now
        world.log("flisr_isolated", dms=self.entity, switches=self._boundary(zone, prefault), widened_past=silent)
        yield from self._restore(incident, zone, tripped, prefault, was_energised)
        incident.upstream_restored_s = incident.downstream_restored_s = world.now
        world.log("flisr_restored", dms=self.entity, ties=list(incident.ties_closed),
                  stranded_customers=incident.stranded_customers,
                  seconds_since_detection=world.now - incident.detected_s)

        if silent and self.crews is not None:
            # Narrow the zone: crews open the switches that did not answer, then the healthy part comes back.
            for switch in silent:
                if not (yield from self.operate(switch, False)):
                    incident.failed_steps.append(f"isolate {switch}")
            if not incident.failed_steps:
                yield from self._restore(incident, located, tripped, prefault, was_energised)
                world.log("flisr_narrowed", dms=self.entity, switches=silent, stranded_customers=incident.stranded_customers)

        if repair is None:
            return incident
        report = yield repair
        incident.repaired_s = world.now
        world.log("flisr_repaired", dms=self.entity, travel_s=report.travel_s, work_s=report.work_s)
        if self.restore_to_normal:
            # A protective device that tripped meanwhile for another fault stays open and keeps its report: closing it
            # would close onto that fault; it is the next incident's (the run loop finds it as soon as this one ends).
            others = self._tripped_meanwhile(tripped, set(self._boundary(zone, prefault)) | set(silent))
            for switch, close in return_to_normal(graph, self.states):
                if close and switch in others.values():
                    continue
                if not (yield from self.operate(switch, close)):
                    incident.failed_steps.append(f"normal {switch}")
            yield from self.scada.acknowledge_faults(keep=others)
            incident.normal_s = world.now
            world.log("flisr_normal", dms=self.entity, failed=incident.failed_steps)
        return incident

    def _tripped_meanwhile(self, tripped: str, isolating: set[str]) -> dict[str, str]:
        """Protective devices (device -> switch) open now after seeing fault current, other than this incident's."""
        found = {}
        for name, dev in self.scada.devices.items():
            if dev.switch is None or dev.switch == tripped or dev.switch in isolating or "fault_count" not in dev.roles:
                continue
            if self.scada.value(name, "closed") is False and self.scada.saw_fault(name):
                found[name] = dev.switch
        return found

    def _interior_switches(self, zone: set[int]) -> list[str]:
        """Switches inside ``zone`` (both ends of their branch in it): it can be cut smaller by hand."""
        graph = self.graph
        return [n for n, k in zip(graph.switch_names, graph.switch_branch) if graph.branch_from[k] in zone and graph.branch_to[k] in zone]

    def _damage_zone(self, found: tuple[str, ...], zone: set[int]) -> set[int]:
        """The smallest zone, cut at every switch, that holds the damage a patrol found (empty if none in ``zone``).

        Damage on a branch belongs to the zone at its end away from the
        branch's switch (a switch at its other end cuts it off).
        """
        graph = self.graph
        line_buses = [b for b in zone if graph.bus_sites and len(graph.bus_sites[b]) == 2 and set(graph.bus_sites[b]) <= set(found)]
        if line_buses:
            return {min(line_buses)}  # damage at both ends of a line switched at both: the line between its switches
        at = [graph.buses.index(b) for b in found if b in graph.buses and graph.buses.index(b) in zone]
        cut = list(graph.switch_names)
        if len(at) == 2:
            a, b = at
            for k, (f, t) in enumerate(zip(graph.branch_from, graph.branch_to)):
                if {f, t} == {a, b}:
                    switched = {graph.switch_bus[s] for s, kk in enumerate(graph.switch_branch) if kk == k}
                    if a in switched and b not in switched:
                        return graph.zone_of_bus(b, cut)
                    if b in switched and a not in switched:
                        return graph.zone_of_bus(a, cut)
                    break
        return set().union(*(graph.zone_of_bus(x, cut) for x in at)) if at else set()

    def _boundary(self, zone: set[int], prefault: dict[str, bool]) -> list[str]:
        return [s for s in self.graph.boundary_switches(zone, self.graph.switch_names) if prefault.get(s, True)]

    def _isolate(self, zone: set[int], tripped: str, prefault: dict[str, bool]) -> Generator[Any, Any, tuple[set[int] | None, list[str]]]:
        """Open the switches around ``zone``; one that does not answer widens the zone past it.

        A remote switch silent for ``isolation_patience_s`` is given up and the
        zone grows to the next remotely controlled (or already open) switches
        beyond it, so isolation never waits on one unreachable device.
        Returns the isolated zone (None if nothing can isolate it) and the
        switches given up.
        """
        graph = self.graph
        silent: list[str] = []
        opened: set[str] = set()
        while True:
            pending = [s for s in self._boundary(zone, prefault) if s != tripped and s not in opened]
            if not pending:
                return zone, silent
            switch = pending[0]
            if (yield from self.operate(switch, False, patience_s=self.isolation_patience_s, crew_fallback=False)):
                opened.add(switch)
                continue
            silent.append(switch)
            s = graph.switch_index(switch)
            k = graph.switch_branch[s]
            outside = graph.branch_to[k] if graph.branch_from[k] in zone else graph.branch_from[k]
            cut = (set(self.scada.remote_switches()) - set(silent)) | {n for n, c in prefault.items() if not c} | {tripped}
            beyond = graph.zone_of_bus(outside, cut)
            if beyond & graph.source_buses:
                return None, silent  # the silent switch is the only thing between the fault and a source
            zone = zone | beyond
            self.world.log("flisr_isolation_widened", dms=self.entity, silent=switch,
                           buses=sorted(graph.buses[b] for b in zone))

    def _restore(self, incident: Incident, zone: set[int], tripped: str, prefault: dict[str, bool],
                 was_energised: set[int]) -> Generator[Any, Any, None]:
        """Reclose the tripped device unless it bounds ``zone``, then close the ties the model accepts."""
        graph = self.graph
        reclose = tripped not in self._boundary(zone, prefault) and not self.states.get(tripped, False)
        if reclose and not (yield from self.operate(tripped, True)):
            incident.failed_steps.append(f"reclose {tripped}")
        plan, stranded = plan_restoration(graph, self.states, frozenset(zone), was_energised, self.ties, self.model.check)
        for transfer in plan:
            self.world.log("flisr_tie_check", dms=self.entity, tie=transfer.tie, ok=transfer.check.ok,
                           max_loading_pct=transfer.check.max_loading_pct, min_vm_pu=transfer.check.min_vm_pu)
            if not (yield from self.operate(transfer.tie, True)):
                incident.failed_steps.append(f"close tie {transfer.tie}")
        incident.ties_closed = incident.ties_closed + tuple(t.tie for t in plan)
        incident.stranded_customers = sum(customers_of(graph, region) for region in stranded)

    def operate(self, switch: str, close: bool, *, patience_s: float | None = None,
                crew_fallback: bool = True) -> Generator[Any, Any, bool]:
        """Open or close ``switch``: by SCADA command with check-back, or by a crew for a manual switch.

        A locked-out recloser is reset before it is closed (a close command
        alone is refused while the lockout stands). Remote control is retried
        for ``patience_s`` (default ``remote_patience_s``); after that a crew
        operates the switch by hand unless ``crew_fallback`` is False.
        """
        remote = self.scada.remote_switches()
        if switch not in remote:  # a manual switch: crews are the only way, not a fallback
            if self.crews is None:
                self.world.log("flisr_manual_switch_unavailable", dms=self.entity, switch=switch)
                return False
            report = yield from self.crews.order("close" if close else "open", switch=switch)
            if report.done:
                self._set_state(switch, close)
            return report.done
        device = remote[switch]
        if close and "reset" in self.scada.devices[device].roles and self.scada.value(device, "locked_out"):
            yield from self.scada.command(device, "reset")
        give_up = self.world.now + (self.remote_patience_s if patience_s is None else patience_s)
        while True:
            for _ in range(self.command_rounds):
                yield from self.scada.command(device, "close" if close else "open")
                deadline = self.world.now + self.confirm_s
                while self.world.now < deadline:
                    # only a fresh poll confirms: a stale value from before a comm loss proves nothing
                    fresh = yield from self.scada.refresh(device)
                    if fresh and self.scada.value(device, "closed") == close:
                        self._set_state(switch, close)
                        return True
                    yield self.world.timeout(min(1.0, max(deadline - self.world.now, 0.0)))
            if self.world.now >= give_up:
                break
            self.world.log("flisr_command_retry_later", dms=self.entity, switch=switch, close=close, wait_s=self.retry_wait_s)
            yield self.world.timeout(self.retry_wait_s)
        self.world.log("flisr_command_failed", dms=self.entity, switch=switch, close=close)
        if self.crews is None or not crew_fallback:
            return False
        # The remote control does not answer: send a crew to operate the switch by hand.
        report = yield from self.crews.order("close" if close else "open", switch=switch)
        if report.done:
            self._set_state(switch, close)
        return report.done
