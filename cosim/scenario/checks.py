"""Whole-file rules that a per-field schema cannot see.

Each check yields ``(path, message)`` pairs; the loader adds file and line.
They run only on a file that passed the schema, so they can trust types.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterator

from pydantic import BaseModel, ValidationError

from ..domains.registry import APPLICATIONS
from ..events import EVENT_KINDS
from ..nist import AssociationKind
from .durations import format_duration
from .schema import ScenarioFile
from .yamlsource import PathKey

Finding = tuple[PathKey, str]


@dataclass(frozen=True)
class NestedErrors:
    """Schema errors of a nested section (an application's params), found at ``path``."""

    path: PathKey
    error: ValidationError
    model: type[BaseModel]


def check_scenario(scenario: ScenarioFile) -> Iterator[Finding | NestedErrors]:
    """Every cross-reference problem of the file, in file order."""
    yield from _unique_actor_ids(scenario)
    yield from _applications(scenario)
    yield from _associations(scenario)
    yield from _run_and_events(scenario)
    yield from _events(scenario)


def _suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unique_actor_ids(scenario: ScenarioFile) -> Iterator[Finding]:
    first_index: dict[str, int] = {}
    for index, actor in enumerate(scenario.actors):
        if actor.id in first_index:
            yield ("actors", index, "id"), f"duplicate actor id {actor.id!r} (first used at actors[{first_index[actor.id]}])"
        else:
            first_index[actor.id] = index


def _applications(scenario: ScenarioFile) -> Iterator[Finding | NestedErrors]:
    for a_index, actor in enumerate(scenario.actors):
        for p_index, app in enumerate(actor.applications):
            path = ("actors", a_index, "applications", p_index)
            spec = APPLICATIONS.get(app.kind)
            if spec is None:
                known = sorted(APPLICATIONS)
                yield path + ("kind",), f"unknown application {app.kind!r}{_suggest(app.kind, known)}; known: {', '.join(known)}"
                continue
            if actor.domain not in spec.domains:
                allowed = ", ".join(sorted(d.value for d in spec.domains))
                yield path + ("kind",), f"{app.kind!r} runs in {allowed} actors, not in {actor.domain.value}"
            try:
                spec.params.model_validate(app.params)
            except ValidationError as error:
                yield NestedErrors(path + ("params",), error, spec.params)


def _associations(scenario: ScenarioFile) -> Iterator[Finding]:
    domains = {actor.id: actor.domain for actor in scenario.actors}
    ids = list(domains)
    seen: dict[tuple[str, str, AssociationKind], int] = {}
    for index, association in enumerate(scenario.associations):
        ends_known = True
        for end, key in ((association.source, "from"), (association.target, "to")):
            if end not in domains:
                ends_known = False
                yield ("associations", index, key), f"unknown actor {end!r}{_suggest(end, ids)}"
        if not ends_known:
            continue
        if association.source == association.target:
            yield ("associations", index, "to"), f"an association joins two different actors, not {association.source!r} to itself"
        if association.kind is AssociationKind.ELECTRICAL:
            for end in (association.source, association.target):
                if not domains[end].carries_power:
                    yield (
                        ("associations", index, "kind"),
                        f"electrical association with {end!r} of {domains[end].value}: only Bulk Generation, "
                        "Transmission, Distribution and Customer actors exchange energy",
                    )
        key = (*sorted((association.source, association.target)), association.kind)
        if key in seen:
            yield ("associations", index), f"repeats associations[{seen[key]}] ({association.kind.value} between the same actors)"
        else:
            seen[key] = index


def _run_and_events(scenario: ScenarioFile) -> Iterator[Finding]:
    run = scenario.run
    if run.step > run.duration:
        yield ("run", "step"), f"step {format_duration(run.step)} is longer than the run ({format_duration(run.duration)})"
    for index, event in enumerate(scenario.events):
        if event.at > run.duration:
            yield ("events", index, "at"), f"{format_duration(event.at)} is after the end of the run ({format_duration(run.duration)})"


def _events(scenario: ScenarioFile) -> Iterator[Finding | NestedErrors]:
    for index, event in enumerate(scenario.events):
        path = ("events", index)
        kind = EVENT_KINDS.get(event.kind)
        if kind is None:
            known = sorted(EVENT_KINDS)
            yield path + ("kind",), f"unknown event kind {event.kind!r}{_suggest(event.kind, known)}; known: {', '.join(known)}"
            continue
        if kind.needs_target and not event.target:
            yield path + ("target",), f"a {event.kind!r} event needs a target"
        try:
            kind.params.model_validate(event.params)
        except ValidationError as error:
            yield NestedErrors(path + ("params",), error, kind.params)
