"""The balanced measurement API over a three-phase feeder, so field devices read a feeder unchanged.

Devices read :class:`cosim.grid.measurements.GridMeasurements` (a bus has one
voltage, a branch one current). :class:`FeederGrid` wraps a
:class:`FeederService` with the same service shape (``apply``,
``measurements``, ``version``, ``on_change``, ``solve_count``) and its
:class:`FeederGridMeasurements` answers the balanced questions the way a
field instrument on a three-phase feeder would:

* ``bus_voltage("671")``: the **positive-sequence** phase-to-ground voltage
  (Fortescue, phase a reference) on the bus's line-to-neutral base, so
  ``vm_pu`` is what a relay's or RTU's positive-sequence voltage element
  reads and ``v_kv = vm_pu * base_kv`` its line-to-line equivalent. A bus
  with one or two phases has no positive sequence: it reads the mean of its
  phase magnitudes (and phase a's, else its first phase's, angle).
* ``branch("650632")`` / ``switch(...)``: P and Q are the **sum of the
  phases** (what a three-element watt meter reads); ``i_a`` is the **largest
  phase current**, what a phase overcurrent element (50/51) and a fault
  passage indicator pick up on; ``i_pu`` is ``i_a`` on ``base_mva`` at the
  end's bus base.
* **Per-phase readings** by OpenDSS's own ``element.phase`` names: bus
  ``671.2`` is phase b's voltage to ground (pu of the line-to-neutral base,
  its angle, ``v_kv`` again ``vm_pu * base_kv``); branch ``650632.3`` is
  phase c's current and that phase's P and Q. :func:`element_names` lists
  them, so a scenario's RTU point ``bus/671.2:vm_pu`` is checked like any
  other reference. ``phases`` gives the raw per-phase snapshot.
* **Phasors for protection**: ``branch_phasors``, ``bus_phasors`` and
  ``switch_phasors`` answer the balanced layer's typed
  :class:`~cosim.grid.measurements.PhaseSequence` /
  :class:`~cosim.grid.measurements.ProtectionReading` from the three-phase
  solution: phase currents in amperes and phase-to-ground voltages in volts
  with their angles (a phase the element lacks is 0), so a ground,
  negative-sequence or directional element reads a feeder fault
  (:class:`ApplyPhaseFault`) as it reads a balanced network's.
* ``load``: the load's total P and Q (all its phases), ``served`` when any
  of its phase conductors is energised; ``customers`` from the scenario.
* ``frequency_hz``: the feeder's nominal frequency at an energised bus (a
  feeder has no frequency model), 0 at a dead one; ROCOF 0.

Branches are the feeder's lines (``from`` = ``bus1``) and transformers
(``from`` = winding 1, ``to`` = winding 2); switches are its lines with
``Switch=yes``. A feeder has no generators or DER: asking for one raises
``KeyError``. Transformer taps are driven by :class:`SetTap` on the service.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cosim.grid.actions import Action, Change
from cosim.grid.measurements import (
    BranchEnd,
    BranchReading,
    BusVoltage,
    LoadReading,
    PhaseSequence,
    PowerReading,
    ProtectionReading,
)
from cosim.grid.threephase.actions import ApplyPhaseFault, regulated_winding
from cosim.grid.threephase.elements import Feeder
from cosim.grid.threephase.measurements import A_OP, FeederMeasurements, PhaseVoltages, TerminalReading
from cosim.grid.threephase.results import bus_bases_kv
from cosim.grid.threephase.service import FeederService

SQRT3 = math.sqrt(3.0)
DEFAULT_BASE_MVA = 100.0  # the balanced layer's usual system base, for branch i_pu
PHASES = (1, 2, 3)


def _split(name: str) -> tuple[str, int | None]:
    """``"671.2"`` -> ("671", 2); ``"671"`` -> ("671", None). Only suffixes 1-3 are phases."""
    head, dot, tail = name.rpartition(".")
    if dot and tail in ("1", "2", "3") and head:
        return head, int(tail)
    return name, None


def _phasor(magnitude: float, degrees: float) -> complex:
    return magnitude * complex(math.cos(math.radians(degrees)), math.sin(math.radians(degrees)))


def positive_sequence(vm: tuple[float, ...], va_deg: tuple[float, ...]) -> tuple[float, float]:
    """(magnitude, degrees) of the positive-sequence component of phases a, b, c given as magnitudes and angles."""
    va, vb, vc = (_phasor(m, d) for m, d in zip(vm, va_deg))
    v1 = (va + A_OP * vb + A_OP * A_OP * vc) / 3.0
    return abs(v1), math.degrees(math.atan2(v1.imag, v1.real))


@dataclass(frozen=True)
class FeederGridMeasurements:
    """A solved feeder read through the balanced API (see the module docstring for what each value is)."""

    phases: FeederMeasurements
    feeder: Feeder
    bases_kv: dict[str, float]
    customers: dict[str, int] = field(default_factory=dict)
    base_mva: float = DEFAULT_BASE_MVA
    system_frequency: None = None
    fault: None = None

    @property
    def solve_count(self) -> int:
        return self.phases.solve_count

    @property
    def converged(self) -> bool:
        return self.phases.converged

    # -- voltages ---------------------------------------------------------------------
    def _phase_voltages(self, bus: str) -> PhaseVoltages:
        return self.phases.bus_voltage(bus)

    def bus_voltage(self, bus: str) -> BusVoltage:
        """Positive-sequence voltage of a bus, or one phase's voltage for ``bus.k`` (k = 1, 2, 3)."""
        name, phase = _split(bus)
        pv = self._phase_voltages(name)
        base_kv = self.bases_kv[name.lower()]
        present = [k for k, c in enumerate(pv.conductors) if c in PHASES]
        energised = any(pv.v_ln_v[k] > 0 for k in present)
        if phase is not None:
            vm, va = pv.phase(phase)
        elif tuple(pv.conductors[k] for k in present) == PHASES:
            vm, va = positive_sequence(tuple(pv.vm_pu[k] for k in present),
                                       tuple(pv.va_deg[k] for k in present))
        else:
            vm = sum(pv.vm_pu[k] for k in present) / len(present) if present else 0.0
            va = pv.va_deg[present[0]] if present else 0.0
        return BusVoltage(vm_pu=vm, va_deg=va, v_kv=vm * base_kv, energised=energised)

    # -- branches ---------------------------------------------------------------------
    def _terminal(self, branch: str, end: BranchEnd | str) -> tuple[TerminalReading, str]:
        """The reading at one end of a line or transformer, and the bus it sits at."""
        at_from = BranchEnd(end) is BranchEnd.FROM
        try:
            line = self.feeder.lines[self.feeder.index("lines", branch)]
        except KeyError:
            line = None
        if line is not None:
            terminal = line.bus1 if at_from else line.bus2
            return self.phases.line(line.name, end), terminal[0].bus
        try:
            xf = self.feeder.transformers[self.feeder.index("transformers", branch)]
        except KeyError:
            raise KeyError(f"no line or transformer {branch!r} in the feeder") from None
        winding = 1 if at_from else 2
        return self.phases.transformer(xf.name, winding), xf.windings[winding - 1].terminal[0].bus

    def branch(self, branch: str, end: BranchEnd | str = BranchEnd.FROM) -> BranchReading:
        """Total P, Q and the largest phase current at one end; ``name.k`` reads phase k alone."""
        name, phase = _split(branch)
        reading, bus = self._terminal(name, end)
        base_a = self.base_mva * 1e3 / (SQRT3 * self.bases_kv[bus])
        if phase is None:
            currents = [i for c, i in zip(reading.conductors, reading.i_a) if c in PHASES]
            i_a = max(currents, default=0.0)
            return BranchReading(p_mw=reading.p_kw / 1e3, q_mvar=reading.q_kvar / 1e3, i_a=i_a,
                                 i_pu=i_a / base_a, closed=reading.closed)
        if phase not in reading.conductors:
            raise KeyError(f"branch {name!r} has no phase {phase}")
        k = reading.conductors.index(phase)
        v_mag, v_deg = self._phase_voltages(bus).phase(phase)
        v = _phasor(v_mag * self.bases_kv[bus] * 1e3 / SQRT3, v_deg)
        s = v * _phasor(reading.i_a[k], reading.i_deg[k]).conjugate()
        return BranchReading(p_mw=s.real / 1e6, q_mvar=s.imag / 1e6, i_a=reading.i_a[k],
                             i_pu=reading.i_a[k] / base_a, closed=reading.closed)

    def branch_phasors(self, branch: str, end: BranchEnd | str = BranchEnd.FROM) -> PhaseSequence:
        """Phase currents into a line or transformer at one end, amperes with their angles."""
        reading, _bus = self._terminal(branch, end)
        by_phase = {c: _phasor(i, d) for c, i, d in zip(reading.conductors, reading.i_a, reading.i_deg) if c in PHASES}
        return PhaseSequence(*(by_phase.get(k, 0j) for k in PHASES))

    def bus_phasors(self, bus: str) -> PhaseSequence:
        """Phase-to-ground voltages of a bus, volts with their angles (0 for a phase it lacks)."""
        pv = self._phase_voltages(bus)
        by_phase = {c: _phasor(v, d) for c, v, d in zip(pv.conductors, pv.v_ln_v, pv.va_deg) if c in PHASES}
        return PhaseSequence(*(by_phase.get(k, 0j) for k in PHASES))

    def switch_phasors(self, switch: str) -> ProtectionReading:
        """Currents through a switch at its ``bus1`` end and the voltages at that bus."""
        closed = self._switch_line(switch)
        return ProtectionReading(self.branch_phasors(switch, BranchEnd.FROM), self.bus_phasors(self.switch_bus(switch)),
                                 closed)

    def switch(self, switch: str) -> BranchReading:
        """Flow through a switch (a ``Switch=yes`` line) at its ``bus1`` end; ``name.k`` for one phase."""
        self._switch_line(_split(switch)[0])
        return self.branch(switch, BranchEnd.FROM)

    def _switch_line(self, switch: str) -> bool:
        try:
            line = self.feeder.lines[self.feeder.index("lines", switch)]
        except KeyError:
            line = None
        if line is None or not line.is_switch:
            raise KeyError(f"no switch {switch!r} in the feeder")
        return line.closed

    def switch_closed(self, switch: str) -> bool:
        return self._switch_line(switch)

    def switch_bus(self, switch: str) -> str:
        """The bus at a switch's ``bus1`` end, where its relay measures (positive sequence, as ``bus_voltage``)."""
        self._switch_line(switch)
        line = self.feeder.lines[self.feeder.index("lines", switch)]
        return line.bus1[0].bus

    def tap_ratio(self, branch: str) -> float:
        """Tap of a transformer's regulated winding (its ``RegControl``'s, else the second), pu; 1 for a line."""
        try:
            self.feeder.index("lines", branch)
            return 1.0
        except KeyError:
            pass
        xf = self.feeder.transformers[self.feeder.index("transformers", branch)]
        return float(xf.windings[regulated_winding(self.feeder, xf.name)].tap)

    # -- loads and totals -------------------------------------------------------------
    def load(self, load: str) -> LoadReading:
        power = self.phases.load(load)
        served = power.served
        return LoadReading(p_mw=power.p_kw / 1e3 if served else 0.0,
                           q_mvar=power.q_kvar / 1e3 if served else 0.0, served=served,
                           customers=self.customers.get(load.lower(), 1))

    def generator(self, generator: str) -> PowerReading:
        raise KeyError(f"a feeder has no generator {generator!r}")

    def der(self, der: str) -> PowerReading:
        raise KeyError(f"a feeder has no DER {der!r}")

    def frequency_hz(self, bus: str) -> float:
        return float(self.feeder.frequency_hz) if self.bus_voltage(bus).energised else 0.0

    def rocof_hz_per_s(self, bus: str) -> float:
        self.bus_voltage(bus)  # KeyError for an unknown bus, as the balanced API
        return 0.0

    def unserved_loads(self) -> tuple[str, ...]:
        return tuple(ld.name for ld in self.feeder.loads
                     if ld.in_service and not self.phases.load(ld.name).served)

    def customers_unserved(self) -> int:
        return sum(self.customers.get(name, 1) for name in self.unserved_loads())

    def losses_mw(self) -> float:
        return self.phases.losses_kw() / 1e3

    def fault_current_ka(self) -> float:
        """The largest fault-path current of the active fault, kA (0 without one)."""
        return max(self.phases.fault_currents_a(), default=0.0) / 1e3


