"""Operations domain: the Load Management dispatcher of the RTO (PJM-style emergency DR).

The dispatcher learns what it can call only from the CSPs' real-time
availability reports (``pjm/lm/available/<csp>``: MW per resource with its
zone, ZIP code, lead time, DR type and capacity product). When a reserve
shortfall is declared (the scheduled event ``reserve_shortfall``, see
:mod:`cosim.events.dr`), it chooses DR groups by type x zone or sub-zone x
lead time with :func:`cosim.markets.dispatch.select_load_management`, leaving
out resources whose product may not be called then (months, weekdays, hours,
length and number of calls: ``lm_call_refused`` events with the reason). The
simulated day 0 is the date ``day_one``.

Each CSP gets its instruction on ``pjm/lm/dispatch/<csp>`` at the
instruction's notification time (event start minus the group's lead time).
Just before that, the dispatcher re-reads the CSP's latest availability
report: a resource that now reports nothing available (or whose report went
stale) is dropped from the group (``lm_recheck`` event), as PJM's dispatcher
works from current telemetry, not the picture at declaration. Once every
group has been notified, the event as actually dispatched goes to the market
for M&V on ``pjm/lm/event``. The dispatcher may release an event
(:meth:`LmDispatcher.release`, the scheduled event ``lm_release``): a group
not yet notified is never notified (a dispatch cancelled before its lead
time), each notified CSP gets an ``LmRelease`` on ``pjm/lm/release/<csp>``,
and the market the event again with its end at the release (``pjm/lm/event``;
an end at or before the start: cancelled, nothing to settle). Recorded: ``lm_dispatch.csv`` (one row per
instruction sent), ``lm_dispatch`` events, and the dispatcher's
``dispatched`` and ``shortfall`` MW. Payloads are the typed records of
:mod:`cosim.markets.messages`.

It never touches the grid: the operator's view of DR is the CSPs' reports.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Generator
from typing import Any

from pydantic import Field

from ..comm import MqttMessage
from ..kernel import World
from ..markets.dispatch import (
    CallCalendar,
    DispatchInstruction,
    LmRegistration,
    ReserveShortfall,
    select_load_management,
)
from ..markets.messages import LmAvailability, LmDispatch, LmEvent, LmInstructionRecord, LmRelease
from ..markets.rules import DrType, LeadTime, ResourceType
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
    day_one: datetime.date = Field(datetime.date(2029, 7, 18),
                                   description="calendar date of simulated day 0 (product availability: month, weekday)")


class LmDispatcher:
    """The dispatcher's state: the latest availability per CSP, and the shortfall entry point."""

    def __init__(self, world: World, me: str, params: LmDispatcherParams, mqtt: MqttEndpoint) -> None:
        self.world, self.me, self.params, self.mqtt = world, me, params, mqtt
        self.reports: dict[str, tuple[float, list[LmRegistration]]] = {}
        self.events = 0
        self.calls: dict[str, int] = {}     # resource id -> calls this run (the product's call limit)
        self.ends: dict[str, float] = {}    # event id -> its end (the release instant once released)
        self.notified: dict[str, set[str]] = {}   # event id -> CSPs its instructions went to
        self.announced: dict[str, LmEvent] = {}   # event id -> the event as told to the market
        self.table = world.recorder.table("lm_dispatch", (
            "event_id", "csp", "dr_type", "zone", "subzone_zips", "lead_time_min", "mw", "resources",
            "notify_at_s", "start_s", "end_s"))

    def on_available(self, message: MqttMessage) -> None:
        report = LmAvailability.decode(message.payload)
        regs = [LmRegistration(report.csp, r.resource_id, DrType(r.dr_type), r.zone, r.zip, LeadTime(r.lead_time),
                               float(r.available_mw), ResourceType(r.resource_type)) for r in report.resources]
        self.reports[report.csp] = (self.world.now, regs)

    def calendar(self, start_s: float, end_s: float) -> CallCalendar:
        """Month, weekday and hours of the day of a call [start_s, end_s) (hours past midnight may exceed 24)."""
        day = int(start_s // 86400.0)
        date = self.params.day_one + datetime.timedelta(days=day)
        return CallCalendar(date.month, date.weekday() < 5, start_s / 3600.0 - 24 * day, end_s / 3600.0 - 24 * day)

    def _fresh(self, csp: str | None = None) -> list[LmRegistration]:
        now = self.world.now
        return [r for c, (t, regs) in sorted(self.reports.items()) if now - t <= self.params.stale_after
                and (csp is None or c == csp) for r in regs]

    def declare_shortfall(self, zone: str, mw: float, start_in_min: float, duration_h: float,
                          subzone_zips: list[str] | None, emergency: bool) -> None:
        """Select and schedule DR for a shortfall of ``mw`` MW in ``zone`` starting ``start_in_min`` from now."""
        now = self.world.now
        fresh = self._fresh()
        shortfall = ReserveShortfall(mw, zone, now + 60.0 * start_in_min, start_in_min,
                                     frozenset(subzone_zips) if subzone_zips else None, emergency)
        end_s = shortfall.start_s + 3600.0 * duration_h
        plan = select_load_management(fresh, shortfall, self.calendar(shortfall.start_s, end_s), self.calls)
        self.events += 1
        event_id = f"{self.me}-LM{self.events}"
        for refused in plan.refused:
            self.world.log("lm_call_refused", event_id=event_id, csp=refused.csp, resource=refused.resource_id,
                           reason=refused.reason)
        self.world.log("lm_event", event_id=event_id, zone=zone, subzone_zips=sorted(subzone_zips or []),
                       shortfall_mw=mw, dispatched_mw=plan.dispatched_mw, uncovered_mw=plan.uncovered_mw,
                       start_s=shortfall.start_s, end_s=end_s, instructions=len(plan.instructions),
                       known_resources=len(fresh), refused=len(plan.refused))
        self.world.record(self.me, "shortfall", mw, "MW")
        self.world.record(self.me, "dispatched", plan.dispatched_mw, "MW")
        self.ends[event_id] = end_s
        self.notified[event_id] = set()
        sends = [self.world.process(self._send(event_id, instr, end_s)) for instr in plan.instructions]
        self.world.process(self._announce(event_id, zone, shortfall.start_s, end_s, sends))

    def _send(self, event_id: str, instr: DispatchInstruction, end_s: float) -> Generator[Any, Any, LmInstructionRecord | None]:
        yield self.world.timeout(max(0.0, instr.notify_at_s - self.world.now))
        if self.ends[event_id] <= self.world.now:
            self.world.log("lm_dispatch_cancelled", event_id=event_id, csp=instr.csp, lead_time_min=int(instr.lead_time))
            return None   # released before this group's notification time: never called
        now_mw = {r.resource_id: r.available_mw for r in self._fresh(instr.csp)}
        kept = tuple(rid for rid in instr.resource_ids if now_mw.get(rid, 0.0) > 0)
        if kept != instr.resource_ids:
            self.world.log("lm_recheck", event_id=event_id, csp=instr.csp, lead_time_min=int(instr.lead_time),
                           dropped=[rid for rid in instr.resource_ids if rid not in kept], kept=len(kept))
        if not kept:
            return None
        mw = sum(now_mw[rid] for rid in kept)
        for rid in kept:
            self.calls[rid] = self.calls.get(rid, 0) + 1
        self.table.write((event_id, instr.csp, instr.dr_type.value, instr.zone,
                          " ".join(sorted(instr.subzone_zips or ())), int(instr.lead_time), repr(mw),
                          " ".join(kept), repr(self.world.now), repr(instr.start_s), repr(end_s)))
        self.world.log("lm_dispatch", event_id=event_id, csp=instr.csp, dr_type=instr.dr_type.value, zone=instr.zone,
                       lead_time_min=int(instr.lead_time), mw=mw, resources=len(kept))
        self.notified[event_id].add(instr.csp)
        self.mqtt.publish(f"pjm/lm/dispatch/{instr.csp}", LmDispatch(
            event_id, instr.zone, tuple(sorted(instr.subzone_zips or ())), instr.dr_type.value, int(instr.lead_time),
            mw, kept, instr.start_s, end_s).encode())
        return LmInstructionRecord(instr.csp, kept, mw, int(instr.lead_time))

    def _announce(self, event_id: str, zone: str, start_s: float, end_s: float,
                  sends: list[Any]) -> Generator[Any, Any, None]:
        """Tell the market the event as dispatched, once every group has been notified."""
        done = yield self.world.env.all_of(sends)
        sent = tuple(r for r in (done[p] for p in sends) if r is not None)
        event = self.announced[event_id] = LmEvent(event_id, zone, start_s, min(end_s, self.ends[event_id]), sent)
        self.mqtt.publish("pjm/lm/event", event.encode())

    def release(self, event_id: str) -> None:
        """Release (cancel, or end early) the Load Management event ``event_id`` now.

        PJM releases Load Management when the emergency is over; before the
        start this cancels the dispatch. Groups whose notification time has not
        come are never notified; notified CSPs get ``pjm/lm/release/<csp>``;
        the market gets the event again with its end at now (once announced;
        an announcement still to come carries it).
        """
        now = self.world.now
        end = self.ends.get(event_id)
        if end is None or end <= now:
            self.world.log("lm_release_ignored", event_id=event_id,
                           reason="unknown event" if end is None else "already ended")
            return
        self.ends[event_id] = now
        csps = sorted(self.notified[event_id])
        for csp in csps:
            self.mqtt.publish(f"pjm/lm/release/{csp}", LmRelease(event_id, now).encode())
        announced = self.announced.get(event_id)
        if announced is not None:
            self.announced[event_id] = dataclasses.replace(announced, end_s=max(announced.start_s, now))
            self.mqtt.publish("pjm/lm/event", self.announced[event_id].encode())
        self.world.log("lm_release", event_id=event_id, release_s=now, csps=csps, end_s=end)


@application("lm_dispatcher", {Domain.OPERATIONS}, LmDispatcherParams)
def lm_dispatcher(world: World, actor: Actor, params: LmDispatcherParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Load Management dispatch: DR groups by type, zone/sub-zone and lead time from CSP availability reports."""
    mqtt = MqttEndpoint(world, params.node or actor.actor_id, actor.actor_id, params.broker)
    dispatcher = LmDispatcher(world, actor.actor_id, params, mqtt)
    world.add_service(SERVICE, dispatcher)
    yield from mqtt.start([("pjm/lm/available/+", dispatcher.on_available)])
