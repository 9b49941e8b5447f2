"""The DMS's connectivity model of a distribution network: buses, branches, switches, loads.

One job: answer graph questions a control centre asks of its *own* network
model (engineering data), for a given set of switch positions: which buses
are energised, which zone lies beyond a switch, which switches bound a zone.
Pure Python over plain tuples; it never sees the live grid. The DMS builds it
from the scenario's grid section (:mod:`cosim.operations.dms_model`) and
feeds it the switch positions SCADA reported.

A *zone* is a set of buses joined by branches without a switch (cut at a
chosen set of switches). A switched branch belongs to the zone at its end
away from the switch: a fault on it is cleared by that switch. A branch with
a switch at each end is split at a model-only bus (``bus_sites`` says where a
crew finds it), so the line between the two switches is a zone of its own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Mapping

SwitchStates = Mapping[str, bool]
"""Switch name -> closed."""


@dataclass(frozen=True)
class FeederGraph:
    """Connectivity and loads of a network, in the DMS's model.

    ``switch_bus[s]`` is the bus the switch sits at (an end of its branch);
    ``normally_closed`` the position of the normal configuration (ties are
    normally open). ``load_kw`` is the planning load used for capacity checks
    and energy not supplied.
    """

    buses: tuple[str, ...]
    branch_names: tuple[str, ...]
    branch_from: tuple[int, ...]
    branch_to: tuple[int, ...]
    switch_names: tuple[str, ...]
    switch_branch: tuple[int, ...]
    switch_bus: tuple[int, ...]
    normally_closed: tuple[bool, ...]
    source_buses: frozenset[int]
    load_names: tuple[str, ...]
    load_bus: tuple[int, ...]
    load_customers: tuple[int, ...]
    load_kw: tuple[float, ...]
    bus_sites: tuple[tuple[str, ...], ...] = ()  # where a crew finds each bus: itself, or a model-only line bus's two ends
    _adjacent: dict[int, list[int]] = field(init=False, repr=False, compare=False)
    _switches_of_branch: dict[int, list[int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        adjacent: dict[int, list[int]] = {b: [] for b in range(len(self.buses))}
        for k, (f, t) in enumerate(zip(self.branch_from, self.branch_to)):
            adjacent[f].append(k)
            adjacent[t].append(k)
        on_branch: dict[int, list[int]] = {}
        for s, k in enumerate(self.switch_branch):
            on_branch.setdefault(k, []).append(s)
        object.__setattr__(self, "_adjacent", adjacent)
        object.__setattr__(self, "_switches_of_branch", on_branch)

    # -- lookups -----------------------------------------------------------
    def switch_index(self, name: str) -> int:
        try:
            return self.switch_names.index(name)
        except ValueError:
            raise KeyError(f"no switch {name!r} in the DMS model") from None

    def sites(self, buses: Iterable[int]) -> tuple[str, ...]:
        """The grid buses a crew is sent to for ``buses`` (sorted, each once)."""
        return tuple(sorted({site for b in buses for site in (self.bus_sites[b] if self.bus_sites else (self.buses[b],))}))

    def normal_states(self) -> dict[str, bool]:
        return dict(zip(self.switch_names, self.normally_closed))

    def other_end(self, branch: int, bus: int) -> int:
        f, t = self.branch_from[branch], self.branch_to[branch]
        return t if bus == f else f

    def _branch_closed(self, branch: int, states: SwitchStates) -> bool:
        return all(states.get(self.switch_names[s], self.normally_closed[s]) for s in self._switches_of_branch.get(branch, ()))

    # -- energisation --------------------------------------------------------
    def energised_buses(self, states: SwitchStates, cut_buses: Iterable[int] = ()) -> set[int]:
        """Buses reachable from a source over closed branches (``cut_buses`` block the search: a faulted zone)."""
        blocked = set(cut_buses)
        seen = {b for b in self.source_buses if b not in blocked}
        queue = deque(seen)
        while queue:
            bus = queue.popleft()
            for k in self._adjacent[bus]:
                nxt = self.other_end(k, bus)
                if nxt not in seen and nxt not in blocked and self._branch_closed(k, states):
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    def energised_loads(self, states: SwitchStates) -> list[bool]:
        alive = self.energised_buses(states)
        return [b in alive for b in self.load_bus]

    # -- zones ---------------------------------------------------------------
    def zone_beyond(self, switch: str, cut: Iterable[str]) -> set[int]:
        """Buses on the far side of ``switch`` from its bus, up to the switches in ``cut`` (any position)."""
        s = self.switch_index(switch)
        k = self.switch_branch[s]
        start = self.other_end(k, self.switch_bus[s])
        return self._zone(start, set(cut) | {switch})

    def zone_of_bus(self, bus: int, cut: Iterable[str]) -> set[int]:
        return self._zone(bus, set(cut))

    def _zone(self, start: int, cut: set[str]) -> set[int]:
        cut_branches = {self.switch_branch[self.switch_index(name)] for name in cut}
        seen = {start}
        queue = deque([start])
        while queue:
            bus = queue.popleft()
            for k in self._adjacent[bus]:
                if k in cut_branches:
                    continue
                nxt = self.other_end(k, bus)
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    def boundary_switches(self, zone: set[int], among: Iterable[str]) -> list[str]:
        """Switches of ``among`` on a branch with exactly one end in ``zone`` (in the order of ``among``)."""
        found = []
        for name in among:
            k = self.switch_branch[self.switch_index(name)]
            if (self.branch_from[k] in zone) != (self.branch_to[k] in zone):
                found.append(name)
        return found

    def path_to_source(self, bus: int, states: SwitchStates) -> list[int] | None:
        """Branches from a source to ``bus`` over closed branches (None when not energised)."""
        parent: dict[int, tuple[int, int] | None] = {b: None for b in self.source_buses}
        queue = deque(self.source_buses)
        while queue:
            here = queue.popleft()
            if here == bus:
                path = []
                step = parent[here]
                while step is not None:
                    path.append(step[1])
                    step = parent[step[0]]
                return path[::-1]
            for k in self._adjacent[here]:
                nxt = self.other_end(k, here)
                if nxt not in parent and self._branch_closed(k, states):
                    parent[nxt] = (here, k)
                    queue.append(nxt)
        return None
