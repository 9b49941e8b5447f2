"""Which kind of input file a YAML file is, and how ``cosim validate`` checks each kind.

The project reads five kinds of YAML file: scenarios, sweeps, HIL bench
files, reliability studies and market cases. A file may say what it is with a
top-level ``kind:`` line; otherwise its kind is recognised by the section
only that kind has (``hil:``, ``study:``, ``parameters:``/``scenario:``,
``reference_bus:``), and anything else is a scenario. Each kind is then
validated with its own schema, so ``cosim validate configs/*.yaml`` checks
every shipped file instead of reporting a bench file as a broken scenario.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Problem, ScenarioError
from .loader import display_name_for, load_model_file, load_scenario
from .messages import problems_from_validation
from .strictvalues import validate_input
from .yamlsource import YamlDocument, read_yaml


@dataclass(frozen=True)
class FileKind:
    name: str
    marker: Callable[[dict[str, Any]], bool]  # recognises a file without a kind: line
    check: Callable[[Path, YamlDocument], str]  # validates; returns the "ok (...)" detail


def _scenario(path: Path, document: YamlDocument) -> str:
    scenario = load_scenario(path, document=document)
    return f"{len(scenario.model.actors)} actors, {len(scenario.model.associations)} associations"


def _sweep(path: Path, document: YamlDocument) -> str:
    from ..batch.sweepfile import load_sweep

    sweep = load_sweep(path, document=document)
    return f"sweep of {len(sweep.runs)} runs"


def _bench(path: Path, document: YamlDocument) -> str:
    from ..hil.config import HilFile

    load_model_file(path, HilFile, document=document)
    return "HIL bench"


def _study(path: Path, document: YamlDocument) -> str:
    from ..reliability.studyfile import ReliabilityStudyFile

    spec = load_model_file(path, ReliabilityStudyFile, document=document)
    return f"reliability study of {spec.study.system}"


def _market_case(path: Path, document: YamlDocument) -> str:
    from ..markets.case import case_from_dict
    from ..markets.casefile import MarketCaseFile

    name = display_name_for(path)
    try:
        validate_input(MarketCaseFile, document.data)
    except ValidationError as error:
        raise ScenarioError(problems_from_validation(error, name, document, MarketCaseFile)) from None
    try:
        case = case_from_dict(document.data, name)
    except ValueError as error:  # bus references: "where: field: message" lines after a heading
        problems = []
        for text in str(error).splitlines()[1:]:
            _, _, rest = text.strip().partition(": ")
            field, _, message = rest.partition(": ")
            where = tuple(int(p) if p.isdigit() else p for p in field.replace("[", ".").replace("]", "").split("."))
            problems.append(Problem(name, field, message, document.line_of(where)))
        raise ScenarioError(problems) from None
    return f"market case, {len(case.buses)} buses"


FILE_KINDS: tuple[FileKind, ...] = (
    FileKind("hil_bench", lambda data: "hil" in data, _bench),
    FileKind("reliability_study", lambda data: "study" in data, _study),
    FileKind("sweep", lambda data: "parameters" in data or ("scenario" in data and "actors" not in data), _sweep),
    FileKind("market_case", lambda data: "reference_bus" in data, _market_case),
    FileKind("scenario", lambda data: True, _scenario),
)


def validate_file(path: Path) -> str:
    """``"<file>: ok (<detail>)"`` for a valid file of any kind; raises :class:`ScenarioError` otherwise."""
    name = display_name_for(path)
    document, problems = read_yaml(path, name)
    if document is None:
        raise ScenarioError(problems)
    data = document.data
    kind = _kind_of(data, name, document) if isinstance(data, dict) else FILE_KINDS[-1]  # the scenario says what it expects
    try:
        detail = kind.check(path, document)
    except ScenarioError as error:
        raise ScenarioError(problems + [p for p in error.problems if p not in problems]) from None
    if problems:
        raise ScenarioError(problems)
    return f"{name}: ok ({detail})"


def _kind_of(data: dict[str, Any], name: str, document: YamlDocument) -> FileKind:
    declared = data.get("kind")
    if declared is None:
        return next(kind for kind in FILE_KINDS if kind.marker(data))
    for kind in FILE_KINDS:
        if declared == kind.name:
            return kind
    names = ", ".join(kind.name for kind in FILE_KINDS)
    raise ScenarioError([Problem(name, "kind", f"{declared!r} is not a file kind (one of {names})", document.line_of(("kind",)))])
