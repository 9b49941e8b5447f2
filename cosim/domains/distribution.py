"""Distribution domain applications: field crews, and the recorder of outage truth.

Both are physical. A crew works switches by hand through the field-device
layer (:mod:`devices.field.handle`: the local control of the device that
operates the switch, or the switch's own handle), patrols a line to find the
damage and repairs it; the truth recorder reads which loads the power flow
serves. What Operations learns of either it learns by messages (crew reports
over MQTT), never from here.
"""

from __future__ import annotations

from typing import Any, Generator

import simpy
from pydantic import Field

from ..comm.interfaces import MqttMessage
from ..grid import ClearFault
from ..kernel import World
from ..kernel.clock import clock_resolution
from ..nist import Actor, Domain
from ..operations.crews import CrewChannel, WorkOrder, WorkReport, orders_topic, reports_topic
from ..operations.oms import OUTAGE_COLUMNS, OutageTracker, indices_fields
from .context import RunContext
from .registry import Params, application


class FieldCrewParams(Params):
    team: str = Field("crews", min_length=1)
    node: str = Field(min_length=1, description="comm node of the crews' radio/MQTT client")
    broker: str = Field(min_length=1, description="comm node of the MQTT broker")
    crews: int = Field(1, ge=1, description="crews working in parallel")
    travel_median_min: float = Field(30.0, gt=0, description="median travel time to a site (lognormal)")
    travel_sigma: float = Field(0.4, ge=0)
    switching_min: float = Field(5.0, ge=0, description="time to operate a manual switch on site")
    patrol_min: float = Field(15.0, ge=0, description="time to patrol a zone and find the damage, once there")
    local_travel_min: float = Field(5.0, ge=0, description="travel to the next site of a crew that has just finished a job "
                                    "(within local_window_min) nearby")
    local_window_min: float = Field(30.0, ge=0)
    repair_mean_h: float = Field(5.0, gt=0, description="mean repair time (exponential; RBTS: 5 h for a line)")


