"""Voltage-dependent load currents, vectorised over every phase branch of every load.

A load of ``phases`` phases is split into that many branches (wye: phase to
star point; delta: phase to phase), each drawing ``(kW + j kvar) / phases`` at
its rated branch voltage. The laws, per branch voltage ``v`` and rating
``S`` at ``V_b``:

* constant PQ: ``I = conj(S / v)``;
* constant Z: ``I = conj(S) / V_b^2 * v``;
* constant current magnitude: ``I = conj(S / (V_b v/|v|))``;

and outside the band the PQ and I loads change law so that a sagging or
collapsing voltage cannot make the iteration run away (the load model of
the OpenDSS manual, so both tools agree at every voltage):

* above ``vmax_pu``: the constant impedance continuous at ``vmax_pu``;
* between ``vlow_pu`` and ``vmin_pu``: the current's magnitude is linear in
  ``|v|`` between the rated admittance's current at ``vlow_pu`` and the
  model's current at ``vmin_pu`` (in phase with ``v`` times the load angle);
* below ``vlow_pu``: the rated admittance ``conj(S) / V_b^2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from cosim.grid.threephase.elements import Load, LoadModel, Node
from cosim.grid.threephase.primitives import branch_pairs, winding_base_v

IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class LoadLaw:
    """Constants of :func:`branch_admittance` per branch.

    In band, every law is ``I = y(|v|) v`` with ``y = k_pq / |v|^2 + k_i / |v|
    + k_z`` (constant PQ: ``conj(S) / conj(v)``; constant current:
    ``conj(S) / V_b * v / |v|``; constant Z: ``conj(S) / V_b^2 * v``), one
    of the three ``k`` non-zero per branch, so a whole feeder's loads are a
    handful of array operations. ``v_min``/``v_max`` (volts across the branch)
    are the band; a constant-Z branch has none (infinite). The admittances
    are proportional to ``conj(S)``: :meth:`scaled` turns the laws of a
    1 VA branch into those of any power without looking at the models again.
    """

    k_pq: NDArray[np.complex128]
    k_i: NDArray[np.complex128]
    k_z: NDArray[np.complex128]
    v_min: NDArray[np.float64]
    v_max: NDArray[np.float64]
    ilow: NDArray[np.complex128]  # current of the rated admittance at vlow
    slope: NDArray[np.complex128]  # d|I|/d|V| between vlow and vmin
    vlow: NDArray[np.float64]
    y_high: NDArray[np.complex128]  # admittance above vmax

    def scaled(self, s_conj: NDArray[np.complex128]) -> LoadLaw:
        return LoadLaw(self.k_pq * s_conj, self.k_i * s_conj, self.k_z * s_conj, self.v_min,
                       self.v_max, self.ilow * s_conj, self.slope * s_conj, self.vlow,
                       self.y_high * s_conj)


def unit_law(v_base: NDArray[np.float64], model: IntArray, vmin_pu: NDArray[np.float64],
             vmax_pu: NDArray[np.float64], vlow_pu: NDArray[np.float64]) -> LoadLaw:
    """The laws of branches drawing 1 VA (``conj(S) = 1``) at their rated voltage."""
    y0 = 1.0 / v_base ** 2
    v95, vlow = vmin_pu * v_base, vlow_pu * v_base
    ilow = y0 * vlow
    span = np.where(v95 > vlow, v95 - vlow, 1.0)
    pq = model == LoadModel.CONSTANT_PQ.value
    ci = model == LoadModel.CONSTANT_I.value
    z = ~(pq | ci)
    # Current at vmin (as admittance times vmin's voltage) for PQ and I laws.
    i95 = np.where(pq, y0 / vmin_pu ** 2 * v95, y0 / vmin_pu * v95)
    c = np.complex128
    return LoadLaw(k_pq=np.where(pq, 1.0, 0.0).astype(c), k_i=np.where(ci, 1.0 / v_base, 0.0)
                   .astype(c), k_z=np.where(z, y0, 0.0).astype(c),
                   v_min=np.where(z, -np.inf, v95), v_max=np.where(z, np.inf, vmax_pu * v_base),
                   ilow=ilow.astype(c), slope=((i95 - ilow) / span).astype(c), vlow=vlow,
                   y_high=np.where(pq, y0 / vmax_pu ** 2, y0 / vmax_pu).astype(c))


@dataclass(frozen=True, eq=False)
class LoadBranches:
    """All load branches of a feeder as arrays. ``-1`` in ``node_from``/``node_to`` is ground.

    ``unit`` depends only on the branches' models and ratings, so a change of
    load powers (``dataclasses.replace`` of ``s_va``) keeps it.
    """

    load: IntArray  # owning load's position in Feeder.loads
    node_from: IntArray
    node_to: IntArray
    s_va: NDArray[np.complex128]
    v_base: NDArray[np.float64]
    model: IntArray
    vmin_pu: NDArray[np.float64]
    vmax_pu: NDArray[np.float64]
    vlow_pu: NDArray[np.float64]
    unit: LoadLaw

    @cached_property
    def y_nominal(self) -> NDArray[np.complex128]:
        """Admittance drawing the rated power at rated voltage (constant-Z equivalent)."""
        return np.asarray(np.conj(self.s_va) / self.v_base ** 2, dtype=np.complex128)

    @cached_property
    def law(self) -> LoadLaw:
        """Per-branch constants of the current laws, computed once per set of load powers."""
        return self.unit.scaled(np.conj(self.s_va))


def load_branches(loads: tuple[Load, ...], node_index: dict[Node, int]) -> LoadBranches:
    rows: list[tuple[int, int, int, complex, float, int, float, float, float]] = []
    for i, ld in enumerate(loads):
        if not ld.in_service:
            continue
        vb = winding_base_v(ld.kv, ld.phases, ld.connection)
        s = complex(ld.kw, ld.kvar) * 1000.0 / ld.phases
        for a, b in branch_pairs(ld.terminal, ld.phases, ld.connection):
            rows.append((i, node_index.get(a, -1), node_index.get(b, -1), s, vb,
                         ld.model.value, ld.vmin_pu, ld.vmax_pu, ld.vlow_pu))
    cols = list(zip(*rows)) if rows else [()] * 9
    v_base = np.array(cols[4], dtype=float)
    model = np.array(cols[5], dtype=np.int64)
    vmin, vmax, vlow = (np.array(cols[k], dtype=float) for k in (6, 7, 8))
    return LoadBranches(np.array(cols[0], dtype=np.int64), np.array(cols[1], dtype=np.int64),
                        np.array(cols[2], dtype=np.int64), np.array(cols[3], dtype=complex),
                        v_base, model, vmin, vmax, vlow, unit_law(v_base, model, vmin, vmax, vlow))


def branch_voltage(br: LoadBranches, v: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Voltage across each branch, V (``v`` indexed by node, ground appended as the last entry)."""
    return v[br.node_from] - v[br.node_to]


