"""Event kinds that strike the electrical layer: faults, switching, load steps, generator trips.

These are happenings of the physical world (a tree on a line, a crew opening
a switch by hand, a plant tripping), so they act on the grid directly. What
Operations learns of them it learns through devices and messages.
"""

from __future__ import annotations

from pydantic import Field

from ..grid import ApplyFault, ClearFault, ScaleLoad, SetGeneratorSetpoint, SetSwitch
from ..kernel import World
from .registry import EventParams, event_kind


def _name(target: str | None) -> str:
    assert target is not None  # the loader has checked that a target is given
    return target.partition("/")[2]


class FaultParams(EventParams):
    fraction: float = Field(0.5, ge=0, le=1, description="position along a line, 0 at its from-bus")
    r_fault_ohm: float = Field(0.0, ge=0)
    x_fault_ohm: float = Field(0.0, ge=0)


@event_kind("fault", FaultParams, target_kinds=("bus", "branch"))
def fault(world: World, target: str | None, params: FaultParams) -> None:
    """A balanced three-phase fault at a bus or along a line (target bus/NAME or branch/NAME)."""
    kind, _, name = (target or "").partition("/")
    location = {"bus": name} if kind == "bus" else {"branch": name, "fraction": params.fraction}
    world.service("grid").apply(ApplyFault(**location, r_fault_ohm=params.r_fault_ohm, x_fault_ohm=params.x_fault_ohm))


class NoParams(EventParams):
    pass


@event_kind("clear_fault", NoParams, needs_target=False, needs_grid=True)
def clear_fault(world: World, target: str | None, params: NoParams) -> None:
    """The active fault disappears (a temporary fault's arc goes out, or a repair is done)."""
    world.service("grid").apply(ClearFault())


@event_kind("open_switch", NoParams, target_kinds=("switch",))
def open_switch(world: World, target: str | None, params: NoParams) -> None:
    """Open a switch or breaker by hand (target switch/NAME)."""
    world.service("grid").apply(SetSwitch(_name(target), closed=False))


@event_kind("close_switch", NoParams, target_kinds=("switch",))
def close_switch(world: World, target: str | None, params: NoParams) -> None:
    """Close a switch or breaker by hand (target switch/NAME)."""
    world.service("grid").apply(SetSwitch(_name(target), closed=True))


class ScaleParams(EventParams):
    factor: float = Field(gt=0, description="multiplies P and Q")


@event_kind("scale_load", ScaleParams, needs_target=False, target_kinds=("load",))
def scale_load(world: World, target: str | None, params: ScaleParams) -> None:
    """Multiply one load (target load/NAME) or every load (no target) by ``factor``."""
    world.service("grid").apply(ScaleLoad(params.factor, _name(target) if target else None))


@event_kind("trip_generator", NoParams, target_kinds=("gen",))
def trip_generator(world: World, target: str | None, params: NoParams) -> None:
    """Take a generator out of service (target gen/NAME)."""
    world.service("grid").apply(SetGeneratorSetpoint(_name(target), in_service=False))
