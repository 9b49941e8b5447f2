"""Bulk Generation domain applications: variable renewable plants.

Dispatchable plants need no application to produce: each is moved by its
plant controller device (``devices/field/plant_controller.py``) to the
basepoints the market sends it, and the grid's slack balances the rest. A wind
farm's output follows the wind: the farm's turbines write the power the wind
allows into the farm's plant controller (its ``available_mw`` register, a
Modbus write over the plant's own network), and the controller -- the only
thing that acts on the grid -- passes it on, capped at its set-point if the
market curtails the farm.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from ..comm import ModbusError, ModbusTimeoutError
from ..comm.errors import CommError
from ..kernel import World
from ..nist import Actor, Domain
from .context import RunContext
from .plantlink import AvailablePower
from .registry import Params, application

# A generic pitch-regulated turbine, normalised to rated power: cut-in 3 m/s,
# rated 12 m/s, cut-out 25 m/s, cubic rise in between (the usual textbook shape;
# replace with a manufacturer's curve for a study).
POWER_CURVE_MS = {"cut_in": 3.0, "rated": 12.0, "cut_out": 25.0}


def turbine_output_pu(wind_ms: float, cut_in: float, rated: float, cut_out: float) -> float:
    """Per-unit output of the power curve at hub-height wind speed ``wind_ms`` (m/s)."""
    if wind_ms < cut_in or wind_ms >= cut_out:
        return 0.0
    if wind_ms >= rated:
        return 1.0
    return (wind_ms**3 - cut_in**3) / (rated**3 - cut_in**3)


class WindFarmParams(Params):
    device_refs: ClassVar[dict[str, str]] = {"controller": "plant_controller"}

    controller: str | None = Field(None, description="the farm's plant_controller device (bound to its grid DER); the turbines write it the available power over Modbus")
    node: str | None = Field(None, description="comm node of the turbines' SCADA (default: the controller's node)")
    capacity_mw: float = Field(gt=0)
    mean_wind_ms: float = Field(8.0, gt=0)
    wind_sigma_ms: float = Field(1.2, ge=0, description="step-to-step variation of the wind speed")
    persistence: float = Field(0.9, ge=0, lt=1, description="AR(1) coefficient of the wind speed per step")
    availability: float = Field(0.97, gt=0, le=1, description="share of turbines in service")
    step: float | None = Field(None, gt=0)


@application("wind_farm", {Domain.BULK_GENERATION}, WindFarmParams)
def wind_farm(world: World, actor: Actor, params: WindFarmParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Wind farm output from a mean-reverting wind speed through a turbine power curve."""
    rng: np.random.Generator = world.rng(f"bulk_generation/{actor.actor_id}/wind")
    step_s = params.step or ctx.step_s
    report = None
    if params.controller is not None:
        config = ctx.device_configs[params.controller]  # engineering data: where the controller answers
        if config.node is None:
            raise ValueError(f"{actor.actor_id}: wind_farm controller {params.controller!r} has no comm node to write to")
        client = world.service("comm").modbus_client(params.node or config.node, config.node, timeout_s=1.0, retries=1)
        report = _Reporter(world, actor.actor_id, client, config.unit_id)
    wind = params.mean_wind_ms
    while True:
        wind = max(0.0, params.mean_wind_ms + params.persistence * (wind - params.mean_wind_ms) + params.wind_sigma_ms * rng.standard_normal())
        output_mw = params.capacity_mw * params.availability * turbine_output_pu(wind, **POWER_CURVE_MS)
        world.record(actor.actor_id, "wind_speed", wind, "m/s")
        world.record(actor.actor_id, "available_p", output_mw, "MW")
        if report is not None:
            world.process(report.send(output_mw))
        yield world.timeout(step_s)


class _Reporter:
    """The turbines' SCADA writing the available power into the farm's plant controller."""

    def __init__(self, world: World, entity: str, client: Any, unit_id: int) -> None:
        self.world, self.entity, self.client, self.unit_id = world, entity, client, unit_id

    def send(self, p_mw: float) -> Generator[Any, Any, None]:
        address, words = AvailablePower(p_mw).encode()
        try:
            yield from self.client.write_registers(self.unit_id, address, words)
        except (ModbusError, ModbusTimeoutError, CommError) as error:
            self.world.log("available_power_lost", plant=self.entity, error=type(error).__name__)
