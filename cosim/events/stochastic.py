"""Stochastic faults: line failures drawn from failure rates, temporary or permanent.

The event kind ``stochastic_faults`` (usually ``at: 0``) starts one process
that draws failures of the listed lines as a Poisson process (constant
failure rate per km-year times each line's length, as in the RBTS data:
0.065 f/km-yr), places each fault uniformly along its line, and decides
whether it is temporary (the arc goes out after ``temporary_duration_s``,
before the first reclose) or permanent. A permanent fault stays until a crew
repairs it (``repair: crew``, the field_crews application clears it) or
until a drawn repair time has passed (``repair: timer``, exponential with
``repair_mean_h``; for runs without crews).

The grid holds one active fault at a time: a failure drawn while another
fault is active is logged (``fault_skipped``) and not applied -- first-order
overlap, as in the analytic RBTS method. Random streams:
``distribution/faults/arrivals``, ``/which``, ``/where``, ``/kind``, ``/repair``.
"""

from __future__ import annotations

from typing import Any, Generator, Literal

import numpy as np
from pydantic import Field

from ..grid import ApplyFault, ClearFault
from ..kernel import World
from .registry import EventParams, event_kind

SECONDS_PER_YEAR = 8760.0 * 3600.0


class StochasticFaultParams(EventParams):
    lines_km: dict[str, float] = Field(min_length=1, description="line name -> length, km")
    failure_rate_per_km_year: float = Field(0.065, gt=0)
    temporary_fraction: float = Field(0.0, ge=0, le=1, description="share of faults that clear by themselves")
    temporary_duration_s: float = Field(0.5, gt=0)
    repair: Literal["crew", "timer"] = "crew"
    repair_mean_h: float = Field(5.0, gt=0, description="timer repair: mean of the exponential repair time")
    r_fault_ohm: float = Field(0.0, ge=0)


@event_kind("stochastic_faults", StochasticFaultParams, needs_target=False, needs_grid=True)
def stochastic_faults(world: World, target: str | None, params: StochasticFaultParams) -> None:
    """Start drawing line faults from failure rates (Poisson arrivals; temporary or permanent)."""
    world.process(fault_process(world, params))


def fault_process(world: World, params: StochasticFaultParams) -> Generator[Any, Any, None]:
    grid = world.service("grid")
    names = list(params.lines_km)
    for name in names:
        grid.network.branches.index(name)  # KeyError naming an unknown line, at the start of the run
    rates = np.array([params.lines_km[n] * params.failure_rate_per_km_year for n in names]) / SECONDS_PER_YEAR
    total = float(rates.sum())
    arrivals, which, where = (world.rng(f"distribution/faults/{s}") for s in ("arrivals", "which", "where"))
    kind, repair = world.rng("distribution/faults/kind"), world.rng("distribution/faults/repair")
    while True:
        yield world.timeout(float(arrivals.exponential(1.0 / total)))
        line = names[int(which.choice(len(names), p=rates / total))]
        fraction = float(where.uniform(0.05, 0.95))
        temporary = bool(kind.random() < params.temporary_fraction)
        if grid.active_fault is not None:
            world.log("fault_skipped", branch=line, reason="another fault is active")
            continue
        world.log("stochastic_fault", branch=line, fraction=fraction, temporary=temporary)
        grid.apply(ApplyFault(branch=line, fraction=fraction, r_fault_ohm=params.r_fault_ohm))
        if temporary or params.repair == "timer":
            duration = params.temporary_duration_s if temporary else float(repair.exponential(params.repair_mean_h * 3600.0))
            world.process(_clear_after(world, duration))


def _clear_after(world: World, delay_s: float) -> Generator[Any, Any, None]:
    yield world.timeout(delay_s)
    world.service("grid").apply(ClearFault())
    world.log("fault_cleared", after_s=delay_s)
