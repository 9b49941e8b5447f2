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

Where a re-solve's time goes (cProfile of 8,760 load steps on IEEE 123,
docs/benchmarks.md): the factorisation is kept across load changes, so an
iteration is the load laws plus one substitution. Since only the load
branches inject, the substitution is the fixed linear map ``Z B`` from their
compensation currents to the node voltages; :class:`LoadCoupling` keeps it
as a dense matrix (one substitution per load branch, once per
factorisation), and an iteration is one matrix-vector product instead of a
sparse solve and a scatter.

Pure functions: :func:`build` (topology and matrix) then :func:`solve`
(voltages). Neither raises for a non-converged case: that is simulation data
(``converged`` False). Conductors not connected to any source are
de-energised (0 V) and left out of the matrix.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla
from numpy.typing import NDArray
from threadpoolctl import ThreadpoolController

from cosim.grid.threephase.elements import ComplexMatrix, Feeder, Node
from cosim.grid.threephase.loads import LoadBranches, branch_admittance, load_branches
from cosim.grid.threephase.primitives import (
    capacitor_y,
    fault_y,
    line_y,
    source_y,
    transformer_y,
)

ComplexArray = NDArray[np.complex128]

# Largest dense load-coupling matrix (live nodes x load branches) kept, entries:
# 2 million complex numbers are 32 MB. IEEE 123 needs 26,000; a feeder past the
# limit solves through the sparse factors each iteration instead (same result).
DENSE_COUPLING_LIMIT = 2_000_000


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
    coupling: LoadCoupling | None = None  # None when no node is live
    # Each source's Norton terms (node positions, ground at len(nodes); Y; injection).
    source_terms: tuple[tuple[NDArray[np.int64], ComplexMatrix, ComplexArray], ...] = ()


@dataclass(frozen=True, eq=False)
class LoadCoupling:
    """How load-branch currents move the live node voltages: ``v = v0 + Z B c``.

    ``Z`` is the inverse of the factorised matrix, ``B`` the incidence of the
    load branches on the live nodes (a branch's compensation current ``c``
    leaves ``node_from`` and returns at ``node_to``), ``v0 = Z I_source``
    the voltages with every load at its rated admittance. ``branch_from`` and
    ``branch_to`` index the live nodes, with dead nodes and ground at the
    extra last position (always 0 V). ``zb`` is ``Z B`` as a dense matrix when
    it fits :data:`DENSE_COUPLING_LIMIT`: one matrix-vector product per
    iteration instead of a sparse substitution plus a scatter, which is
    where a re-solve spent most of its time. Computing it costs one
    substitution per load branch, once per factorisation.
    """

    lu: spla.SuperLU
    incidence: sp.csc_matrix  # B, live nodes x load branches
    v0: ComplexArray
    branch_from: NDArray[np.int64]
    branch_to: NDArray[np.int64]
    zb: ComplexArray | None

    def node_voltages(self, comp: ComplexArray) -> ComplexArray:
        """Live node voltages when the load branches draw ``comp`` beyond their rated admittance."""
        if self.zb is not None:
            return self.v0 + self.zb @ comp
        return self.v0 + self.lu.solve(self.incidence @ comp)


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController().select(user_api="blas")


@contextlib.contextmanager
def _one_blas_thread(dense: bool) -> Iterator[None]:
    """Keep numpy's BLAS on one thread while the dense coupling is used.

    OpenBLAS splits a matrix-vector product past about 9,000 entries over
    all cores: for IEEE 123's 278 x 95 that doubled the CPU time of a solve
    and gained nothing, and on a loaded machine each product waits for the
    other threads to be scheduled. The limit is set and restored per solve
    through the libraries' own calls (threadpoolctl's ``limit`` context
    costs 20 us, more than a solve's iteration), so the rest of the process
    keeps its BLAS threads.
    """
    libs = _blas().lib_controllers if dense else []
    before = [lib.get_num_threads() for lib in libs]
    for lib in libs:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in zip(libs, before):
            lib.set_num_threads(n)


def _coupling(lu: spla.SuperLU, i_source: ComplexArray, live: NDArray[np.bool_],
              lb: LoadBranches) -> LoadCoupling:
    n = len(live)
    n_live = int(live.sum())
    pos = np.full(n + 1, n_live, dtype=np.int64)  # dead nodes and ground: the 0 V slot
    pos[:n][live] = np.arange(n_live)
    bf, bt = pos[lb.node_from], pos[lb.node_to]
    nb = len(bf)
    k = np.arange(nb)
    rows = np.concatenate([bf, bt])
    vals = np.concatenate([-np.ones(nb), np.ones(nb)]).astype(complex)
    keep = rows < n_live
    incidence = sp.csc_matrix((vals[keep], (rows[keep], np.concatenate([k, k])[keep])),
                              shape=(n_live, nb))
    zb = None
    if nb and n_live * nb <= DENSE_COUPLING_LIMIT:
        zb = np.ascontiguousarray(lu.solve(incidence.toarray()))
    return LoadCoupling(lu, incidence, lu.solve(i_source[live]), bf, bt, zb)


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
    coupling = _coupling(lu, i_src, live, lb) if lu is not None else None
    terms = tuple((np.array([seen[nd] if nd.conductor else n for nd in nodes], dtype=np.int64),
                   y, inj) for nodes, y, inj in srcs)
    return Prepared(feeder, tuple(seen), seen, live, y_mat, lu, i_src, lb, y0, coupling, terms)


def with_new_loads(prep: Prepared, feeder: Feeder) -> Prepared:
    """``prep`` for a feeder that differs only in load powers: the factorisation is kept.

    The matrix keeps the old rated admittances; the iteration injects the
    difference, so the solution is the same as after a full :func:`build`.
    Raises ``ValueError`` if loads were added, removed or switched.
    """
    old = prep.loads
    before = prep.feeder.loads
    if len(feeder.loads) != len(before) or [ld.in_service for ld in feeder.loads] != [
            ld.in_service for ld in before]:
        raise ValueError("load branches changed: rebuild the nodal matrix")
    # Only the powers change: each branch takes its load's (kW + j kvar) / phases.
    per_load = np.array([(ld.kw + 1j * ld.kvar) * 1000.0 / ld.phases for ld in feeder.loads],
                        dtype=np.complex128)
    return replace(prep, feeder=feeder, loads=replace(old, s_va=per_load[old.load]))


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
    cp = prep.coupling
    if cp is None:
        return Solution(v, True, 0, 0.0)
    live = prep.live
    lb = prep.loads
    y0 = prep.y_load_in_matrix
    # Live node voltages with a trailing 0 V slot for dead nodes and ground.
    vl = np.zeros(len(cp.v0) + 1, dtype=complex)
    if v_start is not None and v_start.shape == (n,):
        vl[:-1] = v_start[live]
    else:
        vl[:-1] = cp.v0
    change = math.inf
    iterations = max_iter
    with _one_blas_thread(cp.zb is not None):
        for it in range(1, max_iter + 1):
            vb = vl[cp.branch_from] - vl[cp.branch_to]
            new = cp.node_voltages((branch_admittance(lb, vb) - y0) * vb)
            change = float(np.max(np.abs(new - vl[:-1]) / np.maximum(np.abs(new), 1.0))) \
                if len(new) else 0.0
            vl[:-1] = new
            if change < tol:
                iterations = it
                break
    v[live] = vl[:-1]
    return Solution(v, bool(change < tol), iterations, change)
