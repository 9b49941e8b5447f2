"""The ``grid: {model: unbalanced, dss: FILE}`` form of a scenario's grid: a three-phase feeder from OpenDSS files.

A scenario's ``grid:`` section normally describes a balanced network (solved
by the positive-sequence Newton solver, :mod:`cosim.grid`). With
``model: unbalanced`` it names a ``.dss`` feeder instead (path relative to the
scenario), read by :func:`cosim.grid.threephase.read_dss` while the scenario
loads, so a bad file is reported before anything runs; the run solves it with
the three-phase fixed-point solver behind :class:`cosim.grid.threephase.adapter.FeederGrid`.
"""

from __future__ import annotations

from collections.abc import Iterator
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


FEEDER_DEVICE_KINDS = ("rtu", "protective_relay", "recloser", "sectionalizer", "fuse", "voltage_regulator")
"""Device kinds that read a feeder through the balanced API only (the others read the balanced network's tables)."""
FEEDER_RTU_ELEMENTS = ("bus", "branch", "switch", "load")
"""RTU point elements a feeder answers (shunt, DER and generator points read the balanced tables)."""
BALANCED_ONLY_EVENTS = ("stochastic_faults",)
"""Event kinds that place a balanced network's fault (a feeder takes a ``fault`` event at a bus, with phases)."""


def feeder_findings(spec: Any) -> Iterator[tuple[tuple[object, ...], str]]:
    """(path, message) for each device or event of ``spec`` that cannot run on an unbalanced feeder."""
    for i, device in enumerate(spec.devices):
        if not isinstance(device, dict):
            continue
        kind = device.get("kind")
        if kind not in FEEDER_DEVICE_KINDS:
            yield (("devices", i, "kind"),
                   f"a {kind} does not run on an unbalanced feeder (grid.model: unbalanced); "
                   f"these do: {', '.join(FEEDER_DEVICE_KINDS)}")
            continue
        params = device.get("params")
        points = params.get("points") if isinstance(params, dict) else None
        for j, point in enumerate(points if isinstance(points, list) else []):
            if not isinstance(point, dict):
                continue
            element = str(point.get("source", "")).partition("/")[0]
            if point.get("kind") == "setpoint" or element not in FEEDER_RTU_ELEMENTS:
                yield (("devices", i, "params", "points", j, "source"),
                       f"{point.get('kind')} point on {element!r}: on an unbalanced feeder RTU points are "
                       f"analog, status or control points of {', '.join(FEEDER_RTU_ELEMENTS)}")
    for i, event in enumerate(spec.events):
        if event.kind in BALANCED_ONLY_EVENTS:
            yield (("events", i, "kind"),
                   f"a {event.kind} event places a balanced fault; an unbalanced feeder has none yet")
        elif event.kind == "fault" and not str(event.target or "").startswith("bus/"):
            yield (("events", i, "target"),
                   "on an unbalanced feeder a fault is placed at a bus (target bus/NAME), not along a line")


__all__ = ["FEEDER_DEVICE_KINDS", "FeederBuildError", "FeederGridConfig", "feeder_findings", "is_feeder_grid",
           "parse_feeder_grid"]
