"""Sweep files: their schema, their validation and their expansion into runs.

A sweep names a base scenario and what to vary in it::

    name: noise-study                 # results go to <out>/noise-study/<run-id>/
    scenario: ../quickstart.yaml      # relative to this file
    parameters:                       # every combination is run (a grid)
      run.duration: [6h, 12h]
      actors[home_1].applications[load_profile].params.noise_pct: [1, 5]
    seeds: [1, 2, 3]                  # or  replicates: 3  (seeds derived from the parameters)

Everything is checked before anything runs, and every problem is reported
with the sweep file's line: malformed or dangling addresses (see
:mod:`cosim.batch.paths`), and each swept value applied alone to the base
scenario and validated like a hand-written scenario.

A run's id and seed are functions of its parameters only, never of its
position in the grid or of which worker ran it, so adding a value to a list
leaves the other runs' folders (and ``--resume``) intact.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import Problem, ScenarioError
from ..outpaths import child
from ..scenario import load_scenario
from ..scenario.loader import display_name_for
from ..scenario.messages import problems_from_validation
from ..scenario.schema import PathName
from ..scenario.strictvalues import validate_input
from ..scenario.yamlsource import YamlDocument, read_yaml
from .paths import Address, AddressError, Key, check_address, parse_address, set_value

SEED_ADDRESS = "run.seed"

# Scenario fields that name a file relative to the scenario's folder. The resolved scenario of a
# run is loaded from elsewhere (a temporary folder to validate, the run folder to run), so such a
# value is made absolute when it names an existing file there; a shipped name ("case9") is kept.
FILE_FIELDS = ("grid.case",)


class SweepFile(BaseModel):
    """The YAML shape of a sweep file; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["sweep"] = "sweep"
    name: PathName = Field(description="folder under the results root")
    scenario: str = Field(min_length=1, description="base scenario, relative to the sweep file")
    description: str = ""
    parameters: dict[str, list[Any]] = Field(default_factory=dict, description="address -> values (a grid)")
    seeds: list[int] | None = Field(None, min_length=1, description="run every combination with each seed")
    replicates: int | None = Field(None, ge=1, le=100_000, description="seeds derived from the parameters")
    out: str = Field("results", description="results root, relative to the working folder")

    @model_validator(mode="after")
    def _one_seed_source(self) -> "SweepFile":
        if self.seeds is not None and self.replicates is not None:
            raise ValueError("give either seeds or replicates, not both")
        if self.seeds is not None and any(not 0 <= s < 2**63 for s in self.seeds):
            raise ValueError("seeds are integers from 0 to 2**63-1")
        if (self.seeds is not None or self.replicates is not None) and SEED_ADDRESS in self.parameters:
            raise ValueError(f"{SEED_ADDRESS} is swept as a parameter; do not also give seeds or replicates")
        if not self.parameters and self.seeds is None and self.replicates is None:
            raise ValueError("nothing to sweep: give parameters, seeds or replicates")
        for address, values in self.parameters.items():
            if not values:
                raise ValueError(f"parameters.{address}: give at least one value")
        return self


