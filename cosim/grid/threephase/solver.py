"""Unbalanced three-phase power flow: fixed-point current injection on the nodal matrix.

Why this solver (docs/unbalanced.md has the longer argument): every linear
element (lines, transformers, capacitors, the source's Norton admittance and
each load's rated-voltage admittance) goes into one sparse nodal matrix ``Y``
over all phase and neutral conductors, factorised once per topology or tap
change. Each iteration then only injects the loads' *departure* from their
rated-voltage admittance, ``I_c = -(I_load(V) - Y_load V)``, and solves
``Y V = I_source + I_c`` by forward/back substitution. This is the Z-bus
(implicit Gauss) method OpenDSS also uses in its normal solution mode: meshes
need no special handling (unlike a backward-forward sweep, which needs
breakpoint compensation), delta and ungrounded connections are exact, and on
distribution loading it converges in a handful of iterations. It is slower
than Newton when loads are far from nominal voltage; a load that leaves its
[vmin, vmax] band turns into an impedance, so the iteration stays bounded.

Pure functions: :func:`build` (topology and matrix) then :func:`solve`
(voltages). Neither raises for a non-converged case: that is simulation data
(``converged`` False). Conductors not connected to any source are
de-energised (0 V) and left out of the matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

from cosim.grid.threephase.elements import ComplexMatrix, Feeder, Node
from cosim.grid.threephase.loads import (
    LoadBranches,
    branch_current,
    branch_voltage,
    load_branches,
)
from cosim.grid.threephase.primitives import (
    capacitor_y,
    fault_y,
    line_y,
    source_y,
    transformer_y,
)

ComplexArray = NDArray[np.complex128]


@dataclass(frozen=True, eq=False)
class Prepared:
    """A feeder's nodes, factorised matrix and load branches: what survives a load change.

    ``nodes`` are every non-ground conductor; ``live`` marks those connected
    to a source. ``lu`` factorises ``Y`` restricted to live nodes.
    """

    feeder: Feeder
    nodes: tuple[Node, ...]
    index: dict[Node, int]
    live: NDArray[np.bool_]
    y: sp.csc_matrix
    lu: spla.SuperLU | None
    i_source: ComplexArray
    loads: LoadBranches
    y_load_in_matrix: ComplexArray  # the load admittances stamped into ``y``


@dataclass(frozen=True, eq=False)
class Solution:
    """Node voltages (V, complex, indexed like ``Prepared.nodes``) and how they were reached."""

    v: ComplexArray
    converged: bool
    iterations: int
    max_change: float


def _elements(feeder: Feeder) -> list[tuple[tuple[Node, ...], ComplexMatrix]]:
    omega = 2 * math.pi * feeder.frequency_hz
    out = [line_y(ln, omega) for ln in feeder.lines if ln.closed]
    out += [transformer_y(xf) for xf in feeder.transformers]
    out += [capacitor_y(c) for c in feeder.capacitors if c.in_service]
    out += [fault_y(f) for f in feeder.faults]
    return out


def build(feeder: Feeder) -> Prepared:
    """Index the nodes, assemble ``Y`` (with loads at rated admittance) and factorise it."""
    prims = _elements(feeder)
    srcs = [source_y(s) for s in feeder.sources]
    seen: dict[Node, int] = {}
    for nodes, *_ in [*prims, *srcs]:
        for nd in nodes:
            if nd.conductor != 0 and nd not in seen:
                seen[nd] = len(seen)
    for ld in feeder.loads:
        for nd in ld.terminal:
            if nd.conductor != 0 and nd not in seen:
                seen[nd] = len(seen)
    n = len(seen)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[complex] = []

    def stamp(nodes: tuple[Node, ...], y: ComplexMatrix) -> None:
        idx = [seen.get(nd, -1) if nd.conductor != 0 else -1 for nd in nodes]
        for a, ia in enumerate(idx):
            if ia < 0:
                continue
            for b, ib in enumerate(idx):
                if ib >= 0 and y[a, b] != 0:
                    rows.append(ia)
                    cols.append(ib)
                    vals.append(complex(y[a, b]))

    i_src = np.zeros(n, dtype=complex)
    for nodes, y in prims:
        stamp(nodes, y)
    for (nodes, y, inj) in srcs:
        stamp(nodes, y)
        for nd, i in zip(nodes, inj):
            if nd.conductor != 0:
                i_src[seen[nd]] += i
    lb = load_branches(feeder.loads, seen)
    y0 = lb.y_nominal
    for f, t, y in zip(lb.node_from, lb.node_to, y0):
        for a, b, s in ((f, f, 1), (t, t, 1), (f, t, -1), (t, f, -1)):
            if a >= 0 and b >= 0:
                rows.append(int(a))
                cols.append(int(b))
                vals.append(s * complex(y))
    y_mat = sp.csc_matrix((np.array(vals, dtype=complex), (rows, cols)), shape=(n, n))
    y_mat.sum_duplicates()
    # Live nodes: connected (through any element but a load) to a source node.
    graph = sp.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, label = csgraph.connected_components(graph, directed=False)
    src_labels = {label[seen[nd]] for s in feeder.sources for nd in s.terminal if nd.conductor}
    live = np.isin(label, list(src_labels))
    sub = y_mat[live][:, live].tocsc()
    lu = spla.splu(sub) if sub.shape[0] else None
    return Prepared(feeder, tuple(seen), seen, live, y_mat, lu, i_src, lb, y0)


def with_new_loads(prep: Prepared, feeder: Feeder) -> Prepared:
    """``prep`` for a feeder that differs only in load powers: the factorisation is kept.

    The matrix keeps the old rated admittances; the iteration injects the
    difference, so the solution is the same as after a full :func:`build`.
    Raises ``ValueError`` if loads were added, removed or switched.
    """
    old = prep.loads
    if len(feeder.loads) != len(prep.feeder.loads) or any(
            a.in_service != b.in_service for a, b in zip(feeder.loads, prep.feeder.loads)):
        raise ValueError("load branches changed: rebuild the nodal matrix")
    # Only the powers change: each branch takes its load's (kW + j kvar) / phases.
    per_load = np.array([complex(ld.kw, ld.kvar) * 1000.0 / ld.phases for ld in feeder.loads])
    return replace(prep, feeder=feeder, loads=replace(old, s_va=per_load[old.load]))


def _inject(n: int, lb: LoadBranches, i_branch: ComplexArray) -> ComplexArray:
    """Node injections of branch currents drawn from ``node_from`` and returned at ``node_to``."""
    out = np.zeros(n + 1, dtype=complex)  # the extra last slot is ground
    np.add.at(out, lb.node_from, -i_branch)
    np.add.at(out, lb.node_to, i_branch)
    return out[:n]


def solve(prep: Prepared, v_start: ComplexArray | None = None, tol: float = 1e-10,
          max_iter: int = 200) -> Solution:
    """Node voltages by fixed-point current injection.

    ``tol`` bounds the largest voltage change of an iteration relative to the
    node's voltage. ``v_start`` (e.g. the previous solution) speeds up a
    re-solve after a load change; without it the start is the solution with
    every load at its rated admittance.
    """
    n = len(prep.nodes)
    v = np.zeros(n, dtype=complex)
    if prep.lu is None:
        return Solution(v, True, 0, 0.0)
    live = prep.live
    lb = prep.loads
    y0 = prep.y_load_in_matrix
    if v_start is not None and v_start.shape == (n,):
        v[:] = v_start
    else:
        v[live] = prep.lu.solve(prep.i_source[live])
    change = math.inf
    for it in range(1, max_iter + 1):
        vg = np.append(v, 0.0)
        vb = branch_voltage(lb, vg)
        comp = branch_current(lb, vb) - y0 * vb
        rhs = prep.i_source + _inject(n, lb, comp)
        new = np.zeros(n, dtype=complex)
        new[live] = prep.lu.solve(rhs[live])
        scale = np.maximum(np.abs(new), 1.0)
        change = float(np.max(np.abs(new - v) / scale)) if n else 0.0
        v = new
        if change < tol:
            return Solution(v, True, it, change)
    return Solution(v, bool(change < tol), max_iter, change)
