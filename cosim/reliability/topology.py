"""Radial feeder topology: which feeder each section and load point is on, and fault isolation.

One job: graph questions about a radial distribution system, answered once
when a study is set up (the systems are tens of sections, so plain Python sets
are clearer than anything cleverer):

- which feeder (breaker) a section or load point belongs to;
- after a main-feeder fault, which part of the feeder the nearest disconnects
  (or the breaker) isolate with the fault (the *isolation zone*);
- which nodes can be re-energised by switching, from the substation (after the
  breaker recloses) or from a normally-open tie to an alternative supply.

Conventions, as in the RBTS (Allan et al. 1991): each load point hangs off the
main feeder by one lateral section; a disconnect sits at one or both ends of a
main section; the feeder breaker sits at the substation end of the first
section and can itself isolate that end.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .data import DistributionSystemData


@dataclass(frozen=True)
class Topology:
    """Index arrays describing the feeders of one system (aligned with its tables)."""

    source_nodes: frozenset[int]
    feeder_names: tuple[str, ...]  # one per feeder breaker, in section order
    feeder_of_section: np.ndarray  # int index into feeder_names, for every section
    feeder_of_load_point: np.ndarray  # int index into feeder_names, for every load point
    lateral_of_load_point: np.ndarray  # section index of the lateral serving each load point
    tap_node_of_load_point: np.ndarray  # main-feeder node where that lateral is tapped
    main_sections_at_node: dict[int, tuple[int, ...]]  # node -> indices of main sections touching it


def build_topology(system: DistributionSystemData) -> Topology:
    """Derive feeders, laterals and tap nodes from the section table.

    Raises ``ValueError`` if a main section cannot be traced back to a
    substation node, or a lateral is not tapped directly off a main feeder node.
    """
    sections, load_points = system.sections, system.load_points
    main = np.flatnonzero(sections.is_main)
    feeding = {int(sections.to_node[i]): int(i) for i in main}  # node -> main section that feeds it
    sources = frozenset(int(n) for n in sections.from_node[main] if int(n) not in feeding)

    def root_section(index: int) -> int:
        seen = set()
        while int(sections.from_node[index]) not in sources:
            parent = feeding.get(int(sections.from_node[index]))
            if parent is None or parent in seen:
                raise ValueError(f"section {sections.section_id[index]} is not connected to a substation node")
            seen.add(parent)
            index = parent
        return index

    roots: list[int] = []
    feeder_of_section = np.full(len(sections), -1, dtype=np.int64)
    for i in main:
        root = root_section(int(i))
        if root not in roots:
            roots.append(root)
        feeder_of_section[i] = roots.index(root)
    node_feeder = {int(sections.to_node[i]): int(feeder_of_section[i]) for i in main}

    lateral_of_lp = np.full(len(load_points), -1, dtype=np.int64)
    row_of_lp = {int(lp): row for row, lp in enumerate(load_points.load_point_id)}
    for i in np.flatnonzero(~sections.is_main):
        tap = int(sections.from_node[i])
        if tap not in node_feeder:
            raise ValueError(f"lateral section {sections.section_id[i]} is not tapped off a main feeder node")
        feeder_of_section[i] = node_feeder[tap]
        lateral_of_lp[row_of_lp[int(sections.load_point_id[i])]] = i
    tap_node = sections.from_node[lateral_of_lp]
    feeder_of_lp = feeder_of_section[lateral_of_lp]

    names = []
    for f in range(len(roots)):
        labels = sorted(set(load_points.feeder[feeder_of_lp == f].tolist()))
        names.append("/".join(labels) if labels else f"feeder{f + 1}")
    at_node: dict[int, list[int]] = defaultdict(list)
    for i in main:
        at_node[int(sections.from_node[i])].append(int(i))
        at_node[int(sections.to_node[i])].append(int(i))
    return Topology(
        source_nodes=sources,
        feeder_names=tuple(names),
        feeder_of_section=feeder_of_section,
        feeder_of_load_point=feeder_of_lp,
        lateral_of_load_point=lateral_of_lp,
        tap_node_of_load_point=tap_node,
        main_sections_at_node={node: tuple(items) for node, items in at_node.items()},
    )


def _switch_at(system: DistributionSystemData, section: int, node: int) -> bool:
    """Whether a disconnect (or the breaker) on ``section`` can open at its ``node`` end."""
    sections = system.sections
    if node == int(sections.from_node[section]):
        return bool(sections.disconnect_upstream[section] or sections.has_breaker[section])
    return bool(sections.disconnect_downstream[section])


def isolation_zone(system: DistributionSystemData, topology: Topology, faulted: int) -> tuple[frozenset[int], frozenset[int]]:
    """Main sections and nodes that stay dead until the faulted main section is repaired.

    Starting from the faulted section, the zone grows through every node and
    every adjoining main section until it meets an open-able switch. Load
    points tapped at a zone node wait for the repair.
    """
    zone_sections = {faulted}
    zone_nodes: set[int] = set()
    frontier = [faulted]
    sections = system.sections
    while frontier:
        section = frontier.pop()
        for node in (int(sections.from_node[section]), int(sections.to_node[section])):
            if _switch_at(system, section, node) or node in zone_nodes:
                continue
            zone_nodes.add(node)
            for neighbour in topology.main_sections_at_node.get(node, ()):
                if neighbour not in zone_sections and not _switch_at(system, neighbour, node):
                    zone_sections.add(neighbour)
                    frontier.append(neighbour)
    return frozenset(zone_sections), frozenset(zone_nodes)


def energisable_nodes(
    system: DistributionSystemData, topology: Topology, zone_sections: frozenset[int], zone_nodes: frozenset[int]
) -> frozenset[int]:
    """Nodes reachable from a substation or an alternative-supply tie once the zone is isolated.

    The switches bounding the zone are open, so no path enters a zone node. The alternative supply is assumed to have enough capacity and to be fully
    reliable, as in the RBTS base case.
    """
    sections = system.sections
    starts = (set(topology.source_nodes) | {int(n) for n in system.alternative_supply_nodes}) - zone_nodes
    reached = set(starts)
    frontier = list(starts)
    while frontier:
        node = frontier.pop()
        for section in topology.main_sections_at_node.get(node, ()):
            if section in zone_sections:
                continue
            for other in (int(sections.from_node[section]), int(sections.to_node[section])):
                if other not in reached and other not in zone_nodes:
                    reached.add(other)
                    frontier.append(other)
    return frozenset(reached)
