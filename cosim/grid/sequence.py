"""Symmetrical-component (sequence) networks and shunt faults solved on them.

Why sequence networks: a balanced network seen from one unbalanced shunt
fault decouples into positive (1), negative (2) and zero (0) sequence
networks that connect only at the fault point (Fortescue; Grainger &
Stevenson, Power System Analysis, ch. 11-12). Each is a bus admittance matrix;
the fault joins their Thevenin impedances ``Z1``, ``Z2``, ``Z0`` at bus ``k``.

This module builds the three matrices from impedances it is given (the IEC
60909 corrections are applied by :mod:`cosim.grid.iec60909` before) and
solves one fault. Data conventions:

* Positive and negative sequence: series branch impedances only (line
  capacitance, magnetising branches and loads are left out, IEC 60909-0
  clause 6.1); the negative sequence sees the transformer phase shift with the
  opposite sign.
* Zero sequence per branch kind: a line is a pi section with ``b0``; a
  transformer's zero-sequence path follows its vector group
  (:data:`VECTOR_GROUPS`): an earthed-star (``YN``/``yn``) winding facing a
  delta closes the zero-sequence current through its leakage impedance to
  ground on the star side; ``YNyn`` passes it through (T model with the
  zero-sequence magnetising impedance, split ``si0_hv`` to the HV leg); an
  unearthed star or a delta facing nothing earthed blocks it. A neutral
  earthing impedance ``Z_N`` appears as ``3 Z_N`` in series.
* Fault impedance ``Z_f`` is in series with each faulted phase, so it adds to
  each sequence Thevenin impedance (for an LL fault the phases are joined
  through ``2 Z_f``).

Faults (phase a is the reference, b and c the faulted pair of LL/LLG):

    3ph:  I1 = E / Z1
    SLG:  I1 = I2 = I0 = E / (Z1 + Z2 + Z0)
    LL:   I1 = -I2 = E / (Z1 + Z2),  I0 = 0
    LLG:  I1 = E / (Z1 + Z2 Z0 / (Z2 + Z0)),  I2 = -I1 Z0 / (Z2 + Z0),  I0 = -I1 Z2 / (Z2 + Z0)

with ``Zs`` including ``Z_f``. A zero-sequence network with no path to ground
at the fault bus has ``Z0`` infinite (no earth current).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from cosim.grid.network import BoolArray, FloatArray, Network

ComplexArray = np.ndarray
FaultKind = Literal["3ph", "SLG", "LL", "LLG"]
FAULT_KINDS: tuple[str, ...] = ("3ph", "SLG", "LL", "LLG")

A = np.exp(2j * np.pi / 3)
#: Phase currents from sequence currents: [a, b, c] = SEQ_TO_PHASE @ [0, 1, 2].
SEQ_TO_PHASE = np.array([[1, 1, 1], [1, A * A, A], [1, A, A * A]])

# Zero-sequence behaviour of a two-winding transformer, by vector group
# (without the clock number: the phase shift is the branch's shift_deg).
# Value: (path) where path is "series" (YNyn), "hv_shunt" (YNd, YNy),
# "lv_shunt" (Dyn, Yyn) or "open".
VECTOR_GROUPS: dict[str, str] = {
    "dyn": "lv_shunt", "yyn": "lv_shunt", "ynd": "hv_shunt", "yny": "hv_shunt",
    "ynyn": "series", "yd": "open", "dy": "open", "yy": "open", "dd": "open",
}
_MAGNETISING_IN_PATH = {"yyn", "yny"}  # the unearthed side's flux closes through the core


def vector_group_key(group: str) -> str:
    """Lower-case vector group without its clock number ("Dyn11" -> "dyn"); KeyError if unknown."""
    key = group.strip().rstrip("0123456789").lower()
    if key not in VECTOR_GROUPS:
        raise KeyError(f"vector group {group!r} is not modelled (known: Dyn, YNd, YNyn, Yyn, YNy, Yd, "
                       "Dy, Yy, Dd, with an optional clock number)")
    return key


@dataclass(frozen=True, eq=False)
class ZeroSequence:
    """Per-branch zero-sequence data, aligned with ``network.branches``; pu on the system base.

    Lines use ``r0_pu``, ``x0_pu``, ``b0_pu`` (total zero-sequence charging).
    Transformers use ``r0_pu``/``x0_pu`` as the zero-sequence leakage
    impedance (referred like the positive-sequence one), ``vector_group``,
    ``r0m_pu``/``x0m_pu`` the zero-sequence magnetising impedance (inf: none),
    ``si0_hv`` the share of the leakage on the HV leg of the T model, and
    ``rn_pu``/``xn_pu`` the neutral earthing impedance ``Z_N`` (0: solid).
    A transformer's from bus is its HV winding (as the grid config and the
    pandapower import build them), so "Dyn" earths the to bus.
    NaN in a field a study needs makes the study refuse, naming the branch.
    """

    r0_pu: FloatArray
    x0_pu: FloatArray
    b0_pu: FloatArray
    vector_group: tuple[str, ...]
    r0m_pu: FloatArray
    x0m_pu: FloatArray
    si0_hv: FloatArray
    rn_pu: FloatArray
    xn_pu: FloatArray


@dataclass(frozen=True, eq=False)
class SequenceNetworks:
    """Bus admittance matrices and branch end matrices of the three sequences.

    ``y[s]``, ``yf[s]``, ``yt[s]`` for s = 0, 1, 2; ``grounded`` marks buses
    whose zero-sequence network reaches ground; ``energised`` the buses solved.
    """

    y: tuple[sp.csc_matrix, sp.csc_matrix, sp.csc_matrix]
    yf: tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]
    yt: tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]
    energised: BoolArray
    grounded: BoolArray


def _matrices(n: int, f: np.ndarray, t: np.ndarray, yff: ComplexArray, yft: ComplexArray,
              ytf: ComplexArray, ytt: ComplexArray, shunt: ComplexArray
              ) -> tuple[sp.csc_matrix, sp.csr_matrix, sp.csr_matrix]:
    nl = len(f)
    line = np.arange(nl)
    yf = sp.csr_matrix((np.r_[yff, yft], (np.r_[line, line], np.r_[f, t])), shape=(nl, n))
    yt = sp.csr_matrix((np.r_[ytf, ytt], (np.r_[line, line], np.r_[f, t])), shape=(nl, n))
    diag = np.arange(n)
    y = sp.coo_matrix((np.r_[yff, yft, ytf, ytt, shunt],
                       (np.r_[f, f, t, t, diag], np.r_[f, t, f, t, diag])), shape=(n, n)).tocsc()
    return y, yf, yt


def _inv(z: ComplexArray) -> ComplexArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(z) & (z != 0), 1.0 / np.where(z == 0, 1.0, z), 0.0)


def zero_sequence_terms(network: Network, closed: BoolArray, zero: ZeroSequence,
                        z0_scale: FloatArray | None = None, r0_scale: FloatArray | None = None
                        ) -> tuple[ComplexArray, ComplexArray, ComplexArray, ComplexArray]:
    """Zero-sequence two-port terms (yff, yft, ytf, ytt) per branch.

    ``z0_scale`` multiplies each transformer's zero-sequence leakage impedance
    (the IEC 60909 K_T); the neutral impedance is added after it (it is not
    part of the transformer). ``r0_scale`` multiplies each line's R0 (the
    conductor temperature of the minimum case). Raises ValueError naming a
    branch with missing data.
    """
    br = network.branches
    nl = len(br)
    scale = np.ones(nl) if z0_scale is None else z0_scale
    r_scale = np.ones(nl) if r0_scale is None else r0_scale
    yff = np.zeros(nl, dtype=np.complex128)
    yft = np.zeros(nl, dtype=np.complex128)
    ytf = np.zeros(nl, dtype=np.complex128)
    ytt = np.zeros(nl, dtype=np.complex128)
    for k in np.flatnonzero(closed):
        name = br.name[k]
        z0 = complex(zero.r0_pu[k], zero.x0_pu[k])
        if not br.is_transformer[k]:
            if not (np.isfinite(z0) and np.isfinite(zero.b0_pu[k])):
                raise ValueError(f"branch {name!r}: zero-sequence r0/x0/b0 missing (needed for an "
                                 "earth fault study)")
            ys = 1.0 / complex(z0.real * r_scale[k], z0.imag)
            yff[k] = ytt[k] = ys + 0.5j * zero.b0_pu[k]
            yft[k] = ytf[k] = -ys
            continue
        group = zero.vector_group[k]
        if not group:
            raise ValueError(f"transformer {name!r}: vector group missing (needed for an earth "
                             "fault study)")
        key = vector_group_key(group)
        path = VECTOR_GROUPS[key]
        if path == "open":
            continue
        if not np.isfinite(z0):
            raise ValueError(f"transformer {name!r} ({group}): zero-sequence impedance missing")
        t2 = br.tap_ratio[k] ** 2
        zk = z0 * scale[k]
        z3n = 3.0 * complex(zero.rn_pu[k], zero.xn_pu[k])
        zm = complex(zero.r0m_pu[k], zero.x0m_pu[k])
        if path in ("lv_shunt", "hv_shunt"):
            z_path = zk + z3n + (zm if key in _MAGNETISING_IN_PATH else 0.0)
            if path == "lv_shunt":
                ytt[k] = _inv(np.array([z_path]))[0]
            else:
                yff[k] = _inv(np.array([z_path]))[0] / t2
            continue
        # YNyn: T model (HV leg si*zk, LV leg (1-si)*zk + 3Zn, magnetising zm to ground).
        if np.isfinite(zm) and not np.isfinite(zero.si0_hv[k]):
            raise ValueError(f"transformer {name!r} ({group}): si0_hv (HV share of the zero-sequence "
                             "leakage) missing")
        z1 = zero.si0_hv[k] * zk
        z2 = (1.0 - zero.si0_hv[k]) * zk + z3n
        if np.isfinite(zm):
            s = z1 * z2 + z2 * zm + z1 * zm
            y_series, y_hv, y_lv = zm / s, z2 / s, z1 / s
        else:
            y_series, y_hv, y_lv = 1.0 / (z1 + z2), 0.0, 0.0
        yff[k] = (y_series + y_hv) / t2
        yft[k] = ytf[k] = -y_series / br.tap_ratio[k]
        ytt[k] = y_series + y_lv
    return yff, yft, ytf, ytt


def build_sequence_networks(network: Network, closed: BoolArray, energised: BoolArray,
                            z1_branch: ComplexArray, y1_source: ComplexArray,
                            y0_source: ComplexArray | None, zero: ZeroSequence | None,
                            z0_scale: FloatArray | None = None,
                            r0_scale: FloatArray | None = None) -> SequenceNetworks:
    """Sequence networks from corrected positive-sequence branch impedances and sources.

    ``z1_branch`` per branch (pu, series only); ``y1_source`` per bus (the
    source admittances, equal in the negative sequence); ``y0_source`` and
    ``zero`` may be None for a study of balanced faults only; ``z0_scale`` and
    ``r0_scale`` as in :func:`zero_sequence_terms`.
    """
    br = network.branches
    n = network.n_bus
    f, t = br.from_bus, br.to_bus
    ys = closed * _inv(z1_branch)
    out = []
    for sign in (1.0, -1.0):
        tap = br.tap_ratio * np.exp(1j * sign * np.deg2rad(br.shift_deg))
        out.append(_matrices(n, f, t, ys / (tap * np.conj(tap)), -ys / np.conj(tap), -ys / tap,
                             ys, y1_source))
    if zero is not None and y0_source is not None:
        terms = zero_sequence_terms(network, closed, zero, z0_scale, r0_scale)
        out.insert(0, _matrices(n, f, t, *terms, y0_source))
        shunt_total = np.abs(np.asarray(out[0][0].sum(axis=1)).ravel())
        adjacency = (abs(out[0][0]) > 0).astype(np.int8)
        ncomp, label = connected_components(adjacency, directed=False)
        has_ground = np.zeros(ncomp, dtype=bool)
        has_ground[label[shunt_total > 1e-12 * max(1.0, float(shunt_total.max(initial=0.0)))]] = True
        grounded = has_ground[label] & energised
    else:
        out.insert(0, (sp.csc_matrix((n, n), dtype=np.complex128),
                       sp.csr_matrix((len(br), n), dtype=np.complex128),
                       sp.csr_matrix((len(br), n), dtype=np.complex128)))
        grounded = np.zeros(n, dtype=bool)
    return SequenceNetworks(y=(out[0][0], out[1][0], out[2][0]), yf=(out[0][1], out[1][1], out[2][1]),
                            yt=(out[0][2], out[1][2], out[2][2]), energised=energised, grounded=grounded)


def thevenin_column(y: sp.csc_matrix, live: BoolArray, k: int) -> ComplexArray:
    """Column ``k`` of the bus impedance matrix of the ``live`` buses (zeros elsewhere)."""
    n = y.shape[0]
    col = np.zeros(n, dtype=np.complex128)
    if not live[k]:
        return col
    idx = np.flatnonzero(live)
    unit = np.zeros(len(idx), dtype=np.complex128)
    unit[int(np.searchsorted(idx, k))] = 1.0
    col[idx] = splu(y[idx][:, idx].tocsc()).solve(unit)
    return col


@dataclass(frozen=True, eq=False)
class SequenceFault:
    """A shunt fault solved in sequence components (pu; index 0, 1, 2 = zero, positive, negative).

    ``z_thevenin`` the three Thevenin impedances at the fault bus (with Z_f;
    inf for an ungrounded zero sequence); ``i_seq`` the sequence currents from
    the network into the fault and ``i_phase`` the phase currents a, b, c;
    ``v_seq`` bus sequence voltages after the fault (n_bus x 3);
    ``if_seq``/``it_seq`` branch currents entering at the from/to end per
    sequence (n_branch x 3) and ``if_phase``/``it_phase`` per phase a, b, c.
    """

    kind: str
    bus: int
    e_pu: complex
    z_thevenin: ComplexArray
    i_seq: ComplexArray
    i_phase: ComplexArray
    v_seq: ComplexArray
    if_seq: ComplexArray
    it_seq: ComplexArray
    if_phase: ComplexArray
    it_phase: ComplexArray


def sequence_currents(kind: str, e: complex, z0: complex, z1: complex, z2: complex) -> ComplexArray:
    """Fault sequence currents [I0, I1, I2] for ``kind`` behind Thevenin impedances (see module doc)."""
    if kind == "3ph":
        return np.array([0.0, e / z1, 0.0], dtype=np.complex128)
    if kind == "LL":
        i1 = e / (z1 + z2)
        return np.array([0.0, i1, -i1], dtype=np.complex128)
    if kind == "SLG":
        if not np.isfinite(z0):
            return np.zeros(3, dtype=np.complex128)
        i0 = e / (z1 + z2 + z0)
        return np.array([i0, i0, i0], dtype=np.complex128)
    if kind == "LLG":
        if not np.isfinite(z0):
            return sequence_currents("LL", e, z0, z1, z2)
        i1 = e / (z1 + z2 * z0 / (z2 + z0))
        return np.array([-i1 * z2 / (z2 + z0), i1, -i1 * z0 / (z2 + z0)], dtype=np.complex128)
    raise ValueError(f"fault kind {kind!r}: expected one of {', '.join(FAULT_KINDS)}")


def no_load_voltages(network: Network, closed: BoolArray, k: int, e_pu: complex) -> ComplexArray:
    """Positive-sequence voltages with no current flowing, equal to ``e_pu`` at bus ``k``.

    Why: the equivalent voltage source of IEC 60909 is ``c Un / sqrt(3)`` at the
    fault; elsewhere the pre-fault state must carry no current, so each
    transformer's ratio and phase shift are applied along the network
    (MATPOWER model: ``V_to = V_from / (t e^{j shift})``). Unreached buses get 0.
    """
    br = network.branches
    tap = br.tap_ratio * np.exp(1j * np.deg2rad(br.shift_deg))
    neighbours: dict[int, list[tuple[int, complex]]] = {}
    for b in np.flatnonzero(closed):
        f, t = int(br.from_bus[b]), int(br.to_bus[b])
        neighbours.setdefault(f, []).append((t, 1.0 / tap[b]))
        neighbours.setdefault(t, []).append((f, complex(tap[b])))
    v = np.zeros(network.n_bus, dtype=np.complex128)
    v[k] = e_pu
    seen = {k}
    queue = [k]
    while queue:
        bus = queue.pop()
        for other, ratio in neighbours.get(bus, []):
            if other not in seen:
                seen.add(other)
                v[other] = v[bus] * ratio
                queue.append(other)
    return v


def solve_fault(nets: SequenceNetworks, k: int, kind: str, e_pu: complex,
                z_fault_pu: complex = 0.0, v_pre: ComplexArray | None = None) -> SequenceFault:
    """Solve ``kind`` at bus ``k`` with source voltage ``e_pu`` (pre-fault voltage at ``k``).

    ``v_pre`` are the positive-sequence pre-fault bus voltages for the
    post-fault voltages and branch currents, with ``v_pre[k] == e_pu``
    (default ``e_pu`` at every energised bus; see :func:`no_load_voltages`).
    """
    if kind not in FAULT_KINDS:
        raise ValueError(f"fault kind {kind!r}: expected one of {', '.join(FAULT_KINDS)}")
    n = nets.y[1].shape[0]
    cols = [np.zeros(n, dtype=np.complex128) for _ in range(3)]
    cols[1] = thevenin_column(nets.y[1], nets.energised, k)
    cols[2] = thevenin_column(nets.y[2], nets.energised, k)
    if kind in ("SLG", "LLG"):
        cols[0] = thevenin_column(nets.y[0], nets.grounded, k)
    z = np.array([cols[0][k] if nets.grounded[k] else np.inf, cols[1][k], cols[2][k]],
                 dtype=np.complex128) + z_fault_pu
    on = bool(nets.energised[k])
    i_seq = sequence_currents(kind, e_pu, z[0], z[1], z[2]) if on else np.zeros(3, np.complex128)
    pre = np.where(nets.energised, e_pu, 0.0) if v_pre is None else np.asarray(v_pre, np.complex128)
    v_seq = np.stack([-cols[0] * i_seq[0], pre - cols[1] * i_seq[1], -cols[2] * i_seq[2]], axis=1)
    if_seq = np.stack([nets.yf[s] @ v_seq[:, s] for s in range(3)], axis=1)
    it_seq = np.stack([nets.yt[s] @ v_seq[:, s] for s in range(3)], axis=1)
    return SequenceFault(kind=kind, bus=k, e_pu=e_pu, z_thevenin=z, i_seq=i_seq,
                         i_phase=SEQ_TO_PHASE @ i_seq, v_seq=v_seq, if_seq=if_seq, it_seq=it_seq,
                         if_phase=if_seq @ SEQ_TO_PHASE.T, it_phase=it_seq @ SEQ_TO_PHASE.T)
