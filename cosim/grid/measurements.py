"""What devices and domains may read from the electrical layer, in physical units.

A :class:`GridMeasurements` is an immutable snapshot of one solved state (plus
the active fault, if any): reading it never triggers a solve and never changes
the grid. Values of a de-energised bus are 0 (voltage, current, power,
frequency); values of an island whose power flow did not converge are NaN.
While a fault is applied, voltages and branch currents are the post-fault
ones; branch P/Q are then NaN (the fault study computes currents only).
During an unbalanced fault (SLG, LL, LLG) ``bus_voltage`` is the
positive-sequence voltage and ``branch(...).i_a`` the largest phase current,
as on a three-phase feeder (:mod:`cosim.grid.threephase.adapter`).

Protection reads phasors: :meth:`GridMeasurements.switch_phasors` gives the
per-phase currents through a switch and the phase voltages at its bus as
:class:`PhaseSequence` values (phases a, b, c and their symmetrical
components I0, I1, I2, the residual 3I0), the one typed reading a ground,
negative-sequence or directional element takes, whether the grid behind it is
balanced (here) or a three-phase feeder (the adapter answers the same type).

Every method raises ``KeyError`` for an unknown element name.
"""

from __future__ import annotations

import cmath
import enum
import math
from dataclasses import dataclass

import numpy as np

from cosim.grid.faults import FaultResult
from cosim.grid.frequency import FrequencyReading
from cosim.grid.network import Network
from cosim.grid.results import PowerFlowResult, ka_per_pu

A_OP = complex(-0.5, math.sqrt(3.0) / 2.0)  # the 120-degree operator a = e^{j 120 deg}


class BranchEnd(enum.Enum):
    FROM = "from"
    TO = "to"


@dataclass(frozen=True)
class BusVoltage:
    """``v_kv`` is the line-to-line RMS voltage (``vm_pu * base_kv``)."""

    vm_pu: float
    va_deg: float
    v_kv: float
    energised: bool


@dataclass(frozen=True)
class BranchReading:
    """Flow into the branch at one end: P (MW), Q (Mvar), current (A and pu)."""

    p_mw: float
    q_mvar: float
    i_a: float
    i_pu: float
    closed: bool


@dataclass(frozen=True)
class LoadReading:
    """Power a load actually draws (0 when not served) and its customers."""

    p_mw: float
    q_mvar: float
    served: bool
    customers: int


@dataclass(frozen=True)
class PowerReading:
    p_mw: float
    q_mvar: float


@dataclass(frozen=True)
class PhaseSequence:
    """Phasors of phases a, b, c (amperes, or volts line to neutral) and their symmetrical components.

    Fortescue with phase a as reference: ``zero = (a + b + c) / 3``,
    ``positive = (a + A b + A^2 c) / 3``, ``negative = (a + A^2 b + A c) / 3``
    with ``A = e^{j 120 deg}``. Angles are those of the grid's reference (the
    slack bus, or the feeder source), the same for every reading of one
    snapshot, so an operating current can be compared with a polarising
    voltage. A phase a conductor does not carry is 0.
    """

    a: complex
    b: complex
    c: complex

    @classmethod
    def from_sequence(cls, zero: complex, positive: complex, negative: complex) -> "PhaseSequence":
        a2 = A_OP * A_OP
        return cls(zero + positive + negative, zero + a2 * positive + A_OP * negative,
                   zero + A_OP * positive + a2 * negative)

    @classmethod
    def balanced(cls, phase_a: complex) -> "PhaseSequence":
        """A positive-sequence set with phase a equal to ``phase_a``."""
        return cls.from_sequence(0j, phase_a, 0j)

    @property
    def phases(self) -> tuple[complex, complex, complex]:
        return (self.a, self.b, self.c)

    @property
    def magnitudes(self) -> tuple[float, float, float]:
        return (abs(self.a), abs(self.b), abs(self.c))

    @property
    def zero(self) -> complex:
        return (self.a + self.b + self.c) / 3.0

    @property
    def positive(self) -> complex:
        return (self.a + A_OP * self.b + A_OP * A_OP * self.c) / 3.0

    @property
    def negative(self) -> complex:
        return (self.a + A_OP * A_OP * self.b + A_OP * self.c) / 3.0

    @property
    def residual(self) -> complex:
        """``3 I0 = a + b + c``: what a residually connected ground element (51N) or a neutral CT reads."""
        return self.a + self.b + self.c

    def phase(self, k: int) -> complex:
        """Phase ``k`` (1, 2, 3 = a, b, c)."""
        return self.phases[k - 1]


