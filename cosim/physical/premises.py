"""A premise's physical side: what its appliances draw and what the sun gives its panels.

Neither is an actor's control action. Demand is people switching appliances
on; PV output is weather. They are registered as Customer applications
(``load_profile``, ``rooftop_pv``) because the scenario lists them with the
premise they belong to, but their processes stand for the physical world:

* **Demand** follows the daily shape of the premise's sub-domain (home,
  building, industrial) with its own random variation. When an ESI gateway
  is bound to the premise's ``load`` it is the premise's load controller:
  the demand is handed to it (``set_premise_demand``) and the gateway applies
  it, less any DR reduction it has accepted -- load shedding happens there and
  nowhere else. Without a gateway nothing controls the premise, and the
  appliances' draw is the load's value on the grid.
* **Rooftop PV**: a clear-sky half-sine times a persistent random cloud
  factor is the DC power the array gives. It reaches the grid only through
  the DER inverter bound to the premise's ``der``
  (:class:`devices.field.der_inverter.DerInverterDevice`): the wiring adds a
  default inverter when the scenario names none, and the inverter's WMax,
  curtailment, connection and IEEE 1547 response act on it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generator

from pydantic import Field

from ..domains.context import RunContext
from ..domains.profiles import HOURLY_DEMAND_PU, clear_sky_pu, cloud_factor, demand_pu
from ..domains.registry import Params, application
from ..grid import SetLoad
from ..kernel import World
from ..nist import Actor, CustomerSegment, Domain


def _device_bound_to(world: World, kind: str, field: str, element: str) -> Any | None:
    """The device of ``kind`` whose ``field`` (``load``, ``der``) is ``element``, if any (first by id)."""
    if not world.has_service("devices"):
        return None
    layer = world.service("devices")
    return next((layer[d] for d in sorted(layer) if layer[d].kind == kind and getattr(layer[d].config, field, None) == element),
                None)


class LoadProfileParams(Params):
    grid_refs = {"load": "load"}

    load: str | None = Field(None, description="grid load this demand is drawn from (through its ESI gateway if it has one)")
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
    gateway = _device_bound_to(world, "esi_gateway", "load", params.load) if params.load else None
    grid = world.service("grid") if params.load and gateway is None else None
    while True:
        variation = 1.0 + params.noise_pct / 100.0 * rng.standard_normal()
        demand_kw = max(0.0, peak_kw * demand_pu(shape, world.now) * variation)
        world.record(actor.actor_id, "demand_p", demand_kw, "kW")
        world.record(actor.actor_id, "demand_q", demand_kw * q_per_p, "kvar")
        if gateway is not None:
            gateway.set_premise_demand(demand_kw * 1000.0, demand_kw * q_per_p * 1000.0)
        elif grid is not None and params.load is not None:
            grid.apply(SetLoad(params.load, demand_kw / 1000.0, demand_kw * q_per_p / 1000.0))
        yield world.timeout(step_s)
        energy_kwh += demand_kw * step_s / 3600.0
        world.record(actor.actor_id, "energy_consumed", energy_kwh, "kWh")


class RooftopPvParams(Params):
    grid_refs = {"der": "der"}
    fronted_by: ClassVar[dict[str, str]] = {"der": "der_inverter"}

    der: str | None = Field(None, description="grid DER whose inverter the array feeds (a default inverter is added if the scenario has none)")
    capacity_kw: float = Field(gt=0)
    sunrise_h: float = Field(6.0, ge=0, lt=24)
    sunset_h: float = Field(18.0, gt=0, le=24)
    cloud_mean: float = Field(0.85, ge=0, le=1, description="mean clear-sky fraction reaching the panels")
    cloud_sigma: float = Field(0.08, ge=0, le=1)
    step: float | None = Field(None, gt=0)


@application("rooftop_pv", {Domain.CUSTOMER}, RooftopPvParams)
def rooftop_pv(world: World, actor: Actor, params: RooftopPvParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Rooftop solar: clear-sky half-sine times a persistent random cloud factor, into the DER inverter."""
    step_s = params.step or ctx.step_s
    rng = world.rng(f"customer/{actor.actor_id}/pv")
    clouds = params.cloud_mean
    energy_kwh = 0.0
    inverter = _device_bound_to(world, "der_inverter", "der", params.der) if params.der else None
    if params.der is not None and inverter is None:
        raise ValueError(f"{actor.actor_id}: rooftop_pv DER {params.der!r} has no der_inverter (the wiring adds one)")
    while True:
        clouds = cloud_factor(rng, clouds, persistence=0.8, mean=params.cloud_mean, sigma=params.cloud_sigma)
        output_kw = params.capacity_kw * clear_sky_pu(world.now, params.sunrise_h, params.sunset_h) * clouds
        world.record(actor.actor_id, "pv_p", output_kw, "kW")
        if inverter is not None:
            inverter.set_available_power(output_kw / 1000.0)
        yield world.timeout(step_s)
        energy_kwh += output_kw * step_s / 3600.0
        world.record(actor.actor_id, "energy_generated", energy_kwh, "kWh")
