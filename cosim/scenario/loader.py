"""Loads a scenario file, validates all of it and builds the NIST model.

All problems are collected before anything is reported, so a user fixes a
broken file in one pass: YAML syntax, then the schema, then cross-references.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..plugins import PluginError, load_plugins
from ..comm import CommConfig
from ..errors import Problem, ScenarioError
from ..grid import GridBuildError, GridConfig, Network
from ..grid.threephase import Feeder
from ..grid.threephase.adapter import element_names as feeder_element_names
from ..nist import Actor, Application, Association, SmartGridModel
from .checks import NestedErrors, check_scenario
from .durations import parse_duration
from .feedergrid import FeederBuildError, FeederGridConfig, feeder_findings, is_feeder_grid, parse_feeder_grid
from .gridrefs import earth_fault_findings, element_names, parse_grid
from .messages import problems_from_validation
from .schema import ScenarioFile
from .strictvalues import validate_input
from .implied import implied_devices
from .yamlsource import YamlDocument, format_path, parse_yaml, read_yaml


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: its file, its content, its hash and its NIST model."""

    path: Path
    display_name: str
    sha256: str
    source: bytes  # the file as read, copied beside the results of every run
    base_dir: Path  # folder that relative paths inside the scenario are resolved against
    spec: ScenarioFile
    model: SmartGridModel
    grid: GridConfig | None = None
    comm: CommConfig | None = None
    network: Network | None = None  # built from ``grid`` while validating; immutable, so runs share it
    feeder_grid: FeederGridConfig | None = None  # ``grid: {model: unbalanced, dss: ...}`` instead of ``grid``
    feeder: Feeder | None = None  # read from ``feeder_grid.dss`` while validating; immutable

    def with_run(self, **changes: object) -> "Scenario":
        """A copy with ``run`` fields replaced (``seed=7``, ``duration=3600.0``), as the CLI overrides do.

        ``source`` becomes the effective scenario (the file with the new
        ``run`` values), so the ``scenario.yaml`` saved beside the results
        re-runs exactly what ran; ``sha256`` stays the hash of the file as
        given (the manifest's ``scenario_sha256`` names the input file, and the
        saved copy has its own hash among the result files).
        """
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        run = self.spec.run.model_copy(update=changes)
        source = effective_source(self.source, self.display_name, changes)
        return dataclasses.replace(self, spec=self.spec.model_copy(update={"run": run}), source=source)


def effective_source(source: bytes, display_name: str, run_changes: dict[str, object]) -> bytes:
    """The scenario file's text with ``run`` fields replaced, headed by a comment saying so (comments are not kept)."""
    document, _ = parse_yaml(source.decode("utf-8"), display_name)
    data = dict(document.data) if document is not None and isinstance(document.data, dict) else {}
    data["run"] = {**(data.get("run") or {}), **run_changes}
    shown = ", ".join(f"run.{k}={v!r}" for k, v in run_changes.items())
    header = f"# {display_name} as it ran, with {shown} from the command line\n"
    duration = run_changes.get("duration")
    if isinstance(duration, float) and isinstance(data.get("events"), list):
        # A shorter run never reaches these events; kept, they would make the saved file invalid.
        kept = [e for e in data["events"] if not (isinstance(e, dict) and _seconds(e.get("at")) > duration)]
        if len(kept) < len(data["events"]):
            header += f"# ({len(data['events']) - len(kept)} events after the end of the shorter run left out)\n"
            data["events"] = kept
    return (header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)).encode("utf-8")


