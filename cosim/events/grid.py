"""Event kinds that strike the electrical layer: faults, switching, load steps, generator trips.

These are happenings of the physical world (a tree on a line, a crew opening
a switch by hand, a plant tripping), so they act on the grid directly. What
Operations learns of them it learns through devices and messages.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..grid import ApplyFault, ClearFault, ScaleLoad, SetGeneratorSetpoint, SetSwitch
from ..grid.actions import FaultType
from ..grid.threephase.actions import ApplyPhaseFault
from ..grid.threephase.adapter import FeederGrid
from ..kernel import World
from .registry import EventParams, event_kind


def _name(target: str | None) -> str:
    assert target is not None  # the loader has checked that a target is given
    return target.partition("/")[2]


class FaultParams(EventParams):
    fraction: float = Field(0.5, ge=0, le=1, description="position along a line, 0 at its from-bus")
    r_fault_ohm: float = Field(0.0, ge=0)
    x_fault_ohm: float = Field(0.0, ge=0)
    type: Literal["three_phase", "slg", "ll", "llg"] = Field(
        "three_phase", description="three_phase, slg (line to ground), ll (line to line), llg (two lines to ground)")
    phases: list[Literal["a", "b", "c"]] | None = Field(
        None, description="faulted phases: one for slg (default a), two for ll/llg (default b, c)")

    @model_validator(mode="after")
    def _phase_count(self) -> "FaultParams":
        need = FaultType(self.type).phase_count
        if self.phases is not None and len(set(self.phases)) != need:
            raise ValueError(f"a {self.type} fault needs {need} distinct phases, got {self.phases}")
        return self

    def numbers(self) -> tuple[int, ...] | None:
        return None if self.phases is None else tuple("abc".index(p) + 1 for p in self.phases)


@event_kind("fault", FaultParams, target_kinds=("bus", "branch"))
def fault(world: World, target: str | None, params: FaultParams) -> None:
    """A fault at a bus or along a line (target bus/NAME or branch/NAME): three-phase, SLG, LL or LLG.

    On an unbalanced feeder (``grid.model: unbalanced``) the fault is placed
    phase by phase at a bus (:class:`ApplyPhaseFault`, resistance
    ``r_fault_ohm`` per path, OpenDSS's 0.0001 ohm when 0).
    """
    kind, _, name = (target or "").partition("/")
    grid = world.service("grid")
    fault_type = FaultType(params.type)
    if isinstance(grid, FeederGrid):
        action = ApplyFault(bus=name, fault_type=fault_type, phases=params.numbers())
        grid.apply(ApplyPhaseFault(name, action.phases or (1, 2, 3), ground=fault_type is not FaultType.LL,
                                   r_ohm=params.r_fault_ohm or 0.0001))
        return
    location = {"bus": name} if kind == "bus" else {"branch": name, "fraction": params.fraction}
    grid.apply(ApplyFault(**location, r_fault_ohm=params.r_fault_ohm, x_fault_ohm=params.x_fault_ohm,
                          fault_type=fault_type, phases=params.numbers()))


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
