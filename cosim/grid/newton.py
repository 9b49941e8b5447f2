"""Newton-Raphson AC power flow in polar form with a sparse Jacobian.

Second stage of the solver pipeline. The Jacobian uses the complex
formulation of the derivatives (Zimmerman, "AC Power Flows, Generalized OPF
Costs and their Derivatives using Complex Matrix Notation", MATPOWER TN2):

    dS/dVa = j diag(V) conj(diag(I) - Ybus diag(V))
    dS/dVm = diag(V) conj(Ybus diag(V/|V|)) + conj(diag(I)) diag(V/|V|)

Because every entry of those matrices sits on a stored entry of Ybus (whose
diagonal is always stored, see :mod:`cosim.grid.admittance`), the Jacobian is
assembled by gathering values at precomputed positions
(:class:`JacobianPattern`) instead of slicing sparse matrices each iteration.

Voltage-dependent (ZIP) injections enter as ``S(vm) = s_const + s_i*vm +
s_z*vm**2`` (pu, injection positive), with their derivative on the diagonal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cosim.grid.network import IntArray
from cosim.grid.sparse_lu import Factor, SingularMatrix, SparseLU

# A step with a reused (stale) factorisation must shrink the mismatch at least
# this much, else the next step refactorises (and a step that grew it is undone).
STALE_CONTRACTION = 0.1


@dataclass(frozen=True)
class Injections:
    """Bus injections in pu (generator convention), split by voltage dependence."""

    s_const: np.ndarray
    s_i: np.ndarray
    s_z: np.ndarray

    def at(self, vm: np.ndarray) -> np.ndarray:
        return self.s_const + vm * (self.s_i + vm * self.s_z)

    def d_dvm(self, vm: np.ndarray) -> np.ndarray:
        return self.s_i + 2.0 * vm * self.s_z


@dataclass(frozen=True)
class JacobianPattern:
    """Where each Ybus entry lands in the Jacobian for one (pv, pq) split."""

    rows: IntArray  # bus row of each Ybus stored entry
    cols: IntArray
    diag_pos: IntArray  # stored position of Ybus[b, b] for every bus b
    pvpq: IntArray
    pq: IntArray
    take: tuple[IntArray, IntArray, IntArray, IntArray]  # entries for J11, J12, J21, J22
    perm: IntArray  # gathered values -> CSC data order
    indices: IntArray
    indptr: IntArray
    size: int
    lu: SparseLU  # keeps the symbolic analysis and the last factorisation


def jacobian_pattern(ybus: sp.csr_matrix, pv: IntArray, pq: IntArray) -> JacobianPattern:
    """Precompute Jacobian assembly indices for a Ybus sparsity pattern and bus split."""
    n = ybus.shape[0]
    rows = np.repeat(np.arange(n), np.diff(ybus.indptr))
    cols = ybus.indices.astype(np.int64)
    diag_hits = np.flatnonzero(rows == cols)
    diag_pos = np.full(n, -1, dtype=np.int64)
    diag_pos[rows[diag_hits]] = diag_hits
    if (diag_pos < 0).any():
        raise ValueError("Ybus must store every diagonal entry")
    pvpq = np.r_[pv, pq].astype(np.int64)
    npvpq = len(pvpq)
    p_row = np.full(n, -1)
    p_row[pvpq] = np.arange(npvpq)
    q_row = np.full(n, -1)
    q_row[pq] = npvpq + np.arange(len(pq))
    # Unknowns: angles of pv+pq buses, then magnitudes of pq buses (same order as equations).
    a_col, m_col = p_row, q_row
    blocks = [(p_row, a_col), (p_row, m_col), (q_row, a_col), (q_row, m_col)]
    take: list[IntArray] = []
    jr, jc = [], []
    for r_map, c_map in blocks:
        e = np.flatnonzero((r_map[rows] >= 0) & (c_map[cols] >= 0)).astype(np.int64)
        take.append(e)
        jr.append(r_map[rows[e]])
        jc.append(c_map[cols[e]])
    size = npvpq + len(pq)
    jr_all, jc_all = np.concatenate(jr), np.concatenate(jc)
    marker = sp.csc_matrix((np.arange(1, len(jr_all) + 1, dtype=np.float64), (jr_all, jc_all)),
                           shape=(size, size))
    marker.sort_indices()
    perm = marker.data.astype(np.int64) - 1
    return JacobianPattern(rows=rows, cols=cols, diag_pos=diag_pos, pvpq=pvpq,
                           pq=np.asarray(pq, dtype=np.int64),
                           take=(take[0], take[1], take[2], take[3]), perm=perm,
                           indices=marker.indices.copy(), indptr=marker.indptr.copy(), size=size,
                           lu=SparseLU(marker.indices.copy(), marker.indptr.copy(), size))


@dataclass(frozen=True)
class NewtonOutcome:
    """Final state of one Newton run.

    ``max_mismatch_pu`` is the largest |P| or |Q| mismatch over the solved
    buses and ``worst_bus`` the bus index where it occurs (-1 if none).
    ``iterations`` counts Newton steps, ``factorisations`` the Jacobians
    factorised (fewer when a warm solve reused the last one).
    """

    v: np.ndarray
    converged: bool
    iterations: int
    max_mismatch_pu: float
    worst_bus: int
    factorisations: int = 0


def _mismatch(ybus: sp.csr_matrix, v: np.ndarray, inj: Injections,
              pat: JacobianPattern) -> tuple[np.ndarray, np.ndarray]:
    mis = v * np.conj(ybus @ v) - inj.at(np.abs(v))
    f = np.r_[mis[pat.pvpq].real, mis[pat.pq].imag]
    return mis, f


def _worst(mis: np.ndarray, pat: JacobianPattern) -> tuple[float, int]:
    if pat.size == 0:
        return 0.0, -1
    per_bus = np.zeros(len(mis))
    per_bus[pat.pvpq] = np.abs(mis[pat.pvpq].real)
    per_bus[pat.pq] = np.maximum(per_bus[pat.pq], np.abs(mis[pat.pq].imag))
    if not np.isfinite(per_bus).all():
        bad = int(np.flatnonzero(~np.isfinite(per_bus))[0])
        return float("inf"), bad
    k = int(np.argmax(per_bus))
    return float(per_bus[k]), k


def jacobian_values(ybus: sp.csr_matrix, v: np.ndarray, inj: Injections,
                    pat: JacobianPattern) -> np.ndarray:
    """The Jacobian's stored values at ``v``, in the CSC order of ``pat``."""
    vm = np.abs(v)
    ibus = ybus @ v
    vn = v / np.where(vm > 0.0, vm, 1.0)  # de-energised buses have v = 0
    r, c, d = pat.rows, pat.cols, pat.diag_pos
    data = ybus.data
    d_va = -1j * v[r] * np.conj(data * v[c])
    d_vm = v[r] * np.conj(data * vn[c])
    d_va[d] += 1j * v * np.conj(ibus)
    d_vm[d] += np.conj(ibus) * vn - inj.d_dvm(vm)
    t11, t12, t21, t22 = pat.take
    vals = np.concatenate((d_va.real[t11], d_vm.real[t12], d_va.imag[t21], d_vm.imag[t22]))
    return vals[pat.perm]


