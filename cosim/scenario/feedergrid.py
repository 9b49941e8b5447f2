"""The ``grid: {model: unbalanced, dss: FILE}`` form of a scenario's grid: a three-phase feeder from OpenDSS files.

A scenario's ``grid:`` section normally describes a balanced network (solved
by the positive-sequence Newton solver, :mod:`cosim.grid`). With
``model: unbalanced`` it names a ``.dss`` feeder instead (path relative to the
scenario), read by :func:`cosim.grid.threephase.read_dss` while the scenario
loads, so a bad file is reported before anything runs; the run solves it with
the three-phase fixed-point solver behind :class:`cosim.grid.threephase.adapter.FeederGrid`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..grid.threephase import DssError, Feeder, read_dss
from ..grid.threephase.service import DEFAULT_MAX_ITER, DEFAULT_TOLERANCE
from .strictvalues import validate_input


class FeederBuildError(ValueError):
    """The feeder cannot be built; ``field`` is the grid section's field at fault (``dss``: the message
    names the ``.dss`` file and line)."""

    def __init__(self, message: str, field: str = "dss") -> None:
        super().__init__(message)
        self.field = field


class FeederGridConfig(BaseModel):
    """The ``grid:`` section of a scenario that runs an unbalanced three-phase feeder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Literal["unbalanced"] = Field(description="unbalanced: a three-phase feeder read from an OpenDSS .dss file")
    dss: str = Field(min_length=1, description=".dss file of the feeder, relative to the scenario")
    customers: dict[str, int] = Field(default_factory=dict, description="customers behind each load (default 1)")
    base_mva: float = Field(default=100.0, gt=0, description="base of branch i_pu readings")
    tolerance: float = Field(default=DEFAULT_TOLERANCE, gt=0, description="fixed-point convergence, relative voltage change")
    max_iter: int = Field(default=DEFAULT_MAX_ITER, gt=0)


def is_feeder_grid(raw: dict[str, Any]) -> bool:
    """True when a ``grid:`` section asks for the unbalanced model (``model`` present)."""
    return "model" in raw


def parse_feeder_grid(raw: dict[str, Any], base_dir: Path) -> tuple[FeederGridConfig, Feeder]:
    """Validate and read; raises pydantic's ValidationError or :class:`FeederBuildError`."""
    config = validate_input(FeederGridConfig, raw)
    path = (base_dir / config.dss).resolve()
    if not path.is_file():
        raise FeederBuildError(f"no .dss file {config.dss!r} (looked for {path})")
    try:
        feeder = read_dss(path)
    except DssError as error:
        raise FeederBuildError(str(error)) from None
    loads = {ld.name for ld in feeder.loads}
    unknown = sorted(set(k.lower() for k in config.customers) - loads)
    if unknown:
        raise FeederBuildError(f"customers name loads not in the feeder: {', '.join(unknown)}", "customers")
    return config, feeder


__all__ = ["FeederBuildError", "FeederGridConfig", "is_feeder_grid", "parse_feeder_grid"]