def branch_current(br: LoadBranches, vb: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Current drawn by each branch at branch voltage ``vb``, A."""
    return np.asarray(branch_admittance(br, vb) * vb)


def branch_admittance(br: LoadBranches, vb: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Each branch's current over its voltage at ``vb``, S (0 for a branch with no voltage).

    The power flow calls this once per iteration, so the in-band laws are
    one expression over all branches and the out-of-band and dead branches,
    rare in a solved feeder, are only looked at when there are any.
    """
    law = br.law
    mag2 = vb.real * vb.real + vb.imag * vb.imag
    dead = None if mag2.all() else mag2 == 0
    if dead is not None:
        mag2 = np.where(dead, 1.0, mag2)
    mag = np.sqrt(mag2)
    y = law.k_pq / mag2 + law.k_i / mag + law.k_z
    if ((mag > law.v_max) | (mag < law.v_min)).any():
        y_sag = (law.ilow + law.slope * (mag - law.vlow)) / mag
        y_sag = np.where(mag <= law.vlow, br.y_nominal, y_sag)
        y = np.where(mag > law.v_max, law.y_high, np.where(mag < law.v_min, y_sag, y))
    if dead is not None:
        y = np.where(dead, 0.0, y)
    return np.asarray(y, dtype=np.complex128)