ChangeCallback = Callable[[Any, Change], Any]


class FeederGrid:
    """A :class:`FeederService` behind the grid service shape devices and events use."""

    def __init__(self, service: FeederService, customers: dict[str, int] | None = None,
                 base_mva: float = DEFAULT_BASE_MVA) -> None:
        self.service = service
        self.customers = {k.lower(): v for k, v in (customers or {}).items()}
        self.base_mva = base_mva
        self._bases = bus_bases_kv(service.feeder)

    @property
    def feeder(self) -> Feeder:
        return self.service.feeder

    @property
    def version(self) -> int:
        return self.service.version

    @property
    def solve_count(self) -> int:
        return self.service.solve_count

    @property
    def on_change(self) -> ChangeCallback | None:
        return self.service.on_change

    @on_change.setter
    def on_change(self, callback: ChangeCallback | None) -> None:
        self.service.on_change = callback

    def apply(self, action: Action | ApplyPhaseFault) -> Change:
        return self.service.apply(action)

    def measurements(self) -> FeederGridMeasurements:
        """Solves first if anything changed since the last solve."""
        return FeederGridMeasurements(self.service.measurements(), self.service.feeder, self._bases,
                                      self.customers, self.base_mva)


def element_names(feeder: Feeder) -> dict[str, frozenset[str]]:
    """Names a scenario may reference, by kind, including the per-phase ``name.k`` readings."""
    buses: dict[str, set[int]] = {}
    lines_phases: dict[str, set[int]] = {}
    for ln in feeder.lines:
        for node in (*ln.bus1, *ln.bus2):
            buses.setdefault(node.bus, set()).add(node.conductor)
        lines_phases[ln.name] = {n.conductor for n in ln.bus1}
    for xf in feeder.transformers:
        for w in xf.windings:
            for node in w.terminal:
                buses.setdefault(node.bus, set()).add(node.conductor)
        lines_phases[xf.name] = {n.conductor for n in xf.windings[0].terminal}
    for src in feeder.sources:
        for node in src.terminal:
            buses.setdefault(node.bus, set()).add(node.conductor)

    def with_phases(table: dict[str, set[int]]) -> frozenset[str]:
        return frozenset([*table, *(f"{n}.{c}" for n, cs in table.items() for c in cs if c in PHASES)])

    return {
        "bus": with_phases(buses),
        "branch": with_phases(lines_phases),
        "switch": with_phases({ln.name: {n.conductor for n in ln.bus1} for ln in feeder.lines if ln.is_switch}),
        "load": frozenset(ld.name for ld in feeder.loads),
        "shunt": frozenset(c.name for c in feeder.capacitors),
        "gen": frozenset(),
        "der": frozenset(),
    }


__all__ = ["FeederGrid", "FeederGridMeasurements", "element_names", "positive_sequence"]
