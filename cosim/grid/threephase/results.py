"""Results of a three-phase solve in physical and per-unit terms, with power balance.

Bus voltage bases follow OpenDSS's ``CalcVoltageBases``: solve once with no
load, then give each bus the listed base (line-to-line kV) nearest to its
no-load voltage. Without ``Set VoltageBases`` the candidates are the source's
and the transformer windings' ratings. Bases are a property of the feeder's
wiring, not of its loading, so they are computed once per feeder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from cosim.grid.threephase.elements import Connection, Feeder, Node
from cosim.grid.threephase.loads import branch_current, branch_voltage
from cosim.grid.threephase.solver import Prepared, Solution, build, solve


def candidate_bases_kv(feeder: Feeder) -> tuple[float, ...]:
    if feeder.voltage_bases_kv:
        return feeder.voltage_bases_kv
    out = {s.base_kv for s in feeder.sources}
    for xf in feeder.transformers:
        for w in xf.windings:
            single_wye = xf.phases == 1 and w.connection is Connection.WYE
            out.add(w.kv * math.sqrt(3.0) if single_wye else w.kv)
    return tuple(sorted(out))


def bus_bases_kv(feeder: Feeder) -> dict[str, float]:
    """Line-to-line base kV of every bus, from a no-load, unfaulted solve (OpenDSS ``calcv``)."""
    empty = replace(feeder, loads=tuple(replace(ld, in_service=False) for ld in feeder.loads),
                    faults=())
    prep = build(empty)
    sol = solve(prep)
    cands = np.array(candidate_bases_kv(feeder))
    peak: dict[str, float] = {}
    for nd, v in zip(prep.nodes, sol.v):
        if 1 <= nd.conductor <= 3:
            peak[nd.bus] = max(peak.get(nd.bus, 0.0), abs(v) * math.sqrt(3.0) / 1000.0)
    return {bus: float(cands[np.argmin(np.abs(cands - kv))]) if kv > 0 else float(cands[0])
            for bus, kv in peak.items()}


@dataclass(frozen=True, eq=False)
class ThreePhaseResult:
    """One solve: node voltages and the powers that flow, with their balance.

    ``v`` is indexed like ``nodes`` (volts, line to ground). ``vm_pu`` is on
    the bus's line-to-neutral base (``base_kv / sqrt 3``). Powers: kW/kvar,
    loads positive when drawn, ``source_kw`` positive when supplied.
    """

    nodes: tuple[Node, ...]
    v: NDArray[np.complex128]
    vm_pu: NDArray[np.float64]
    va_deg: NDArray[np.float64]
    converged: bool
    iterations: int
    load_kw: NDArray[np.float64]
    load_kvar: NDArray[np.float64]
    source_kw: float
    source_kvar: float

    @property
    def load_total_kw(self) -> float:
        return float(self.load_kw.sum())

    @property
    def losses_kw(self) -> float:
        """Source power minus load power: series and shunt losses (capacitors give kvar only)."""
        return self.source_kw - self.load_total_kw


def node_base_v(prep: Prepared, bases_kv: dict[str, float]) -> NDArray[np.float64]:
    """Line-to-neutral base voltage of every node, V (1 kV line to line for a bus with none)."""
    return np.array([bases_kv.get(nd.bus, 1.0) * 1000.0 / math.sqrt(3.0) for nd in prep.nodes])


def compute_results(prep: Prepared, sol: Solution, bases_kv: dict[str, float],
                    base_v: NDArray[np.float64] | None = None) -> ThreePhaseResult:
    """Results of one solve; ``base_v`` (from :func:`node_base_v`) may be passed to reuse it."""
    if base_v is None:
        base_v = node_base_v(prep, bases_kv)
    vg = np.append(sol.v, 0.0)
    lb = prep.loads
    vb = branch_voltage(lb, vg)
    s_branch = vb * np.conj(branch_current(lb, vb))
    n_loads = len(prep.feeder.loads)
    load_s = np.zeros(n_loads, dtype=complex)
    np.add.at(load_s, lb.load, s_branch)
    s_src = 0j
    for idx, y, inj in prep.source_terms:
        v_t = vg[idx]
        s_src += complex(np.sum(v_t * np.conj(inj - y @ v_t)))
    return ThreePhaseResult(prep.nodes, sol.v, np.abs(sol.v) / base_v,
                            np.degrees(np.angle(sol.v)), sol.converged, sol.iterations,
                            load_s.real / 1000.0, load_s.imag / 1000.0,
                            s_src.real / 1000.0, s_src.imag / 1000.0)