def degrees(z: complex) -> float:
    """Angle of a phasor in degrees (0 for a zero phasor)."""
    return math.degrees(cmath.phase(z)) if z != 0 else 0.0


@dataclass(frozen=True)
class ProtectionReading:
    """What a relay at a switch sees: ``currents`` through it (A, into the branch at the switch's end),
    ``voltages`` at its bus (V, line to neutral, the polarising quantities) and the switch position."""

    currents: PhaseSequence
    voltages: PhaseSequence
    closed: bool


@dataclass(frozen=True)
class GridMeasurements:
    """Snapshot of the solved grid. ``solve_count`` tells which solve it comes from.

    ``system_frequency`` is the area frequency at the snapshot's time when the
    grid has a frequency model (:mod:`cosim.grid.frequency`), else None.
    """

    network: Network
    result: PowerFlowResult
    fault: FaultResult | None
    solve_count: int
    system_frequency: FrequencyReading | None = None

    def bus_voltage(self, bus: str) -> BusVoltage:
        i = self.network.buses.index(bus)
        src = self.fault if self.fault is not None else self.result
        vm = float(src.vm_pu[i])
        return BusVoltage(vm_pu=vm, va_deg=float(src.va_deg[i]),
                          v_kv=vm * float(self.network.buses.base_kv[i]),
                          energised=bool(self.result.energised[i]))

    def branch(self, branch: str, end: BranchEnd | str = BranchEnd.FROM) -> BranchReading:
        """Flow into ``branch`` at its ``end`` ("from" or "to")."""
        k = self.network.branches.index(branch)
        at_from = BranchEnd(end) is BranchEnd.FROM
        r = self.result
        p = float(r.p_from_mw[k] if at_from else r.p_to_mw[k])
        q = float(r.q_from_mvar[k] if at_from else r.q_to_mvar[k])
        src = self.fault if self.fault is not None else r
        i_pu = float(src.i_from_pu[k] if at_from else src.i_to_pu[k])
        i_ka = float(src.i_from_ka[k] if at_from else src.i_to_ka[k])
        if self.fault is not None:
            p = q = float("nan")
        closed = bool(self.network.branch_closed()[k])
        return BranchReading(p_mw=p, q_mvar=q, i_a=i_ka * 1000.0, i_pu=i_pu, closed=closed)

    def switch(self, switch: str) -> BranchReading:
        """Flow through a switch or breaker, at the branch end where it sits (what its relay sees)."""
        sw = self.network.switches
        s = sw.index(switch)
        k = int(sw.branch[s])
        end = BranchEnd.FROM if sw.bus[s] == self.network.branches.from_bus[k] else BranchEnd.TO
        return self.branch(self.network.branches.name[k], end)

    def branch_phasors(self, branch: str, end: BranchEnd | str = BranchEnd.FROM) -> PhaseSequence:
        """Phase currents into ``branch`` at its ``end``, amperes (a :class:`PhaseSequence`).

        Without a fault the network is balanced: the current is the load
        flow's, positive sequence only. During a fault they are the fault
        study's per-phase currents (an SLG fault's residual 3I0 included).
        """
        k = self.network.branches.index(branch)
        at_from = BranchEnd(end) is BranchEnd.FROM
        bus = int(self.network.branches.from_bus[k] if at_from else self.network.branches.to_bus[k])
        amps = float(ka_per_pu(self.network, np.array([bus]))[0]) * 1000.0
        fault = self.fault
        if fault is not None and fault.i_from_phase_pu is not None and fault.i_to_phase_pu is not None:
            row = (fault.i_from_phase_pu if at_from else fault.i_to_phase_pu)[k]
            return PhaseSequence(*(complex(x) * amps for x in row))
        if not bool(self.network.branch_closed()[k]):
            return PhaseSequence(0j, 0j, 0j)
        r = self.result
        s_pu = complex(r.p_from_mw[k] if at_from else r.p_to_mw[k],
                       r.q_from_mvar[k] if at_from else r.q_to_mvar[k]) / self.network.base_mva
        v = complex(r.v_pu[bus])
        if not (np.isfinite(s_pu) and np.isfinite(v)) or v == 0:
            return PhaseSequence(0j, 0j, 0j)
        return PhaseSequence.balanced((s_pu / v).conjugate() * amps)

    def bus_phasors(self, bus: str) -> PhaseSequence:
        """Phase-to-ground voltages of ``bus``, volts (a :class:`PhaseSequence`; V0 and V2 polarise
        ground and negative-sequence directional elements)."""
        i = self.network.buses.index(bus)
        volts = float(self.network.buses.base_kv[i]) * 1000.0 / math.sqrt(3.0)
        fault = self.fault
        if fault is not None and fault.v_phase_pu is not None:
            return PhaseSequence(*(complex(x) * volts for x in fault.v_phase_pu[i]))
        if fault is not None:
            return PhaseSequence.balanced(complex(fault.vm_pu[i] * cmath.exp(1j * math.radians(fault.va_deg[i])))
                                          * volts)
        v = complex(self.result.v_pu[i])
        return PhaseSequence.balanced(v * volts if np.isfinite(v) else 0j)

    def switch_phasors(self, switch: str) -> ProtectionReading:
        """Currents through a switch (at the branch end where it sits) and the voltages at its bus."""
        sw = self.network.switches
        s = sw.index(switch)
        k = int(sw.branch[s])
        end = BranchEnd.FROM if sw.bus[s] == self.network.branches.from_bus[k] else BranchEnd.TO
        currents = self.branch_phasors(self.network.branches.name[k], end)
        if not bool(sw.closed[s]):
            currents = PhaseSequence(0j, 0j, 0j)
        return ProtectionReading(currents, self.bus_phasors(self.switch_bus(switch)), bool(sw.closed[s]))

    def tap_ratio(self, branch: str) -> float:
        """Off-nominal turns ratio of a branch's transformer, pu (1 for a line): what a tap position indicator shows."""
        return float(self.network.branches.tap_ratio[self.network.branches.index(branch)])

    def switch_bus(self, switch: str) -> str:
        """The bus a switch sits at (where its relay measures voltage)."""
        sw = self.network.switches
        return str(self.network.buses.name[int(sw.bus[sw.index(switch)])])

    def switch_closed(self, switch: str) -> bool:
        sw = self.network.switches
        return bool(sw.closed[sw.index(switch)])

    def bus_injection(self, bus: str) -> PowerReading:
        """Net injection of every element at ``bus`` (generators + DER - loads - shunts)."""
        i = self.network.buses.index(bus)
        return PowerReading(float(self.result.bus_p_mw[i]), float(self.result.bus_q_mvar[i]))

    def load(self, load: str) -> LoadReading:
        i = self.network.loads.index(load)
        r = self.result
        return LoadReading(p_mw=float(r.load_p_mw[i]), q_mvar=float(r.load_q_mvar[i]),
                           served=bool(r.load_served[i]),
                           customers=int(self.network.loads.customers[i]))

    def generator(self, generator: str) -> PowerReading:
        i = self.network.generators.index(generator)
        return PowerReading(float(self.result.gen_p_mw[i]), float(self.result.gen_q_mvar[i]))

    def der(self, der: str) -> PowerReading:
        i = self.network.ders.index(der)
        return PowerReading(float(self.result.der_p_mw[i]), float(self.result.der_q_mvar[i]))

    def frequency_hz(self, bus: str) -> float:
        """The area frequency at an energised bus (nominal without a frequency model), 0 at a dead one."""
        i = self.network.buses.index(bus)
        if not self.result.energised[i]:
            return 0.0
        if self.system_frequency is None:
            return float(self.network.frequency_hz)
        return self.system_frequency.frequency_hz

    def rocof_hz_per_s(self, bus: str) -> float:
        """Rate of change of frequency at a bus, Hz/s (0 without a frequency model or at a dead bus)."""
        i = self.network.buses.index(bus)
        if not self.result.energised[i] or self.system_frequency is None:
            return 0.0
        return self.system_frequency.rocof_hz_per_s

    def unserved_loads(self) -> tuple[str, ...]:
        """Names of in-service loads left without supply (for outage counts)."""
        ld = self.network.loads
        dead = ld.in_service & ~self.result.load_served
        return tuple(n for n, d in zip(ld.name, dead) if d)

    def customers_unserved(self) -> int:
        ld = self.network.loads
        dead = ld.in_service & ~self.result.load_served
        return int(ld.customers[dead].sum())

    def losses_mw(self) -> float:
        return float(self.result.losses_mw)

    @property
    def converged(self) -> bool:
        return self.result.converged

    def fault_current_ka(self) -> float:
        """Fault current of the active fault, kA (0 when no fault is applied)."""
        return float(self.fault.i_fault_ka) if self.fault is not None else 0.0


