"""Whole-file rules that a per-field schema cannot see.

Each check yields ``(path, message)`` pairs; the loader adds file and line.
They run only on a file that passed the schema, so they can trust types.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterator

from pydantic import BaseModel, ValidationError

from ..comm import CommConfig
from ..domains.registry import APPLICATIONS
from ..events import EVENT_KINDS
from ..nist import AssociationKind
from .durations import format_duration
from .gridrefs import ELEMENT_KINDS, check_reference
from .schema import ScenarioFile
from .yamlsource import PathKey

Finding = tuple[PathKey, str]


@dataclass(frozen=True)
class NestedErrors:
    """Schema errors of a nested section (an application's params), found at ``path``."""

    path: PathKey
    error: ValidationError
    model: type[BaseModel]


GridNames = dict[str, frozenset[str]] | None
"""Element names by kind when the scenario has a (valid) grid, else None."""


def check_scenario(scenario: ScenarioFile, grid: GridNames = None, comm: CommConfig | None = None) -> Iterator[Finding | NestedErrors]:
    """Every cross-reference problem of the file, in file order."""
    yield from _unique_actor_ids(scenario)
    if comm is not None:
        yield from _comm_actors(scenario, comm)
    yield from _actor_elements(scenario, grid)
    yield from _applications(scenario, grid)
    yield from _associations(scenario)
    yield from _run_and_events(scenario)
    yield from _events(scenario, grid)


def _comm_actors(scenario: ScenarioFile, comm: CommConfig) -> Iterator[Finding]:
    """A communication node that says which actor it belongs to must name a scenario actor."""
    ids = [actor.id for actor in scenario.actors]
    for key, items in (("nodes", comm.nodes), ("node_groups", comm.node_groups)):
        for index, item in enumerate(items):
            actor = getattr(item, "actor", None)
            if actor is not None and actor not in ids:
                yield ("comm", key, index, "actor"), f"unknown actor {actor!r}{_suggest(actor, ids)}"


def _grid_reference(reference: str, grid: GridNames, allowed: tuple[str, ...]) -> str | None:
    if grid is None:
        return f"refers to grid element {reference!r} but the scenario has no grid section"
    return check_reference(reference, grid, allowed)


def _actor_elements(scenario: ScenarioFile, grid: GridNames) -> Iterator[Finding]:
    owner: dict[str, int] = {}
    for a_index, actor in enumerate(scenario.actors):
        for e_index, reference in enumerate(actor.elements):
            problem = _grid_reference(reference, grid, tuple(ELEMENT_KINDS))
            if problem:
                yield ("actors", a_index, "elements", e_index), problem
            elif reference in owner and owner[reference] != a_index:
                yield ("actors", a_index, "elements", e_index), f"{reference!r} already belongs to actors[{owner[reference]}]"
            owner.setdefault(reference, a_index)


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


def _applications(scenario: ScenarioFile, grid: GridNames) -> Iterator[Finding | NestedErrors]:
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
                params = spec.params.model_validate(app.params)
            except ValidationError as error:
                yield NestedErrors(path + ("params",), error, spec.params)
                continue
            for field, kind in spec.params.grid_refs.items():
                name = getattr(params, field)
                if name is not None and (problem := _grid_reference(f"{kind}/{name}", grid, (kind,))):
                    yield path + ("params", field), problem


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


def _events(scenario: ScenarioFile, grid: GridNames) -> Iterator[Finding | NestedErrors]:
    for index, event in enumerate(scenario.events):
        path = ("events", index)
        kind = EVENT_KINDS.get(event.kind)
        if kind is None:
            known = sorted(EVENT_KINDS)
            yield path + ("kind",), f"unknown event kind {event.kind!r}{_suggest(event.kind, known)}; known: {', '.join(known)}"
            continue
        if kind.needs_grid and grid is None and not event.target:
            yield path + ("kind",), f"a {event.kind!r} event acts on the grid but the scenario has no grid section"
        elif kind.needs_target and not event.target:
            yield path + ("target",), f"a {event.kind!r} event needs a target"
        elif event.target and kind.target_kinds and (problem := _grid_reference(event.target, grid, kind.target_kinds)):
            yield path + ("target",), problem
        try:
            kind.params.model_validate(event.params)
        except ValidationError as error:
            yield NestedErrors(path + ("params",), error, kind.params)