@dataclass(frozen=True)
class RunPlan:
    """One run of a sweep: its id, the values it sets and the resolved scenario text it runs."""

    run_id: str
    params: tuple[tuple[str, Any], ...]  # (address as written, value), in sweep-file order
    seed: int
    scenario_yaml: str

    @property
    def params_dict(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: where it came from, where it writes, and its runs in a stable order."""

    path: Path
    display_name: str
    name: str
    base_scenario: Path
    addresses: tuple[str, ...]  # the parameter columns of the results table
    runs: tuple[RunPlan, ...]
    out_dir: Path

    def run_dir(self, run: RunPlan) -> Path:
        return child(self.out_dir, run.run_id)


def load_sweep(path: str | Path, out_root: Path | None = None, document: YamlDocument | None = None) -> Sweep:
    """Read, validate and expand ``path``; raises :class:`ScenarioError` listing every problem."""
    path = Path(path)
    name = display_name_for(path)
    problems: list[Problem] = []
    if document is None:
        document, problems = read_yaml(path, name)
    if document is None:
        raise ScenarioError(problems)
    if not isinstance(document.data, dict):
        raise ScenarioError(problems + [Problem(name, "", "a sweep file is a mapping (name, scenario, parameters, seeds)", 1)])
    try:
        spec = validate_input(SweepFile, document.data)
    except ValidationError as error:
        raise ScenarioError(problems + problems_from_validation(error, name, document, SweepFile)) from None
    base_path = (path.parent / spec.scenario).resolve()
    base = load_scenario(base_path)  # its ScenarioError names the base file's own lines
    base_data = yaml.safe_load(base_path.read_text(encoding="utf-8"))

    addresses: dict[str, Address] = {}
    for text in spec.parameters:
        where = ("parameters", text)
        try:
            address = parse_address(text)
            check_address(base_data, address)
            addresses[text] = address
        except AddressError as error:
            problems.append(Problem(name, f"parameters.{text}", str(error), document.line_of(where)))
    for text, address in addresses.items():
        for value in spec.parameters[text]:
            for found in _single_value_problems(base_data, address, value, base_path.parent):
                problems.append(Problem(name, f"parameters.{text}", f"value {value!r}: {found}", document.line_of(("parameters", text))))
    if problems:
        raise ScenarioError(problems)

    runs = tuple(_expand(spec, base_data, addresses, base.spec.run.seed, base_path.parent))
    root = out_root if out_root is not None else Path(spec.out)
    return Sweep(path.resolve(), name, spec.name, base_path, tuple(spec.parameters), runs, child(root, spec.name))


def _expand(spec: SweepFile, base_data: dict, addresses: dict[str, Address], base_seed: int, base_dir: Path) -> list[RunPlan]:
    """The grid in sweep-file order: parameters vary slowest first, seeds fastest."""
    texts = list(spec.parameters)
    combos = itertools.product(*(spec.parameters[t] for t in texts)) if texts else [()]
    runs = []
    for combo in combos:
        params = tuple(zip(texts, combo))
        if spec.seeds is not None:
            seeds: list[tuple[int, str | None]] = [(s, None) for s in spec.seeds]
        elif spec.replicates is not None:
            seeds = [(derived_seed(params, r), f"rep{r}") for r in range(spec.replicates)]
        else:
            swept = dict(params).get(SEED_ADDRESS)
            seeds = [(int(swept) if swept is not None else base_seed, None)]
        for seed, replicate in seeds:
            data = base_data
            for text, value in params:
                data = set_value(data, addresses[text], value)
            data = set_value(data, parse_address(SEED_ADDRESS), seed)
            identity = params if SEED_ADDRESS in dict(params) else params + ((SEED_ADDRESS, seed),)
            runs.append(RunPlan(run_id(identity, replicate), params, seed, resolved_text(data, base_dir)))
    return runs


def derived_seed(params: tuple[tuple[str, Any], ...], replicate: int) -> int:
    """A seed from the parameters and the replicate number alone: same inputs, same seed, anywhere."""
    digest = hashlib.sha256(_canonical((params, replicate)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # < 2**63, as run.seed requires


def run_id(params: tuple[tuple[str, Any], ...], tag: str | None = None) -> str:
    """``home_1.noise_pct-5_seed-1-3fa2c1d0``: readable name-value pairs plus a hash of the full addresses.

    Each pair names the value by the item it belongs to and its key (``home_1.noise_pct``), so a folder
    says which actor is meant; the hash keeps ids unique whatever the readable part loses when it is
    cut at 64 characters.
    """
    readable = "_".join(f"{parse_address(a).short}-{_slug(v)}" for a, v in params)
    if tag:
        readable = f"{readable}_{tag}" if readable else tag
    digest = hashlib.sha256(_canonical((params, tag)).encode()).hexdigest()[:8]
    return f"{readable[:64]}-{digest}" if readable else digest


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "", str(value)) or "x"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def resolved_text(data: dict, base_dir: Path) -> str:
    """The YAML text of a run's scenario, loadable from any folder (see ``FILE_FIELDS``)."""
    for text in FILE_FIELDS:
        address = parse_address(text)
        try:
            value = _get(data, address)
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        if isinstance(value, str) and not Path(value).is_absolute() and (base_dir / value).exists():
            data = set_value(data, address, str((base_dir / value).resolve()))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _get(data: Any, address: Address) -> Any:
    for step in address.steps:
        data = data[step.name] if isinstance(step, Key) else data[int(step.label)]
    return data


def _single_value_problems(base_data: dict, address: Address, value: Any, base_dir: Path) -> list[str]:
    """Problems of the base scenario with only this one value changed, as 'field: message' texts."""
    data = set_value(base_data, address, value)
    with tempfile.TemporaryDirectory(prefix="cosim-sweep-") as folder:
        candidate = Path(folder) / "scenario.yaml"
        candidate.write_text(resolved_text(data, base_dir), encoding="utf-8")
        try:
            load_scenario(candidate)
        except ScenarioError as error:
            return [f"{p.path}: {p.message}" if p.path else p.message for p in error.problems]
    return []
