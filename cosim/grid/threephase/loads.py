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
class LoadBranches:
    """All load branches of a feeder as arrays. ``-1`` in ``node_from``/``node_to`` is ground."""

    load: IntArray  # owning load's position in Feeder.loads
    node_from: IntArray
    node_to: IntArray
    s_va: NDArray[np.complex128]
    v_base: NDArray[np.float64]
    model: IntArray
    vmin_pu: NDArray[np.float64]
    vmax_pu: NDArray[np.float64]
    vlow_pu: NDArray[np.float64]

    @cached_property
    def y_nominal(self) -> NDArray[np.complex128]:
        """Admittance drawing the rated power at rated voltage (constant-Z equivalent)."""
        return np.asarray(np.conj(self.s_va) / self.v_base ** 2, dtype=np.complex128)

    @cached_property
    def law(self) -> LoadLaw:
        """Per-branch constants of the current laws, computed once per set of load powers."""
        y0 = self.y_nominal
        v95, vlow = self.vmin_pu * self.v_base, self.vlow_pu * self.v_base
        ilow = y0 * vlow
        span = np.where(v95 > vlow, v95 - vlow, 1.0)
        pq = self.model == LoadModel.CONSTANT_PQ.value
        ci = self.model == LoadModel.CONSTANT_I.value
        # Current at vmin (as admittance times vmin's voltage) for PQ and I laws.
        i95 = np.where(pq, y0 / self.vmin_pu ** 2 * v95, y0 / self.vmin_pu * v95)
        return LoadLaw(pq=pq, z=~(pq | ci), s_conj=np.conj(self.s_va), ilow=ilow,
                       slope=(i95 - ilow) / span, vlow=vlow,
                       y_high=np.where(pq, y0 / self.vmax_pu ** 2, y0 / self.vmax_pu))


@dataclass(frozen=True, eq=False)
class LoadLaw:
    """Constants of :func:`branch_current` per branch: which law, and the limits' admittances."""

    pq: NDArray[np.bool_]  # constant power (else constant current, unless z)
    z: NDArray[np.bool_]  # constant impedance
    s_conj: NDArray[np.complex128]
    ilow: NDArray[np.complex128]  # current of the rated admittance at vlow
    slope: NDArray[np.complex128]  # d|I|/d|V| between vlow and vmin
    vlow: NDArray[np.float64]
    y_high: NDArray[np.complex128]  # admittance above vmax


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
    return LoadBranches(np.array(cols[0], dtype=np.int64), np.array(cols[1], dtype=np.int64),
                        np.array(cols[2], dtype=np.int64), np.array(cols[3], dtype=complex),
                        np.array(cols[4], dtype=float), np.array(cols[5], dtype=np.int64),
                        np.array(cols[6], dtype=float), np.array(cols[7], dtype=float),
                        np.array(cols[8], dtype=float))


def branch_voltage(br: LoadBranches, v: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Voltage across each branch, V (``v`` indexed by node, ground appended as the last entry)."""
    return v[br.node_from] - v[br.node_to]


def branch_current(br: LoadBranches, vb: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Current drawn by each branch at branch voltage ``vb``, A."""
    law = br.law
    mag = np.abs(vb)
    dead = mag == 0
    safe_mag = np.where(dead, 1.0, mag)
    safe = np.where(dead, 1.0, vb)
    u = mag / br.v_base
    # In-band laws: PQ conj(S)/conj(v); I conj(S)/V_b * v/|v| (the angle follows v).
    out = np.where(law.pq, law.s_conj / np.conj(safe),
                   law.s_conj / br.v_base * safe / safe_mag)
    high = u > br.vmax_pu
    low = u < br.vmin_pu
    if high.any():
        out = np.where(high, law.y_high * vb, out)
    if low.any():
        y_sag = (law.ilow + law.slope * (mag - law.vlow)) / safe_mag
        y_sag = np.where(u <= br.vlow_pu, br.y_nominal, y_sag)
        out = np.where(low, y_sag * vb, out)
    out = np.where(law.z, br.y_nominal * vb, out)
    return np.where(dead, 0.0, out)
