"""FLISR planning: fault location, isolation and service restoration, as pure functions.

One job: from the DMS's network model (:class:`~cosim.operations.feeder.FeederGraph`),
the switch positions and the fault reports SCADA received, say where the
fault is, which switches isolate it, which normally-open tie may pick up the
healthy sections beyond it, and how to go back to the normal configuration
after the repair. Nothing here waits, talks or touches the grid; the DMS
process (:mod:`cosim.operations.dms`) carries the plan out over SCADA and crews.

Location rule (the usual fault-passage-indicator logic, e.g. IEEE Std 1547.4
-style sectionalising, and utility FLISR descriptions such as EPRI 1020132):
on a radial feeder fault current flows from the source to the fault, so the
fault lies downstream of the *last* device that saw fault current and
upstream of every monitored device that did not. The faulted zone is the set
of buses beyond that device, cut at the monitored switches and at the
switches that were open before the fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from .feeder import FeederGraph, SwitchStates


@dataclass(frozen=True)
class FaultLocation:
    """Where the fault is: the zone's buses, the device that saw it last, the switches that isolate it.

    ``isolating`` are the switches closed before the fault on the zone's
    boundary; ``upstream`` is the one on the source side (the last device
    that saw fault current).
    """

    faulted_buses: frozenset[int]
    upstream: str
    isolating: tuple[str, ...]


def locate_fault(graph: FeederGraph, prefault: SwitchStates, saw_fault: Iterable[str],
                 monitored: Iterable[str]) -> FaultLocation | None:
    """The faulted zone from fault reports, or None when no device reported fault current.

    ``prefault`` are the switch positions before the protection operated
    (the breaker that tripped counts as closed); ``saw_fault`` the devices'
    switches that reported fault current; ``monitored`` every switch whose
    device can report it (a silent monitored switch bounds the zone).
    """
    seen = [s for s in saw_fault if prefault.get(s, True)]
    if not seen:
        return None

    def depth(switch: str) -> int:
        s = graph.switch_index(switch)
        far = graph.other_end(graph.switch_branch[s], graph.switch_bus[s])
        path = graph.path_to_source(far, prefault)
        return -1 if path is None else len(path)

    # The last device on the path from the source: the deepest that saw it (ties by name, for determinism).
    upstream = max(sorted(seen), key=depth)
    opened = [name for name in graph.switch_names if not prefault.get(name, True)]
    cut = set(monitored) | set(opened)
    zone = graph.zone_beyond(upstream, cut)
    boundary = graph.boundary_switches(zone, graph.switch_names)
    isolating = tuple(s for s in boundary if prefault.get(s, True))
    return FaultLocation(frozenset(zone), upstream, isolating)


@dataclass(frozen=True)
class PlanCheck:
    """Outcome of checking a switching state on the DMS model (power flow)."""

    ok: bool
    max_loading_pct: float
    min_vm_pu: float
    reason: str = ""


CheckState = Callable[[SwitchStates], PlanCheck]
"""Checks a candidate switching state (capacity and voltage limits); see :mod:`cosim.operations.dms_model`."""


@dataclass(frozen=True)
class TieTransfer:
    """Close ``tie`` to restore ``buses`` (healthy and dead after isolation); ``check`` is why it was chosen."""

    tie: str
    buses: frozenset[int]
    check: PlanCheck


def dead_regions(graph: FeederGraph, states: SwitchStates, faulted: frozenset[int],
                 was_energised: set[int]) -> list[frozenset[int]]:
    """Healthy buses that were energised before the fault and are dead now, grouped by connectivity."""
    alive = graph.energised_buses(states)
    dead = {b for b in was_energised if b not in alive and b not in faulted}
    regions: list[frozenset[int]] = []
    while dead:
        start = min(dead)
        # buses reachable over closed branches without entering the faulted zone
        region = {start}
        frontier = [start]
        while frontier:
            bus = frontier.pop()
            for k in graph._adjacent[bus]:
                nxt = graph.other_end(k, bus)
                if nxt in dead and nxt not in region and graph._branch_closed(k, states):
                    region.add(nxt)
                    frontier.append(nxt)
        regions.append(frozenset(region))
        dead -= region
    return regions


def plan_restoration(graph: FeederGraph, states: SwitchStates, faulted: frozenset[int],
                     was_energised: set[int], ties: Iterable[str], check: CheckState) -> tuple[list[TieTransfer], list[frozenset[int]]]:
    """Ties to close for each dead healthy region, and the regions no tie can take within limits.

    For each region, the candidate ties are the open switches of ``ties``
    between the region and an energised bus; each is checked with ``check``
    (a power flow on the DMS model) and the one with the lowest peak loading
    that passes is chosen. Regions are handled in bus order; a transfer
    chosen for one region is part of the state checked for the next.
    """
    plan: list[TieTransfer] = []
    stranded: list[frozenset[int]] = []
    current = dict(states)
    tie_list = list(ties)
    for region in dead_regions(graph, current, faulted, was_energised):
        alive = graph.energised_buses(current)
        options = []
        for tie in tie_list:
            s = graph.switch_index(tie)
            if current.get(tie, graph.normally_closed[s]):
                continue
            k = graph.switch_branch[s]
            ends = {graph.branch_from[k], graph.branch_to[k]}
            if ends & region and ends & alive and not ends & faulted:
                trial = {**current, tie: True}
                options.append((tie, check(trial)))
        passing = sorted((c.max_loading_pct, tie, c) for tie, c in options if c.ok)
        if passing:
            _, tie, result = passing[0]
            current[tie] = True
            plan.append(TieTransfer(tie, region, result))
        else:
            stranded.append(region)
    return plan, stranded


def return_to_normal(graph: FeederGraph, states: SwitchStates) -> list[tuple[str, bool]]:
    """Switching steps (switch, close?) back to the normal configuration, make-before-break.

    Normally-closed switches that are open are closed first, nearest the
    source first (so each closure re-energises from upstream); then
    normally-open switches that are closed are opened. Closing before opening
    parallels two feeders for a moment (a closed-loop transfer, as utilities
    do within limits) and interrupts nobody.
    """
    normal = graph.normal_states()
    energised_normal = graph.energised_buses(normal)

    def depth(switch: str) -> int:
        s = graph.switch_index(switch)
        path = graph.path_to_source(graph.switch_bus[s], normal) if graph.switch_bus[s] in energised_normal else None
        return 10**9 if path is None else len(path)

    to_close = sorted((n for n, c in normal.items() if c and not states.get(n, c)), key=lambda n: (depth(n), n))
    to_open = sorted(n for n, c in normal.items() if not c and states.get(n, c))
    return [(n, True) for n in to_close] + [(n, False) for n in to_open]


def customers_of(graph: FeederGraph, buses: Iterable[int]) -> int:
    inside = set(buses)
    return sum(c for b, c in zip(graph.load_bus, graph.load_customers) if b in inside)


def loads_at(graph: FeederGraph, buses: Iterable[int]) -> list[str]:
    inside = set(buses)
    return [n for n, b in zip(graph.load_names, graph.load_bus) if b in inside]


def states_with(states: SwitchStates, changes: Mapping[str, bool]) -> dict[str, bool]:
    return {**states, **changes}
