"""Customer domain applications: premises demand and rooftop generation.

A premises' demand follows the daily shape of its sub-domain (home, building,
industrial) with its own random variation; where the scenario has a grid, the
demand is applied to the premises' load on it.
"""

from __future__ import annotations

from typing import Any, Generator

from pydantic import Field

from ..grid import SetDerOutput, SetLoad
from ..kernel import World
from ..nist import Actor, CustomerSegment, Domain
from .context import RunContext
from .profiles import HOURLY_DEMAND_PU, clear_sky_pu, cloud_factor, demand_pu
from .registry import Params, application


class LoadProfileParams(Params):
    grid_refs = {"load": "load"}

    load: str | None = Field(None, description="grid load this demand is applied to")
    peak_kw: float | None = Field(None, gt=0, description="defaults to the actor's peak_kw")
    shape: str | None = Field(None, description="home, building or industrial; defaults to the actor's sub-domain")
    noise_pct: float = Field(3.0, ge=0, le=50, description="standard deviation of the random variation, % of demand")
    power_factor: float = Field(0.95, gt=0, le=1)
    step: float | None = Field(None, gt=0, description="seconds between updates; defaults to the run step")


@application("load_profile", {Domain.CUSTOMER}, LoadProfileParams)
def load_profile(world: World, actor: Actor, params: LoadProfileParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Premises demand from a daily shape with random variation; energy in kWh."""
    peak_kw = params.peak_kw or actor.peak_kw or 5.0
    segment = params.shape or (actor.segment or CustomerSegment.for_peak_kw(peak_kw)).value
    shape = HOURLY_DEMAND_PU[segment]
    step_s = params.step or ctx.step_s
    rng = world.rng(f"customer/{actor.actor_id}/demand")
    energy_kwh = 0.0
    q_per_p = (1.0 / params.power_factor**2 - 1.0) ** 0.5
    grid = world.service("grid") if params.load else None
    while True:
        variation = 1.0 + params.noise_pct / 100.0 * rng.standard_normal()
        demand_kw = max(0.0, peak_kw * demand_pu(shape, world.now) * variation)
        world.record(actor.actor_id, "demand_p", demand_kw, "kW")
        world.record(actor.actor_id, "demand_q", demand_kw * q_per_p, "kvar")
        if grid is not None and params.load is not None:
            grid.apply(SetLoad(params.load, demand_kw / 1000.0, demand_kw * q_per_p / 1000.0))
        yield world.timeout(step_s)
        energy_kwh += demand_kw * step_s / 3600.0
        world.record(actor.actor_id, "energy_consumed", energy_kwh, "kWh")


class RooftopPvParams(Params):
    grid_refs = {"der": "der"}

    der: str | None = Field(None, description="grid DER the output is injected through")
    capacity_kw: float = Field(gt=0)
    sunrise_h: float = Field(6.0, ge=0, lt=24)
    sunset_h: float = Field(18.0, gt=0, le=24)
    cloud_mean: float = Field(0.85, ge=0, le=1, description="mean clear-sky fraction reaching the panels")
    cloud_sigma: float = Field(0.08, ge=0, le=1)
    step: float | None = Field(None, gt=0)


@application("rooftop_pv", {Domain.CUSTOMER}, RooftopPvParams)
def rooftop_pv(world: World, actor: Actor, params: RooftopPvParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Rooftop solar output: clear-sky half-sine times a persistent random cloud factor."""
    step_s = params.step or ctx.step_s
    rng = world.rng(f"customer/{actor.actor_id}/pv")
    clouds = params.cloud_mean
    energy_kwh = 0.0
    grid = world.service("grid") if params.der else None
    while True:
        clouds = cloud_factor(rng, clouds, persistence=0.8, mean=params.cloud_mean, sigma=params.cloud_sigma)
        output_kw = params.capacity_kw * clear_sky_pu(world.now, params.sunrise_h, params.sunset_h) * clouds
        world.record(actor.actor_id, "pv_p", output_kw, "kW")
        if grid is not None and params.der is not None:
            grid.apply(SetDerOutput(params.der, p_mw=output_kw / 1000.0))
        yield world.timeout(step_s)
        energy_kwh += output_kw * step_s / 3600.0
        world.record(actor.actor_id, "energy_generated", energy_kwh, "kWh")
