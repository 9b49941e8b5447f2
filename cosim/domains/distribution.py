"""Distribution domain applications: the field crews' dispatcher.

Crews take work orders over MQTT, queue for a free crew (switching before
repair: it gives customers back sooner), travel to the site and report back
over MQTT. What a crew does with its hands once there -- patrol, repair,
work a switch -- is physical work in the field, in :mod:`cosim.physical.fieldwork`,
the only place a crew touches the grid or a device. What Operations learns of
it, it learns from the crews' reports. (The ground truth of outages that the
OMS is checked against is the study's instrument, :mod:`cosim.physical.truth`.)
"""

from __future__ import annotations

from typing import Any, Generator

import simpy
from pydantic import Field

from ..comm.interfaces import MqttMessage
from ..kernel import World
from ..nist import Actor, Domain
from ..operations.crews import CrewChannel, WorkOrder, WorkReport, orders_topic, reports_topic
from ..physical import fieldwork
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
    comm = world.service("comm")
    channel = CrewChannel(world, comm.mqtt_client(params.node, f"{actor.actor_id}-{params.team}", params.broker))
    rng = world.rng(f"distribution/{actor.actor_id}/crews")
    # Orders queue for a free crew; switching goes before repair (it gives customers back sooner).
    pool = simpy.PriorityResource(world.env, capacity=params.crews)
    last_done = [-float("inf")]

    def work(order: WorkOrder) -> Generator[Any, Any, None]:
        with pool.request(priority=1 if order.task == "repair" else 0) as free:
            yield free
            nearby = world.now - last_done[0] <= params.local_window_min * 60.0
            travel_s = (params.local_travel_min * 60.0 if nearby
                        else float(rng.lognormal(0.0, params.travel_sigma)) * params.travel_median_min * 60.0)
            yield world.timeout(travel_s)
            where: tuple[str, ...] = ()
            if order.task == "repair":
                work_s = yield from fieldwork.repair(world, order.buses, rng, params.repair_mean_h * 3600.0)
                note = "repaired"
            elif order.task == "patrol":
                work_s = params.patrol_min * 60.0
                where = yield from fieldwork.patrol(world, order.buses, work_s)
                note = f"found at {', '.join(where)}" if where else "nothing found"
            else:
                work_s = params.switching_min * 60.0
                by = yield from fieldwork.operate_switch(world, order.switch, order.task == "close", work_s)
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
