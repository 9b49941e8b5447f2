"""Failed components of a co-simulated incident: where they are, how long their repair takes, what holds them dead.

One job: the physical side of a failure, for the world's ``"damage"``
service. A failure is applied to the grid as a fault (a line section: a fault
along its branch; a distribution transformer: a fault at its load-point bus,
which its lateral protection clears). The grid holds one active fault at a
time, so when a second component fails while the first is still broken, the
first -- isolated by its protection by then -- is *parked*: its fault is
removed and the element is taken out of service instead (the section, or the
load behind the transformer), which keeps it dead exactly as the open
protection did. Field crews (the Distribution domain) ask the register what
they find in the zone they were sent to, how long it takes to fix, and fix it.

A repair time is either the crew's work on site (``from_failure=False``) or,
as reliability data such as the RBTS give it, the time from the failure to
the component back in service: the crew then finishes at failure + repair
time, or on arrival if it comes later than that.

This is an event source, like :mod:`cosim.events.stochastic`: it acts on the
grid because failures are physics, not operations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cosim.grid import Action, ApplyFault, ClearFault


@dataclass(frozen=True)
class Component:
    """A component of the reliability study as it appears on the co-simulated grid.

    ``rate_per_year`` and ``repair_mean_h`` come from the study's failure
    modes; ``buses`` are where a crew finds the damage; ``park``/``unpark``
    hold it dead while another fault occupies the grid's fault slot.
    """

    name: str
    rate_per_year: float
    repair_mean_h: float
    fault: ApplyFault
    buses: frozenset[str]
    park: Action
    unpark: Action


class DamageRegister:
    """The components broken now, with their drawn repair times (simulated s)."""

    def __init__(self, apply: Callable[[Action], object], clock: Callable[[], float], *, from_failure: bool = True) -> None:
        self._apply = apply
        self._clock = clock
        self.from_failure = from_failure
        self.broken: dict[str, tuple[Component, float]] = {}
        self._failed_at: dict[str, float] = {}
        self._faulted: str | None = None  # the component holding the grid's one active fault
        self.failures = 0

    def fail(self, component: Component, repair_s: float) -> None:
        """``component`` fails now; a crew will need ``repair_s`` on site to fix it."""
        if component.name in self.broken:
            raise ValueError(f"{component.name} is already broken")
        if self._faulted is not None:
            held = self.broken[self._faulted][0]
            self._apply(ClearFault())
            self._apply(held.park)
        self._apply(component.fault)
        self._faulted = component.name
        self.broken[component.name] = (component, repair_s)
        self._failed_at[component.name] = self._clock()
        self.failures += 1

    def found(self, buses: Iterable[str]) -> list[str]:
        """Broken components a crew sent to ``buses`` finds there (sorted by name)."""
        where = set(buses)
        return sorted(name for name, (c, _) in self.broken.items() if c.buses & where)

    def repair_time_s(self, buses: Iterable[str]) -> float | None:
        """Work on site, from now, to repair what is found at ``buses``; None if nothing is."""
        names = self.found(buses)
        if not names:
            return None
        if self.from_failure:
            now = self._clock()
            return max(max(self._failed_at[n] + self.broken[n][1] - now, 0.0) for n in names)
        return sum(self.broken[n][1] for n in names)

    def repair(self, buses: Iterable[str]) -> list[str]:
        """Repair everything found at ``buses``; returns the names repaired."""
        names = self.found(buses)
        for name in names:
            component, _ = self.broken.pop(name)
            del self._failed_at[name]
            if name == self._faulted:
                self._apply(ClearFault())
                self._faulted = None
            else:
                self._apply(component.unpark)
        return names

    def __bool__(self) -> bool:
        return bool(self.broken)
