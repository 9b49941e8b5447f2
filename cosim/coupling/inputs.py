"""Inputs from outside a run (a Python script, mosaik, HELICS) applied to the electrical layer.

An external simulator's output is the physical world beyond the scenario: a
household's demand, a PV plant's production, a generator scheduled by another
tool. It reaches the grid as the same typed actions devices use, and each one
is logged (``external_input``) so a run's events say what came from outside.
Reading goes through the same measurement snapshot devices read.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from ..grid import GridMeasurements, SetDerOutput, SetGeneratorSetpoint, SetLoad
from ..grid.service import GridService
from ..kernel import World
from ..wiring.grid import SERVICE


class ElementKind(enum.Enum):
    """Grid elements an outside simulator may drive or read."""

    BUS = "bus"
    BRANCH = "branch"
    LOAD = "load"
    DER = "der"
    GENERATOR = "generator"


@dataclass(frozen=True)
class ExternalInput:
    """One value set from outside: which element, which quantity, in which unit."""

    kind: ElementKind
    name: str
    p_mw: float
    q_mvar: float | None = None


class ExternalGrid:
    """The grid of one world as seen and driven from outside it (simulated time stays the world's)."""

    def __init__(self, world: World, grid: GridService) -> None:
        self._world = world
        self._grid = grid

    @classmethod
    def of(cls, world: World) -> ExternalGrid | None:
        """The world's grid driven from outside, or None for a scenario without a grid section."""
        return cls(world, world.service(SERVICE)) if world.has_service(SERVICE) else None

    def names(self, kind: ElementKind) -> tuple[str, ...]:
        """Names of every element of ``kind``, in the scenario's order."""
        network = self._grid.network
        table = {
            ElementKind.BUS: network.buses,
            ElementKind.BRANCH: network.branches,
            ElementKind.LOAD: network.loads,
            ElementKind.DER: network.ders,
            ElementKind.GENERATOR: network.generators,
        }[kind]
        return tuple(table.name)

    def apply(self, value: ExternalInput) -> None:
        """Set a load's demand, a DER's output or a generator's setpoint (MW, Mvar); raises on bad values."""
        if not math.isfinite(value.p_mw) or (value.q_mvar is not None and not math.isfinite(value.q_mvar)):
            raise ValueError(f"{value.kind.value} {value.name!r}: values must be finite (got {value.p_mw}, {value.q_mvar})")
        network = self._grid.network
        if value.kind is ElementKind.LOAD:
            k = network.loads.index(value.name)
            q = value.q_mvar if value.q_mvar is not None else _same_power_factor(
                value.p_mw, float(network.loads.p_mw[k]), float(network.loads.q_mvar[k]))
            self._grid.apply(SetLoad(value.name, value.p_mw, q))
        elif value.kind is ElementKind.DER:
            self._grid.apply(SetDerOutput(value.name, p_mw=value.p_mw, q_mvar=value.q_mvar))
        elif value.kind is ElementKind.GENERATOR:
            self._grid.apply(SetGeneratorSetpoint(value.name, p_mw=value.p_mw))
        else:
            raise ValueError(f"a {value.kind.value} has no settable power")
        self._world.log("external_input", element=f"{value.kind.value}/{value.name}", p_mw=value.p_mw, q_mvar=value.q_mvar)

    def measurements(self) -> GridMeasurements:
        """The solved grid now (solving first if anything changed)."""
        return self._grid.measurements()


def _same_power_factor(p_mw: float, p0_mw: float, q0_mvar: float) -> float:
    """Q that keeps the load's configured power factor when only P is given."""
    if p0_mw == 0.0:
        return 0.0
    return p_mw * q0_mvar / p0_mw
