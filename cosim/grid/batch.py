"""Many AC power flows of one network: time series and batch studies.

A time series changes injections (load, generator and DER profiles) but not
the network, so every step shares one admittance matrix, bus split and
Jacobian pattern. All steps are iterated together as one array (steps x
buses) with one LU factorisation of the base case's Jacobian (a chord, or
"fixed-Jacobian", Newton method: each iteration is a sparse matrix product and
a multi-right-hand-side triangular solve). The test is always each step's
true mismatch, so the answers equal single solves to the tolerance; steps
that converge slowly with the shared Jacobian (far from the base case) are
finished one by one with full Newton, warm-started where the batch left them.

Reactive limits are not enforced here (every step keeps the network's
generator types); use :func:`cosim.grid.acflow.solve_ac` with
``enforce_q_limits`` for steps that need them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cosim.grid.acflow import (
    injections,
    prepare,
    solve_ac,
    start_voltage,
    voltage_setpoints,
)
from cosim.grid.network import BoolArray, FloatArray, IntArray, Network
from cosim.grid.newton import newton_raphson

CHORD_ITERATIONS = 10  # shared-Jacobian iterations before slow steps go one by one


@dataclass(frozen=True)
class BatchResult:
    """Solved states of every step (rows), in physical units.

    ``vm_pu``/``va_deg``: (steps, buses); ``p_from_mw``/``q_from_mvar``:
    (steps, branches) at each branch's from end; ``losses_mw``: (steps,);
    ``converged``/``iterations``: per step (``iterations`` counts shared and
    own Newton steps). De-energised buses read 0.
    """

    vm_pu: FloatArray
    va_deg: FloatArray
    p_from_mw: FloatArray
    q_from_mvar: FloatArray
    losses_mw: FloatArray
    converged: BoolArray
    iterations: IntArray


def _profile(values: np.ndarray | None, default: np.ndarray, steps: int, what: str) -> np.ndarray:
    if values is None:
        return np.broadcast_to(default, (steps, len(default)))
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (steps, len(default)):
        raise ValueError(f"{what}: expected shape ({steps}, {len(default)}), got {arr.shape}")
    return arr


def solve_batch(network: Network, *, load_p_mw: np.ndarray | None = None,
                load_q_mvar: np.ndarray | None = None, gen_p_mw: np.ndarray | None = None,
                der_p_mw: np.ndarray | None = None, der_q_mvar: np.ndarray | None = None,
                tolerance_pu: float = 1e-8, max_iter: int = 30) -> BatchResult:
    """AC power flow of ``network`` for each row of the given profiles.

    Each profile is (steps, elements) in MW/Mvar in the order of the
    network's table (loads, generators, DER); a profile left out keeps the
    network's value at every step. DER values are taken as injected (no
    curtailment clipping). Raises ValueError for profiles of the wrong shape.
    """
    given = [x for x in (load_p_mw, load_q_mvar, gen_p_mw, der_p_mw, der_q_mvar) if x is not None]
    if not given:
        raise ValueError("give at least one profile (load_p_mw, load_q_mvar, gen_p_mw, ...)")
    steps = int(np.asarray(given[0]).shape[0])
    ld, gen, der = network.loads, network.generators, network.ders
    lp = _profile(load_p_mw, ld.p_mw, steps, "load_p_mw")
    lq = _profile(load_q_mvar, ld.q_mvar, steps, "load_q_mvar")
    gp = _profile(gen_p_mw, gen.p_mw, steps, "gen_p_mw")
    dp = _profile(der_p_mw, der.p_injected_mw(), steps, "der_p_mw")
    dq = _profile(der_q_mvar, der.q_injected_mvar(), steps, "der_q_mvar")

    prep = prepare(network)
    base = solve_ac(network, prepared=prep, tolerance_pu=tolerance_pu, max_iter=max_iter)
    topo, pat = prep.topology, prep.pattern
    on = topo.energised
    n, mva = network.n_bus, network.base_mva

    def incidence(bus: IntArray, mask: np.ndarray) -> sp.csr_matrix:
        k = np.flatnonzero(mask)
        return sp.csr_matrix((np.ones(len(k)), (k, bus[k])), shape=(len(bus), n))

    # Bus injections per step (pu): generators' P at their buses (their fixed Q
    # where they do not control voltage), DER, and ZIP loads split by voltage power.
    inj0 = injections(network, on)
    c_gen = incidence(gen.bus, gen.in_service & on[gen.bus])
    c_der = incidence(der.bus, on[der.bus])
    c_ld = incidence(ld.bus, ld.in_service & on[ld.bus])
    q_gen = np.where(gen.voltage_control, 0.0, gen.q_mvar)
    s_load = (lp + 1j * lq) / mva
    s_const = ((gp + 1j * q_gen) @ c_gen + (dp + 1j * dq) @ c_der) / mva \
        - (s_load * (1.0 - ld.zip_z - ld.zip_i)) @ c_ld
    s_i = -(s_load * ld.zip_i) @ c_ld
    s_z = -(s_load * ld.zip_z) @ c_ld

    ybus = prep.admittance.ybus
    v0 = start_voltage(network, voltage_setpoints(network, on), on,
                       base.v_pu if base.converged else None)
    va = np.tile(np.angle(v0), (steps, 1))
    vm = np.tile(np.abs(v0), (steps, 1))
    iterations = np.zeros(steps, dtype=np.int64)
    npvpq = len(pat.pvpq)
    factor = pat.lu.last

    def mismatch(vm_: np.ndarray, va_: np.ndarray, rows: np.ndarray) -> np.ndarray:
        v = vm_ * np.exp(1j * va_)
        s_calc = v * np.conj((ybus @ v.T).T)
        spec = s_const[rows] + vm_ * (s_i[rows] + vm_ * s_z[rows])
        mis = s_calc - spec
        return np.concatenate((mis[:, pat.pvpq].real, mis[:, pat.pq].imag), axis=1)

    rows = np.arange(steps)
    f = mismatch(vm, va, rows)
    norm = np.abs(f).max(axis=1) if pat.size else np.zeros(steps)
    active = norm >= tolerance_pu
    for _ in range(CHORD_ITERATIONS if factor is not None else 0):
        if not active.any():
            break
        a = np.flatnonzero(active)
        dx = factor.solve(-f[a].T).T  # type: ignore[union-attr]
        va_a, vm_a = va[a], vm[a]
        va_a[:, pat.pvpq] += dx[:, :npvpq]
        vm_a[:, pat.pq] += dx[:, npvpq:]
        f_a = mismatch(vm_a, va_a, a)
        norm_a = np.abs(f_a).max(axis=1)
        better = np.isfinite(norm_a) & (norm_a < norm[a])
        keep = a[better]
        va[keep], vm[keep], f[keep], norm[keep] = va_a[better], vm_a[better], f_a[better], norm_a[better]
        iterations[a] += 1
        active[a[~better]] = False  # diverging with the shared Jacobian: solve alone
        active[keep] = norm[keep] >= tolerance_pu
    converged = norm < tolerance_pu

    for k in np.flatnonzero(~converged):  # the slow ones, one by one with full Newton
        inj = type(inj0)(s_const[k], s_i[k], s_z[k])
        out = newton_raphson(ybus, inj, vm[k] * np.exp(1j * va[k]), pat,
                             tolerance_pu=tolerance_pu, max_iter=max_iter, reuse_factor=False)
        va[k], vm[k] = np.angle(out.v), np.abs(out.v)
        iterations[k] += out.iterations
        converged[k] = out.converged

    v = vm * np.exp(1j * va)
    v[:, ~on] = 0.0
    s_from = v[:, network.branches.from_bus] * np.conj((prep.admittance.yf @ v.T).T) * mva
    s_to = v[:, network.branches.to_bus] * np.conj((prep.admittance.yt @ v.T).T) * mva
    return BatchResult(vm_pu=np.abs(v), va_deg=np.rad2deg(np.angle(v)),
                       p_from_mw=s_from.real, q_from_mvar=s_from.imag,
                       losses_mw=(s_from + s_to).real.sum(axis=1),
                       converged=converged, iterations=iterations)
