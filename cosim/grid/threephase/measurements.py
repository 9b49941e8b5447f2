"""What devices may read from a three-phase feeder, per phase and in physical units.

A :class:`FeederMeasurements` is an immutable snapshot of one solve: reading
it never solves and never changes the feeder. A de-energised conductor reads
0 V and 0 A; a solve that did not converge is flagged by ``converged`` (its
values are the last iterate, not NaN: a regulator or relay reading them must
check the flag). Every method raises ``KeyError`` for an unknown name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cosim.grid.measurements import BranchEnd
from cosim.grid.threephase.elements import Node
from cosim.grid.threephase.primitives import line_y, transformer_y
from cosim.grid.threephase.results import ThreePhaseResult
from cosim.grid.threephase.solver import Prepared


@dataclass(frozen=True)
class PhaseVoltages:
    """Voltages of one bus's conductors (``conductors`` 1, 2, 3 = a, b, c; 4+ neutrals)."""

    conductors: tuple[int, ...]
    vm_pu: tuple[float, ...]
    va_deg: tuple[float, ...]
    v_ln_v: tuple[float, ...]  # magnitude to ground, volts

    def phase(self, conductor: int) -> tuple[float, float]:
        """(pu, degrees) of one conductor; raises KeyError if the bus lacks it."""
        try:
            k = self.conductors.index(conductor)
        except ValueError:
            raise KeyError(f"no conductor {conductor} at this bus") from None
        return self.vm_pu[k], self.va_deg[k]


A_OP = complex(-0.5, math.sqrt(3.0) / 2)  # the 120-degree operator a


@dataclass(frozen=True)
class TerminalReading:
    """Currents into an element at one end, per conductor (A, degrees), and its power."""

    conductors: tuple[int, ...]
    i_a: tuple[float, ...]
    i_deg: tuple[float, ...]
    p_kw: float
    q_kvar: float
    closed: bool

    def sequence_a(self) -> tuple[float, float, float]:
        """Zero-, positive- and negative-sequence current magnitudes, A (Fortescue), of a
        terminal whose first three conductors are phases a, b, c (what a ground or
        negative-sequence relay sees). Raises ValueError for any other terminal."""
        if self.conductors[:3] != (1, 2, 3):
            raise ValueError(f"sequence currents need phases a, b, c, got {self.conductors}")
        ia, ib, ic = (m * complex(math.cos(math.radians(d)), math.sin(math.radians(d)))
                      for m, d in zip(self.i_a[:3], self.i_deg[:3]))
        a, a2 = A_OP, A_OP * A_OP
        return (abs(ia + ib + ic) / 3, abs(ia + a * ib + a2 * ic) / 3,
                abs(ia + a2 * ib + a * ic) / 3)


@dataclass(frozen=True)
class LoadPower:
    p_kw: float
    q_kvar: float
    served: bool


@dataclass(frozen=True)
class FeederMeasurements:
    """Snapshot of a solved feeder. ``solve_count`` says which solve it comes from."""

    prepared: Prepared
    result: ThreePhaseResult
    solve_count: int

    @property
    def converged(self) -> bool:
        return self.result.converged

    def _v(self, node: Node) -> complex:
        if node.conductor == 0:
            return 0j
        i = self.prepared.index.get(node)
        return 0j if i is None else complex(self.result.v[i])

    def bus_voltage(self, bus: str) -> PhaseVoltages:
        bus = bus.lower()
        ks = [i for i, nd in enumerate(self.result.nodes) if nd.bus == bus]
        if not ks:
            raise KeyError(f"no bus {bus!r} in the feeder")
        ks.sort(key=lambda i: self.result.nodes[i].conductor)
        r = self.result
        return PhaseVoltages(tuple(r.nodes[i].conductor for i in ks),
                             tuple(float(r.vm_pu[i]) for i in ks),
                             tuple(float(r.va_deg[i]) for i in ks),
                             tuple(float(abs(r.v[i])) for i in ks))

    def _terminal(self, nodes: tuple[Node, ...], y: np.ndarray, start: int, count: int,
                  closed: bool) -> TerminalReading:
        v = np.array([self._v(nd) for nd in nodes])
        i = y @ v if closed else np.zeros(len(nodes), dtype=complex)
        sl = slice(start, start + count)
        s = complex(np.sum(v[sl] * np.conj(i[sl])))
        return TerminalReading(tuple(nd.conductor for nd in nodes[sl]),
                               tuple(float(abs(x)) for x in i[sl]),
                               tuple(float(np.degrees(np.angle(x))) for x in i[sl]),
                               s.real / 1000.0, s.imag / 1000.0, closed)

    def line(self, line: str, end: BranchEnd | str = BranchEnd.FROM) -> TerminalReading:
        """Current into a line (or switch) at its ``bus1`` ("from") or ``bus2`` ("to") end."""
        feeder = self.prepared.feeder
        ln = feeder.lines[feeder.index("lines", line)]
        nodes, y = line_y(ln, 2 * math.pi * feeder.frequency_hz)
        n = len(ln.bus1)
        at_from = BranchEnd(end) is BranchEnd.FROM
        return self._terminal(nodes, y, 0 if at_from else n, n, ln.closed)

    def transformer(self, transformer: str, winding: int = 1) -> TerminalReading:
        """Current into a transformer at winding ``winding`` (1, 2 or 3), per conductor."""
        feeder = self.prepared.feeder
        xf = feeder.transformers[feeder.index("transformers", transformer)]
        if not 1 <= winding <= len(xf.windings):
            raise KeyError(f"transformer {transformer!r} has no winding {winding}")
        nodes, y = transformer_y(xf)
        start = sum(len(w.terminal) for w in xf.windings[:winding - 1])
        return self._terminal(nodes, y, start, len(xf.windings[winding - 1].terminal), True)

    def load(self, load: str) -> LoadPower:
        i = self.prepared.feeder.index("loads", load)
        ld = self.prepared.feeder.loads[i]
        served = ld.in_service and any(abs(self._v(nd)) > 0 for nd in ld.terminal
                                       if nd.conductor)
        return LoadPower(float(self.result.load_kw[i]), float(self.result.load_kvar[i]), served)

    def losses_kw(self) -> float:
        """Source power minus load power (includes the power into an active fault)."""
        return self.result.losses_kw

    def fault_currents_a(self) -> tuple[float, ...]:
        """Current through each path of the active fault, A (empty without a fault)."""
        out = []
        for fault in self.prepared.feeder.faults:
            for a, b in zip(fault.bus1, fault.bus2):
                out.append(abs(self._v(a) - self._v(b)) / fault.r_ohm)
        return tuple(out)
