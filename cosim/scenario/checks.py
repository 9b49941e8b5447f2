"""Whole-file rules that a per-field schema cannot see.

Each check yields ``(path, message)`` pairs; the loader adds file and line.
They run only on a file that passed the schema, so they can trust types.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pydantic import BaseModel, ValidationError

from ..comm import CommConfig
from ..domains.registry import APPLICATIONS
from ..events import EVENT_KINDS
from ..nist import AssociationKind
from .durations import format_duration
from .gridrefs import ELEMENT_KINDS, check_reference
from .schema import ScenarioFile
from .strictvalues import validate_input
from .yamlsource import PathKey

Finding = tuple[PathKey, str]

MAX_RUN_STEPS = 100_000_000
"""Application steps in one run: a day at 1 ms fits; a step of a nanosecond would never end."""


@dataclass(frozen=True)
class NestedErrors:
    """Schema errors of a nested section (an application's params), found at ``path``."""

    path: PathKey
    error: ValidationError
    model: type[BaseModel]


GridNames = dict[str, frozenset[str]] | None
"""Element names by kind when the scenario has a (valid) grid, else None."""


def check_scenario(scenario: ScenarioFile, grid: GridNames = None, comm: CommConfig | None = None,
                   base_dir: Path | None = None) -> Iterator[Finding | NestedErrors]:
    """Every cross-reference problem of the file, in file order; with ``base_dir``, of the files it names too."""
    if grid is None and scenario.grid is not None:
        grid = _BROKEN_GRID  # the grid section's own problems are reported; references into it are not checked
    yield from _unique_actor_ids(scenario)
    if comm is not None:
        yield from _comm_actors(scenario, comm)
    yield from _actor_elements(scenario, grid)
    yield from _devices(scenario, grid, comm)
    yield from _applications(scenario, grid, base_dir)
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


_BROKEN_GRID: dict[str, frozenset[str]] = {}
"""Stands for a grid section that failed validation: nothing can be said about references into it."""


def _grid_reference(reference: str, grid: GridNames, allowed: tuple[str, ...]) -> str | None:
    if grid is _BROKEN_GRID:
        return None
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


def _applications(scenario: ScenarioFile, grid: GridNames, base_dir: Path | None) -> Iterator[Finding | NestedErrors]:
    device_kinds = {raw.get("id"): raw.get("kind") for raw in scenario.devices if isinstance(raw, dict)}
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
                params = validate_input(spec.params, app.params)
            except ValidationError as error:
                yield NestedErrors(path + ("params",), error, spec.params)
                continue
            for field, kind in spec.params.grid_refs.items():
                name = getattr(params, field)
                if name is not None and (problem := _grid_reference(f"{kind}/{name}", grid, (kind,))):
                    yield path + ("params", field), problem
            yield from _device_refs(path + ("params",), params, spec.params.device_refs, device_kinds)
            if base_dir is not None:
                for where, problem in params.file_problems(base_dir):
                    yield path + ("params",) + where, problem


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
        low, high = sorted((association.source, association.target))
        pair = (low, high, association.kind)
        if pair in seen:
            yield ("associations", index), f"repeats associations[{seen[pair]}] ({association.kind.value} between the same actors)"
        else:
            seen[pair] = index


def _run_and_events(scenario: ScenarioFile) -> Iterator[Finding]:
    run = scenario.run
    if run.step > run.duration:
        yield ("run", "step"), f"step {format_duration(run.step)} is longer than the run ({format_duration(run.duration)})"
    elif run.duration / run.step > MAX_RUN_STEPS:
        yield ("run", "step"), (f"step {format_duration(run.step)} makes {run.duration / run.step:,.0f} steps in the run "
                                f"({format_duration(run.duration)}); at most {MAX_RUN_STEPS:,}")
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
        if kind.needs_grid and grid is None and not event.target:  # (a broken grid is _BROKEN_GRID, not None)
            yield path + ("kind",), f"a {event.kind!r} event acts on the grid but the scenario has no grid section"
        elif kind.needs_target and not event.target:
            yield path + ("target",), f"a {event.kind!r} event needs a target"
        elif event.target and kind.target_kinds and (problem := _grid_reference(event.target, grid, kind.target_kinds)):
            yield path + ("target",), problem
        try:
            validate_input(kind.params, event.params)
        except ValidationError as error:
            yield NestedErrors(path + ("params",), error, kind.params)


def _device_refs(path: PathKey, params: object, refs: dict[str, str], kinds: dict[object, object]) -> Iterator[Finding]:
    """Application params naming devices (a SCADA polling list) must name scenario devices of the right kind."""
    for field, kind in refs.items():
        value = getattr(params, field)
        items = [(path + (field,), value)] if isinstance(value, str) else [
            (path + (field, index), item) for index, item in enumerate(value or ())]
        for where, device_id in items:
            if device_id not in kinds:
                known = sorted(str(k) for k in kinds)
                yield where, f"unknown device {device_id!r}{_suggest(str(device_id), known)}"
            elif kind != "*" and kinds[device_id] != kind:
                yield where, f"device {device_id!r} is a {kinds[device_id]}, expected a {kind}"


def _devices(scenario: ScenarioFile, grid: GridNames, comm: CommConfig | None) -> Iterator[Finding | NestedErrors]:
    """Each ``devices:`` entry against its kind's model, then its references to actors, grid and comm."""
    # Imported here: devices.config uses this package's Duration type, so a top-level import would be a cycle.
    from devices.config import UnknownKind, device_model

    actors = [actor.id for actor in scenario.actors]
    check_comm = comm is not None or scenario.comm is None
    nodes: set[str] = set()
    groups: set[str] = set()
    brokers: set[str] = set()
    if comm is not None:
        nodes = {node.id for node in comm.nodes}
        for group in comm.node_groups:
            groups.add(group.id_format)
            nodes.update(group.member_ids())
        brokers = {broker.node for broker in comm.mqtt.brokers}
    first: dict[str, int] = {}
    units: dict[tuple[str, int], int] = {}
    station_addresses: dict[tuple[str, str, int], int] = {}
    for index, raw in enumerate(scenario.devices):
        path: PathKey = ("devices", index)
        if not isinstance(raw, dict):
            yield path, "a device entry is a mapping (id, kind, node, params, ...)"
            continue
        try:
            model = device_model(raw)
        except UnknownKind as error:
            yield path + ("kind",), str(error)
            continue
        try:
            config = validate_input(model, raw)
        except ValidationError as error:
            yield NestedErrors(path, error, model)
            continue
        if config.id in first:
            yield path + ("id",), f"duplicate device id {config.id!r} (first used at devices[{first[config.id]}])"
        first.setdefault(config.id, index)
        if config.actor is not None and config.actor not in actors:
            yield path + ("actor",), f"unknown actor {config.actor!r}{_suggest(config.actor, actors)}"
        for sub, reference, allowed in config.grid_references():
            if problem := _grid_reference(reference, grid, allowed):
                yield path + sub, problem
        if config.needs_node() and config.node is None and config.kind != "meter_population":
            yield path + ("node",), f"a {config.kind} talks over the network: give the comm node it sits on"
        if not check_comm:
            continue
        for sub, name, what in config.comm_references():
            if comm is None:
                yield path + sub, f"names comm {what} {name!r} but the scenario has no comm section"
            elif what == "node" and name not in nodes:
                yield path + sub, f"unknown comm node {name!r}{_suggest(name, sorted(nodes)[:1000])}"
            elif what == "broker" and name not in brokers:
                yield path + sub, f"no MQTT broker at node {name!r} (brokers: {', '.join(sorted(brokers)) or 'none'})"
            elif what == "node_group" and name not in groups:
                yield path + sub, f"no comm node_group with id_format {name!r} (have: {', '.join(sorted(groups)) or 'none'})"
        if comm is not None and config.node in brokers and getattr(config.params, "mqtt", None) is not None:
            yield path + ("node",), (f"node {config.node!r} hosts the MQTT broker; a device that talks MQTT "
                                     "needs a node of its own (one MQTT endpoint per node)")
        served = config.served_protocols()
        if config.node is not None and "modbus" in served and config.kind != "meter_population":
            key = (config.node, config.unit_id)
            if key in units:
                yield path + ("unit_id",), f"unit_id {config.unit_id} on node {config.node!r} already used by devices[{units[key]}]"
            units.setdefault(key, index)
        for protocol, section in served.items():
            field = section.unique_on_node
            if field is None or config.node is None:
                continue
            place = (protocol, config.node, getattr(section, field))
            if place in station_addresses:
                yield path + ("protocols", protocol, field), (
                    f"{protocol} {field} {place[2]} on node {config.node!r} already used by devices[{station_addresses[place]}]")
            station_addresses.setdefault(place, index)