@application("field_crews", {Domain.DISTRIBUTION}, FieldCrewParams)
def field_crews(world: World, actor: Actor, params: FieldCrewParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Field crews: take work orders over MQTT, travel, switch by hand or repair, report back."""
    grid = world.service("grid")
    comm = world.service("comm")
    channel = CrewChannel(world, comm.mqtt_client(params.node, f"{actor.actor_id}-{params.team}", params.broker))
    rng = world.rng(f"distribution/{actor.actor_id}/crews")
    # Orders queue for a free crew; switching goes before repair (it gives customers back sooner).
    pool = simpy.PriorityResource(world.env, capacity=params.crews)
    last_done = [-float("inf")]

    def layer() -> Any:
        if not world.has_service("devices"):
            from devices.field.base import DeviceLayer  # here, not at import: devices.config imports the domains

            world.add_service("devices", DeviceLayer(world, grid, None))  # a grid with no devices: handles only
        return world.service("devices")

    def found(buses: tuple[str, ...]) -> tuple[str, ...]:
        """The buses of the damage a patrol of ``buses`` finds (what failed, or the grid's fault)."""
        if world.has_service("damage"):
            damage = world.service("damage")
            return tuple(sorted({b for name in damage.found(buses) for b in damage.broken[name][0].buses}))
        fault = grid.active_fault
        if fault is None:
            return ()
        if fault.bus is not None:
            at = {fault.bus}
        else:
            k = grid.network.branches.index(fault.branch or "")
            names = grid.network.buses.name
            at = {str(names[int(grid.network.branches.from_bus[k])]), str(names[int(grid.network.branches.to_bus[k])])}
        return tuple(sorted(at)) if at & set(buses) else ()

    def work(order: WorkOrder) -> Generator[Any, Any, None]:
        with pool.request(priority=1 if order.task == "repair" else 0) as free:
            yield free
            nearby = world.now - last_done[0] <= params.local_window_min * 60.0
            travel_s = (params.local_travel_min * 60.0 if nearby
                        else float(rng.lognormal(0.0, params.travel_sigma)) * params.travel_median_min * 60.0)
            yield world.timeout(travel_s)
            where: tuple[str, ...] = ()
            if order.task == "repair":
                # What the crew finds on site: a study's damage register knows what failed and how long
                # its repair takes; otherwise the repair time is drawn here.
                damage = world.service("damage") if world.has_service("damage") else None
                known = damage.repair_time_s(order.buses) if damage is not None else None
                work_s = known if known is not None else float(rng.exponential(params.repair_mean_h * 3600.0))
                yield world.timeout(work_s)
                if damage is not None:
                    damage.repair(order.buses)
                elif grid.active_fault is not None:
                    grid.apply(ClearFault())
                note = "repaired"
            elif order.task == "patrol":
                work_s = params.patrol_min * 60.0
                yield world.timeout(work_s)
                where = found(order.buses)
                note = f"found at {', '.join(where)}" if where else "nothing found"
            else:
                work_s = params.switching_min * 60.0
                yield world.timeout(work_s)
                from devices.field.handle import operate_by_hand

                by = operate_by_hand(layer(), order.switch, order.task == "close")
                note = f"{order.task} {order.switch} ({by})"
            last_done[0] = world.now
            world.log("crew_work_done", team=params.team, order_id=order.order_id, task=order.task, travel_s=travel_s, work_s=work_s)
            report = WorkReport(order.order_id, order.task, True, travel_s, work_s, note, where)
            yield from channel.publish(reports_topic(params.team), report.encode())

    seen: set[int] = set()

    def on_order(message: MqttMessage) -> None:
        try:
            order = WorkOrder.decode(message.payload)
        except (ValueError, KeyError):
            world.log("crew_order_rejected", team=params.team)
            return
        if order.order_id in seen:  # a QoS 1 duplicate
            return
        seen.add(order.order_id)
        world.process(work(order))

    yield from channel.start([(orders_topic(params.team), on_order)])


class OutageTruthParams(Params):
    step_s: float | None = Field(None, gt=0, description="seconds between looks at the served loads; "
                                 "default: look at every grid change (exact times, no cost while nothing changes)")
    momentary_threshold_s: float = Field(300.0, gt=0)


@application("outage_truth", {Domain.DISTRIBUTION}, OutageTruthParams)
def outage_truth(world: World, actor: Actor, params: OutageTruthParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Ground truth of customer interruptions from the power flow's served loads (for validating the OMS)."""
    grid = world.service("grid")
    loads = grid.network.loads
    names = list(loads.name)
    customers = {n: int(c) for n, c in zip(names, loads.customers)}
    load_kw = {n: float(p) * 1000.0 for n, p in zip(names, loads.p_mw)}
    table = world.recorder.table("outages_truth", OUTAGE_COLUMNS)
    tracker = OutageTracker(names, customers, load_kw, {}, source="truth", sink=table.write,
                            momentary_threshold_s=params.momentary_threshold_s)
    end = ctx.duration_s - 4 * clock_resolution(ctx.duration_s)  # before the end (until= excludes it), at any magnitude

    def look() -> None:
        result = grid.solve_if_changed()
        tracker.update(world.now, dict(zip(grid.network.loads.name, (bool(s) for s in result.load_served))))

    if params.step_s is not None:
        while world.now + params.step_s < end:
            yield world.timeout(0)  # after everything acting at this instant
            look()
            yield world.timeout(params.step_s)
        yield world.timeout(max(end - world.now, 0.0))
    else:
        changed = [world.env.event()]
        previous = grid.on_change

        def on_change(action: Any, change: Any) -> None:
            if previous is not None:
                previous(action, change)
            event, changed[0] = changed[0], world.env.event()
            event.succeed()

        grid.on_change = on_change
        finished = world.timeout(max(end - world.now, 0.0))
        look()
        while not finished.processed:
            yield world.env.any_of([changed[0], finished])
            if finished.processed:
                break
            yield world.timeout(0)  # after everything acting at this instant
            look()
    tracker.close_all(world.now)
    world.log("reliability_indices", source="truth", actor=actor.actor_id, **indices_fields(tracker.indices(ctx.duration_s)))