def display_name_for(path: Path) -> str:
    """The path as the user would type it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def load_scenario(path: str | Path, base_dir: Path | None = None, document: YamlDocument | None = None) -> Scenario:
    """Read and validate ``path``; raises :class:`ScenarioError` listing every problem.

    Relative paths inside the file (a grid case) are resolved against
    ``base_dir``, by default the file's own folder; a sweep passes the base
    scenario's folder for the copies it writes elsewhere. ``document`` is the
    file already read (``cosim validate`` reads a file once to learn its kind).
    """
    path = Path(path)
    base_dir = (Path(base_dir) if base_dir is not None else path.parent).resolve()
    name = display_name_for(path)
    try:
        load_plugins()  # kinds from the user's packages, before anything names them
    except PluginError as error:
        raise ScenarioError([Problem(name, "", str(error))]) from None
    problems: list[Problem] = []
    if document is None:
        document, problems = read_yaml(path, name)
    if document is None:
        raise ScenarioError(problems)
    if not isinstance(document.data, dict):
        raise ScenarioError(problems + [Problem(name, "", "a scenario is a mapping of sections (name, run, actors, ...)", 1)])
    try:
        spec = validate_input(ScenarioFile, document.data)
    except ValidationError as error:
        raise ScenarioError(problems + problems_from_validation(error, name, document, ScenarioFile)) from None
    grid_config, grid_names, network = None, None, None
    feeder_config, feeder = None, None
    if spec.grid is not None and is_feeder_grid(spec.grid):
        try:
            feeder_config, feeder = parse_feeder_grid(spec.grid, base_dir)
            grid_names = feeder_element_names(feeder)
            for where, message in feeder_findings(spec):
                problems.append(Problem(name, format_path(where), message, document.line_of(where)))
        except ValidationError as error:
            problems += problems_from_validation(error, name, document, FeederGridConfig, ("grid",))
        except FeederBuildError as error:
            at: tuple[object, ...] = ("grid", error.field)
            problems.append(Problem(name, format_path(at), str(error), document.line_of(at)))
    elif spec.grid is not None:
        try:
            grid_config, network = parse_grid(spec.grid, base_dir)
            grid_names = element_names(network)
            for where, message in earth_fault_findings(spec, grid_config, network):
                problems.append(Problem(name, format_path(where), message, document.line_of(where)))
        except ValidationError as error:
            problems += problems_from_validation(error, name, document, GridConfig, ("grid",))
        except GridBuildError as error:
            where, message = _split_grid_error(str(error))
            problems.append(Problem(name, format_path(where), message, document.line_of(where)))
    comm_config = None
    if spec.comm is not None:
        try:
            comm_config = validate_input(CommConfig, spec.comm)
        except ValidationError as error:
            problems += problems_from_validation(error, name, document, CommConfig, ("comm",))
    for finding in check_scenario(spec, grid_names, comm_config, base_dir):
        if isinstance(finding, NestedErrors):
            problems += problems_from_validation(finding.error, name, document, finding.model, finding.path)
        else:
            where, message = finding
            problems.append(Problem(name, format_path(where), message, document.line_of(where)))
    if problems:
        raise ScenarioError(problems)
    implied = implied_devices(spec)
    if implied:
        spec = spec.model_copy(update={"devices": list(spec.devices) + implied})
    source = path.read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    return Scenario(path.resolve(), name, digest, source, base_dir, spec, build_model(spec), grid_config, comm_config, network,
                    feeder_config, feeder)


def _seconds(value: object) -> float:
    try:
        return parse_duration(value)
    except ValueError:
        return 0.0


M = TypeVar("M", bound=BaseModel)


def load_model_file(path: str | Path, model: type[M], document: YamlDocument | None = None) -> M:
    """Read a YAML file that is one pydantic ``model`` (a study or sweep file), reporting like scenarios."""
    path = Path(path)
    name = display_name_for(path)
    problems: list[Problem] = []
    if document is None:
        document, problems = read_yaml(path, name)
    if document is None or problems:
        raise ScenarioError(problems)
    if not isinstance(document.data, dict):
        raise ScenarioError([Problem(name, "", "expected a mapping of fields", 1)])
    try:
        return validate_input(model, document.data)
    except ValidationError as error:
        raise ScenarioError(problems_from_validation(error, name, document, model)) from None


def _split_grid_error(text: str) -> tuple[tuple[object, ...], str]:
    """``"loads.0.bus: '9' is not a bus"`` -> (("grid", "loads", 0, "bus"), "'9' is not a bus")."""
    head, separator, rest = text.partition(": ")
    if separator and head and " " not in head:
        parts = tuple(int(p) if p.isdigit() else p for p in head.split("."))
        return ("grid",) + parts, rest
    return ("grid",), text


def build_model(spec: ScenarioFile) -> SmartGridModel:
    """The NIST view of a validated scenario file."""
    actors = tuple(
        Actor(
            actor_id=actor.id,
            domain=actor.domain,
            role=actor.role,
            name=actor.name or actor.id,
            applications=tuple(
                Application(app.kind, app.name or f"{actor.id}/{app.kind}", dict(app.params)) for app in actor.applications
            ),
            peak_kw=actor.peak_kw,
            elements=tuple(actor.elements),
        )
        for actor in spec.actors
    )
    associations = tuple(Association(a.source, a.target, a.kind, a.label) for a in spec.associations)
    owners = {
        str(device["id"]): str(device["actor"])
        for device in spec.devices
        if isinstance(device, dict) and device.get("id") and device.get("actor")
    }
    return SmartGridModel(actors, associations, owners)
