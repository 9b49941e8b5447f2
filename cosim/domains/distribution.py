"""Distribution domain applications: field crews, and the recorder of outage truth.

Both are physical, so they act on (and read) the grid directly: a crew opens
a manual switch by hand or repairs a line; the truth recorder reads which
loads the power flow serves. What Operations learns of either it learns by
messages (crew reports over MQTT), never from here.
"""

from __future__ import annotations

from typing import Any, Generator

import simpy
from pydantic import Field

from ..comm.interfaces import MqttMessage
from ..grid import ClearFault, SetSwitch
from ..kernel import World
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

    def work(order: WorkOrder) -> Generator[Any, Any, None]:
        with pool.request(priority=1 if order.task == "repair" else 0) as free:
            yield free
            travel_s = float(rng.lognormal(0.0, params.travel_sigma)) * params.travel_median_min * 60.0
            yield world.timeout(travel_s)
            if order.task == "repair":
                work_s = float(rng.exponential(params.repair_mean_h * 3600.0))
                yield world.timeout(work_s)
                if grid.active_fault is not None:
                    grid.apply(ClearFault())
                note = "repaired"
            else:
                work_s = params.switching_min * 60.0
                yield world.timeout(work_s)
                grid.apply(SetSwitch(order.switch, closed=order.task == "close"))
                note = f"{order.task} {order.switch}"
            world.log("crew_work_done", team=params.team, order_id=order.order_id, task=order.task, travel_s=travel_s, work_s=work_s)
            report = WorkReport(order.order_id, order.task, True, travel_s, work_s, note)
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
    end = ctx.duration_s - 1e-3

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
