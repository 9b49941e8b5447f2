"""Primitive admittance matrices of feeder elements, in siemens, over their terminal nodes.

Each function returns the element's nodes (ground included; the assembler
drops conductor 0) and the matrix ``Y`` with ``I = Y V`` for currents flowing
*into* the element at each node. Loads are not here: their current depends on
voltage (:mod:`cosim.grid.threephase.loads`).
"""

from __future__ import annotations

import math

import numpy as np

from cosim.grid.threephase.elements import (
    Capacitor,
    ComplexMatrix,
    Connection,
    Fault,
    Line,
    Node,
    Source,
    Transformer,
)


def winding_base_v(kv: float, phases: int, conn: Connection) -> float:
    """Rated voltage across one phase's winding (or shunt branch), V.

    OpenDSS reads kV as line to line for a multi-phase element and as the
    voltage across the element for a single-phase one.
    """
    if phases == 1 or conn is Connection.DELTA:
        return kv * 1000.0
    return kv * 1000.0 / math.sqrt(3.0)


def branch_pairs(nodes: tuple[Node, ...], phases: int, conn: Connection,
                 forward: bool = True) -> list[tuple[Node, Node]]:
    """The two nodes each phase's branch (load, capacitor or winding) sits between.

    Wye: phase conductor to star point (the last conductor). Delta with three
    phases: a-b, b-c, c-a (``forward``) or a-c, b-a, c-b; single-phase delta:
    the two given conductors.
    """
    if conn is Connection.WYE or phases == 1:
        return [(nodes[k], nodes[-1]) for k in range(phases)]
    step = 1 if forward else -1
    return [(nodes[k], nodes[(k + step) % phases]) for k in range(phases)]


def incidence(pairs: list[tuple[Node, Node]], nodes: tuple[Node, ...]) -> np.ndarray:
    """Matrix mapping terminal node voltages to branch voltages (rows: branches)."""
    pos = {n: i for i, n in enumerate(nodes)}
    c = np.zeros((len(pairs), len(nodes)))
    for k, (a, b) in enumerate(pairs):
        c[k, pos[a]] += 1.0
        c[k, pos[b]] -= 1.0
    return c


def line_y(line: Line, omega: float) -> tuple[tuple[Node, ...], ComplexMatrix]:
    """Nominal pi model: series ``Z^-1`` between the ends, half the capacitance at each end."""
    ys = np.linalg.inv(line.z_ohm)
    yc = 0.5j * omega * line.c_f
    y = np.block([[ys + yc, -ys], [-ys, ys + yc]])
    return line.bus1 + line.bus2, y


def source_y(src: Source) -> tuple[tuple[Node, ...], ComplexMatrix, np.ndarray]:
    """Norton equivalent of a Thevenin source: shunt ``Z^-1`` and injected current ``Z^-1 E``."""
    y: ComplexMatrix = np.linalg.inv(src.z_ohm).astype(np.complex128)
    return src.terminal, y, y @ src.emf_v


def capacitor_y(cap: Capacitor) -> tuple[tuple[Node, ...], ComplexMatrix]:
    """Each phase's branch is ``j Q / V^2`` at its rated voltage."""
    vb = winding_base_v(cap.kv, cap.phases, cap.connection)
    b = cap.kvar * 1000.0 / cap.phases / vb ** 2
    c = incidence(branch_pairs(cap.terminal, cap.phases, cap.connection), cap.terminal)
    return cap.terminal, c.T @ (1j * b * np.eye(cap.phases)) @ c


def transformer_y(xf: Transformer) -> tuple[tuple[Node, ...], ComplexMatrix]:
    """A two- or three-winding bank: per phase, ideal windings coupled by leakage impedances.

    Per phase, in per unit on the first winding's rating ``S``, the
    short-circuit impedance between windings i and j is ``z_ij = r_i + r_j +
    j x_ij``, every percentage on the first winding's kVA (as OpenDSS reads
    ``%r`` of a winding with a different rating). Referred to
    winding 1, ``Zb[i][j] = (z_1i + z_1j - z_ij) / 2`` for the other windings,
    and the winding admittance is ``A^T Zb^-1 A`` with ``A = [-1 | I]``
    (for two windings this is ``(1/z) [[1, -1], [-1, 1]]``). Scaled by ``S`` and
    the tapped winding voltages ``N_w`` it gives winding currents from winding
    voltages; the incidence of each winding on its terminal nodes (wye: phase
    to star point; delta: phase to phase, oriented so that a wye-delta bank
    shifts by 30 degrees with the low side lagging for ``lag``) turns that into
    a nodal matrix.
    """
    p = xf.phases
    ws = xf.windings
    nw = len(ws)
    s_phase = ws[0].kva * 1000.0 / p
    r = [w.r_percent / 100.0 for w in ws]
    x = {(0, 1): xf.x_percent, (0, 2): xf.x13_percent, (1, 2): xf.x23_percent}

    def z(i: int, j: int) -> complex:
        return 0j if i == j else r[i] + r[j] + 1j * x[(min(i, j), max(i, j))] / 100.0

    zb = np.array([[(z(0, i) + z(0, j) - z(i, j)) / 2 for j in range(1, nw)]
                   for i in range(1, nw)])
    a = np.hstack([-np.ones((nw - 1, 1)), np.eye(nw - 1)])
    n = np.array([winding_base_v(w.kv, p, w.connection) * w.tap for w in ws])
    prim = s_phase * (a.T @ np.linalg.solve(zb, a)) / np.outer(n, n)
    prim[0, 0] += s_phase * (xf.noload_loss_percent - 1j * xf.imag_percent) / 100.0 / n[0] ** 2
    # ANSI lag: a delta primary's phase-a winding spans a-c; a delta secondary's spans a-b.
    forward = (ws[0].connection is not Connection.DELTA) == xf.lag
    nodes: tuple[Node, ...] = tuple(nd for w in ws for nd in w.terminal)
    c = np.zeros((nw * p, len(nodes)))
    offsets = np.cumsum([0] + [len(w.terminal) for w in ws])
    for k, w in enumerate(ws):
        c[k * p:(k + 1) * p, offsets[k]:offsets[k + 1]] = incidence(
            branch_pairs(w.terminal, p, w.connection, forward), w.terminal)
    yw = np.kron(prim, np.eye(p))  # rows: winding 1 phases, then winding 2, ...
    y = c.T @ yw @ c
    # A tiny reactance to ground on every conductor keeps a floating (ungrounded)
    # winding solvable: ppm of the winding rating, as OpenDSS's ppm_antifloat.
    for k, w in enumerate(ws):
        ya = -1j * xf.antifloat_ppm * 1e-6 * s_phase / n[k] ** 2
        for j in range(offsets[k], offsets[k + 1]):
            y[j, j] += ya
    return nodes, y


def fault_y(fault: Fault) -> tuple[tuple[Node, ...], ComplexMatrix]:
    """Conductance ``1/r`` between each node of ``bus1`` and its partner in ``bus2``."""
    n = len(fault.bus1)
    g = np.eye(n, dtype=complex) / fault.r_ohm
    return fault.bus1 + fault.bus2, np.block([[g, -g], [-g, g]])
