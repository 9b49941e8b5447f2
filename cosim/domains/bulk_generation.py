"""Bulk Generation domain applications: variable renewable plants.

Dispatchable plants need no application to produce: the slack generator of an
island balances it in the power flow, and the market (when the scenario has
one) sends setpoints. A wind farm's output follows the wind.
"""

from __future__ import annotations

from typing import Any, Generator

import numpy as np
from pydantic import Field

from ..grid import SetDerOutput
from ..kernel import World
from ..nist import Actor, Domain
from .context import RunContext
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
    grid_refs = {"der": "der"}

    der: str | None = Field(None, description="grid DER (kind wind) the farm injects through")
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
    grid = world.service("grid") if params.der else None
    wind = params.mean_wind_ms
    while True:
        wind = max(0.0, params.mean_wind_ms + params.persistence * (wind - params.mean_wind_ms) + params.wind_sigma_ms * rng.standard_normal())
        output_mw = params.capacity_mw * params.availability * turbine_output_pu(wind, **POWER_CURVE_MS)
        world.record(actor.actor_id, "wind_speed", wind, "m/s")
        world.record(actor.actor_id, "available_p", output_mw, "MW")
        if grid is not None and params.der is not None:
            grid.apply(SetDerOutput(params.der, p_mw=output_mw))
        yield world.timeout(step_s)
