"""``meter_watch``: a Service Provider application that flags smart-meter intervals above a threshold.

It learns about the meters only over MQTT (their ``<topic>/interval``
messages through the scenario's broker), as a service provider would.
"""

from __future__ import annotations

import json
from typing import Any, Generator

from pydantic import Field

from cosim.comm import MqttMessage, QoS
from cosim.domains.context import RunContext
from cosim.domains.registry import Params, application
from cosim.kernel import World
from cosim.nist import Actor, Domain


class MeterWatchParams(Params):
    node: str = Field(min_length=1, description="comm node of the application's MQTT client")
    broker: str = Field(min_length=1, description="comm node of the MQTT broker")
    topic: str = Field("smart_meter/+/interval", description="topic filter of the meters' interval messages")
    threshold_kw: float = Field(gt=0, description="an interval whose average demand exceeds this is flagged")


@application("meter_watch", {Domain.SERVICE_PROVIDER}, MeterWatchParams)
def meter_watch(world: World, actor: Actor, params: MeterWatchParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Flag smart-meter intervals above a demand threshold (high_interval events)."""
    client = world.service("comm").mqtt_client(params.node, f"{actor.actor_id}-watch", params.broker)

    def on_interval(message: MqttMessage) -> None:
        data = json.loads(message.payload)
        if float(data["avg_kw"]) > params.threshold_kw:
            world.log("high_interval", actor=actor.actor_id, meter=data["meter"], avg_kw=data["avg_kw"], end_s=data["end_s"])

    yield from client.connect()
    yield from client.subscribe(params.topic, QoS.AT_LEAST_ONCE, on_interval)
