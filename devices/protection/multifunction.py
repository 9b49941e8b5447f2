"""A multifunction feeder relay: phase, ground and negative-sequence overcurrent elements, each optionally directional.

Every element is an ANSI 50 (instantaneous / definite time) or 51 (inverse
time, :mod:`devices.protection.overcurrent`) acting on one operating
quantity (:class:`Quantity`):

=========  =====================================  ==========================
quantity   operating current                      functions
=========  =====================================  ==========================
PHASE      largest phase current |Ia|, |Ib|, |Ic|  50/51; 67 when directional
RESIDUAL   |3I0| = |Ia + Ib + Ic| (phase CTs)      50N/51N; 67N when directional
GROUND     |3I0| from a neutral / core-balance CT  50G/51G
NEGATIVE   |3I2|                                  50Q/51Q (the ANSI 46 function)
=========  =====================================  ==========================

With ideal CTs a residual connection and a neutral CT read the same 3I0;
the two element sets exist because relays have both, with their own
settings (a sensitive 51G below the 51N pickup, say). A directional element
(:mod:`devices.protection.directional`) sees its current only when the
fault lies in its set direction: phase elements polarise I1 with V1, ground
elements 3I0 with -3V0, negative-sequence ones 3I2 with -3V2.

The relay's trip output rises when any element trips; ``trip_time_s`` is
the earliest element's exact curve time and ``tripped_elements`` names them.
The logic never touches the grid: the device hands it :class:`Measurands`
and turns its :class:`~devices.intents.TripBreaker` into a grid action.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Sequence

from devices.intents import Intent, TripBreaker
from devices.protection.directional import DirectionalSettings, permits
from devices.protection.overcurrent import (
    InstantaneousElement,
    InstantaneousSettings,
    TimeOvercurrentElement,
    TimeOvercurrentSettings,
)


class Quantity(enum.Enum):
    PHASE = "phase"
    RESIDUAL = "residual"
    GROUND = "ground"
    NEGATIVE = "negative"


@dataclasses.dataclass(frozen=True)
class Measurands:
    """One sample of what the relay's CTs and VTs give: amperes and volts (line to neutral), as phasors.

    ``phase_max_a`` the largest phase current; ``i0``, ``i1``, ``i2`` the
    sequence currents; ``v0``, ``v1``, ``v2`` the sequence voltages at the
    relay's bus (all with the angles of one common reference).
    """

    phase_max_a: float
    i0: complex = 0j
    i1: complex = 0j
    i2: complex = 0j
    v0: complex = 0j
    v1: complex = 0j
    v2: complex = 0j

    def operating(self, quantity: Quantity) -> tuple[float, complex, complex]:
        """(magnitude the element compares with its pickup, operating phasor, polarising phasor)."""
        if quantity is Quantity.PHASE:
            return self.phase_max_a, self.i1, self.v1
        if quantity is Quantity.NEGATIVE:
            return abs(3 * self.i2), 3 * self.i2, -3 * self.v2
        return abs(3 * self.i0), 3 * self.i0, -3 * self.v0


@dataclasses.dataclass(frozen=True)
class ElementSettings:
    """One element: its ANSI name (``"51N"``), quantity, timing (51 or 50 settings) and direction."""

    name: str
    quantity: Quantity
    timing: TimeOvercurrentSettings | InstantaneousSettings
    direction: DirectionalSettings = DirectionalSettings()


class MultifunctionRelay:
    """The elements of one relay tripping one breaker: ``TripBreaker`` once per rise of the combined output."""

    def __init__(self, breaker_id: str, elements: Sequence[ElementSettings]) -> None:
        if not elements:
            raise ValueError("a relay needs at least one protection element")
        names = [e.name for e in elements]
        if len(set(names)) != len(names):
            raise ValueError(f"element names repeat: {names}")
        self.breaker_id = breaker_id
        self.settings = tuple(elements)
        self.elements: dict[str, TimeOvercurrentElement | InstantaneousElement] = {
            e.name: TimeOvercurrentElement(e.timing) if isinstance(e.timing, TimeOvercurrentSettings)
            else InstantaneousElement(e.timing) for e in elements}
        self.trip_time_s: float | None = None
        self.tripped_elements: tuple[str, ...] = ()
        self.picked_up: frozenset[str] = frozenset()
        self._tripped = False

    @property
    def tripped(self) -> bool:
        return self._tripped

    def step(self, time_s: float, sample: Measurands) -> list[Intent]:
        """Take one sample at simulated ``time_s``; return the intents to act on."""
        picked = set()
        for spec in self.settings:
            magnitude, operating, polarising = sample.operating(spec.quantity)
            seen = magnitude if permits(operating, polarising, spec.direction) else 0.0
            element = self.elements[spec.name]
            element.step(time_s, seen)
            if seen > spec.timing.pickup_a:
                picked.add(spec.name)
        self.picked_up = frozenset(picked)
        tripped = [name for name, e in self.elements.items() if e.tripped]
        rising = bool(tripped) and not self._tripped
        self._tripped = bool(tripped)
        if not rising:
            return []
        times = {name: self.elements[name].trip_time_s for name in tripped}
        first = min(t for t in times.values() if t is not None)
        self.trip_time_s = first
        self.tripped_elements = tuple(name for name, t in times.items() if t == first)
        return [TripBreaker(self.breaker_id)]

    def next_event_time_s(self) -> float:
        """Earliest time an element would trip if the quantities stayed as last given."""
        return min((e.next_event_time_s() for e in self.elements.values()), default=math.inf)