def newton_raphson(ybus: sp.csr_matrix, inj: Injections, v0: np.ndarray,
                   pat: JacobianPattern, *, tolerance_pu: float,
                   max_iter: int, reuse_factor: bool = True) -> NewtonOutcome:
    """Solve ``V conj(Ybus V) = S(|V|)`` for the buses in ``pat`` (pv: angle, pq: both).

    Buses in neither pv nor pq keep their ``v0`` (slack buses and buses not
    being solved). Converged when the largest mismatch is below
    ``tolerance_pu``; never raises for divergence or a singular Jacobian: the
    outcome says ``converged=False`` with the mismatch reached.

    With ``reuse_factor``, the first steps use the pattern's last
    factorisation (from the previous solve) while each shrinks the mismatch
    by at least :data:`STALE_CONTRACTION`; otherwise the step is undone and
    the Jacobian factorised at the present point. The answer is the same (the
    test is always the true mismatch); a warm re-solve after a small change
    then needs no factorisation at all.
    """
    v = v0.astype(np.complex128).copy()
    va, vm = np.angle(v), np.abs(v)
    npvpq = len(pat.pvpq)
    mis, f = _mismatch(ybus, v, inj, pat)
    it = factorisations = 0
    norm = float(np.max(np.abs(f))) if pat.size else 0.0
    converged = bool(pat.size == 0 or norm < tolerance_pu)
    factor: Factor | None = pat.lu.last if reuse_factor else None
    stale = factor is not None
    while not converged and it < max_iter:
        it += 1
        if factor is None:
            try:
                factor = pat.lu.factor(jacobian_values(ybus, v, inj, pat))
            except SingularMatrix:  # voltage collapse or no solution
                break
            factorisations += 1
            stale = False
        dx = factor.solve(-f)
        if not np.isfinite(dx).all():
            break
        va_new, vm_new = va.copy(), vm.copy()
        va_new[pat.pvpq] += dx[:npvpq]
        vm_new[pat.pq] += dx[npvpq:]
        v_new = vm_new * np.exp(1j * va_new)
        mis_new, f_new = _mismatch(ybus, v_new, inj, pat)
        norm_new = float(np.max(np.abs(f_new))) if np.isfinite(f_new).all() else np.inf
        if stale and not norm_new < STALE_CONTRACTION * norm:
            factor, stale = None, False  # refactorise here
            if not norm_new < norm:
                continue  # undo the step
        if not np.isfinite(norm_new):
            break
        if not stale:
            factor = None  # honest Newton once refactorised: a fresh Jacobian per step
        va, vm, v, mis, f, norm = va_new, vm_new, v_new, mis_new, f_new, norm_new
        converged = norm < tolerance_pu
    if converged and stale and factor is not None and it < max_iter:
        # Converged on a reused factorisation, just under the tolerance (steps
        # converge linearly); one more cheap step brings the accuracy to what a
        # fresh Newton's last, quadratic step gives. Kept only if it helps.
        it += 1
        dx = factor.solve(-f)
        va_new, vm_new = va.copy(), vm.copy()
        va_new[pat.pvpq] += dx[:npvpq]
        vm_new[pat.pq] += dx[npvpq:]
        v_new = vm_new * np.exp(1j * va_new)
        mis_new, f_new = _mismatch(ybus, v_new, inj, pat)
        if np.isfinite(f_new).all() and float(np.max(np.abs(f_new))) < norm:
            v, mis = v_new, mis_new
    worst, bus = _worst(mis, pat)
    return NewtonOutcome(v=v, converged=converged, iterations=it, max_mismatch_pu=worst,
                         worst_bus=bus, factorisations=factorisations)
