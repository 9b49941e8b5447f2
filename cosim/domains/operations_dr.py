"""Operations domain: the Load Management dispatcher of the RTO (PJM-style emergency DR).

The dispatcher learns what it can call only from the CSPs' real-time
availability reports (``pjm/lm/available/<csp>``: MW per resource with its
zone, ZIP code, lead time and DR type). When a reserve shortfall is declared
(the scheduled event ``reserve_shortfall``, see :mod:`cosim.events.dr`), it
chooses DR groups by type x zone or sub-zone x lead time with
:func:`cosim.markets.dispatch.select_load_management`, and sends each CSP its
instruction on ``pjm/lm/dispatch/<csp>`` at the instruction's notification
time (event start minus the group's lead time). The whole event goes to the
market for M&V on ``pjm/lm/event``. Recorded: ``lm_dispatch.csv`` (one row per
instruction), ``lm_dispatch`` events, and the dispatcher's ``dispatched`` and
``shortfall`` MW.

It never touches the grid: the operator's view of DR is the CSPs' reports.
"""

from __future__ import annotations

from typing import Any, Generator

from pydantic import Field

from ..comm import MqttMessage
from ..kernel import World
from ..markets.dispatch import DispatchInstruction, LmRegistration, ReserveShortfall, select_load_management
from ..markets.rules import DrType, LeadTime
from ..markets.wire import decode, encode
from ..nist import Actor, Domain
from ..scenario.durations import Duration
from .context import RunContext
from .markets import MqttEndpoint
from .registry import Params, application

#: World service through which the ``reserve_shortfall`` event reaches the dispatcher.
SERVICE = "lm_dispatch"


class LmDispatcherParams(Params):
    node: str | None = Field(None, description="comm node of the dispatcher's MQTT client (default: the actor id)")
    broker: str
    stale_after: Duration = Field(1800.0, gt=0, description="seconds after which a CSP report is ignored")


class LmDispatcher:
    """The dispatcher's state: the latest availability per CSP, and the shortfall entry point."""

    def __init__(self, world: World, me: str, params: LmDispatcherParams, mqtt: MqttEndpoint) -> None:
        self.world, self.me, self.params, self.mqtt = world, me, params, mqtt
        self.reports: dict[str, tuple[float, list[LmRegistration]]] = {}
        self.events = 0
        self.table = world.recorder.table("lm_dispatch", (
            "event_id", "csp", "dr_type", "zone", "subzone_zips", "lead_time_min", "mw", "resources",
            "notify_at_s", "start_s", "end_s"))

    def on_available(self, message: MqttMessage) -> None:
        header, _ = decode(message.payload)
        regs = [LmRegistration(header["csp"], r["resource_id"], DrType(r["dr_type"]), r["zone"], r["zip"],
                               LeadTime(r["lead_time"]), float(r["available_mw"])) for r in header["resources"]]
        self.reports[header["csp"]] = (self.world.now, regs)

    def declare_shortfall(self, zone: str, mw: float, start_in_min: float, duration_h: float,
                          subzone_zips: list[str] | None, emergency: bool) -> None:
        """Select and schedule DR for a shortfall of ``mw`` MW in ``zone`` starting ``start_in_min`` from now."""
        now = self.world.now
        fresh = [r for t, regs in self.reports.values() if now - t <= self.params.stale_after for r in regs]
        shortfall = ReserveShortfall(mw, zone, now + 60.0 * start_in_min, start_in_min,
                                     frozenset(subzone_zips) if subzone_zips else None, emergency)
        plan = select_load_management(fresh, shortfall)
        self.events += 1
        event_id = f"{self.me}-LM{self.events}"
        end_s = shortfall.start_s + 3600.0 * duration_h
        self.world.log("lm_event", event_id=event_id, zone=zone, subzone_zips=sorted(subzone_zips or []),
                       shortfall_mw=mw, dispatched_mw=plan.dispatched_mw, uncovered_mw=plan.uncovered_mw,
                       start_s=shortfall.start_s, end_s=end_s, instructions=len(plan.instructions),
                       known_resources=len(fresh))
        self.world.record(self.me, "shortfall", mw, "MW")
        self.world.record(self.me, "dispatched", plan.dispatched_mw, "MW")
        for instr in plan.instructions:
            self.table.write((event_id, instr.csp, instr.dr_type.value, instr.zone,
                              " ".join(sorted(instr.subzone_zips or ())), int(instr.lead_time), repr(instr.mw),
                              " ".join(instr.resource_ids), repr(instr.notify_at_s), repr(instr.start_s), repr(end_s)))
            self.world.process(self._send(event_id, instr, end_s))
        self.mqtt.publish("pjm/lm/event", encode({
            "event_id": event_id, "zone": zone, "start_s": shortfall.start_s, "end_s": end_s,
            "instructions": [{"csp": i.csp, "resource_ids": list(i.resource_ids), "mw": i.mw,
                              "lead_time": int(i.lead_time)} for i in plan.instructions]}))

    def _send(self, event_id: str, instr: DispatchInstruction, end_s: float) -> Generator[Any, Any, None]:
        yield self.world.timeout(max(0.0, instr.notify_at_s - self.world.now))
        self.world.log("lm_dispatch", event_id=event_id, csp=instr.csp, dr_type=instr.dr_type.value, zone=instr.zone,
                       lead_time_min=int(instr.lead_time), mw=instr.mw, resources=len(instr.resource_ids))
        self.mqtt.publish(f"pjm/lm/dispatch/{instr.csp}", encode({
            "event_id": event_id, "zone": instr.zone, "subzone_zips": sorted(instr.subzone_zips or ()),
            "dr_type": instr.dr_type.value, "lead_time": int(instr.lead_time), "mw": instr.mw,
            "resource_ids": list(instr.resource_ids), "start_s": instr.start_s, "end_s": end_s}))


@application("lm_dispatcher", {Domain.OPERATIONS}, LmDispatcherParams)
def lm_dispatcher(world: World, actor: Actor, params: LmDispatcherParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Load Management dispatch: DR groups by type, zone/sub-zone and lead time from CSP availability reports."""
    mqtt = MqttEndpoint(world, params.node or actor.actor_id, actor.actor_id, params.broker)
    dispatcher = LmDispatcher(world, actor.actor_id, params, mqtt)
    world.add_service(SERVICE, dispatcher)
    yield from mqtt.start([("pjm/lm/available/+", dispatcher.on_available)])
