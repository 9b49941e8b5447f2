"""Unbalanced faults (SLG, LL, LLG) during a run: per-phase branch currents and bus voltages from sequence networks.

Why sequence networks and not the three-phase solver: a balanced network
(the positive-sequence model the Newton solver runs) seen from one shunt
fault decouples into three sequence networks joined only at the fault
(:mod:`cosim.grid.sequence`). This module is the run-time twin of the
balanced :func:`cosim.grid.faults.fault_study`: same sources, same pre-fault
state, same mid-line split, so a relay sees consistent currents whatever the
fault type.

* Pre-fault state: the last power flow's voltages (1 pu where it has none);
  the Thevenin source at the fault is the pre-fault voltage there.
* Positive and negative sequence: branch series impedances (transformer
  ratio and phase shift, the shift reversed in the negative sequence) and
  each in-service generator's subtransient reactance ``x''d`` (as the
  three-phase study), loads and line charging left out (IEC 60909-0 6.1).
* Zero sequence: the branches' zero-sequence data (line R0/X0/B0,
  transformer vector group, earthing) from :class:`ZeroSequence`; a source
  is earthed only where a network feeder (:class:`NetworkFeeder`) at its
  bus gives ``X0/X`` and ``R0/X0``, applied to the generator's ``x''d``. A
  generator without one is taken as behind its delta-star step-up
  transformer: no zero-sequence path of its own.
* Phase selection: the sequence formulas take phase a as the faulted phase
  of an SLG and the healthy one of an LL/LLG. A fault on other phases is the
  same solution relabelled cyclically (a balanced network is symmetric under
  a -> b -> c), each phasor turned by the pre-fault angle of the phase that
  takes the reference's place.

The fault impedance ``Z_F`` is in series with each faulted phase. Results
are pu on ``network.base_mva`` at each bus's base; the measurement layer
turns them into amperes and volts.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from cosim.grid.actions import ApplyFault, FaultType
from cosim.grid.faults import FaultResult, _split_line, prefault_voltages, source_admittance_pu
from cosim.grid.iec60909 import NetworkFeeder
from cosim.grid.network import Network
from cosim.grid.results import ka_per_pu
from cosim.grid.sequence import SEQ_TO_PHASE, ZeroSequence, build_sequence_networks, solve_fault, zero_sequence_terms
from cosim.grid.topology import analyse

A = np.exp(2j * np.pi / 3)


def needs_zero_sequence(fault: ApplyFault) -> bool:
    """True for the fault types whose current returns through earth (SLG, LLG)."""
    return fault.fault_type in (FaultType.SLG, FaultType.LLG)


def check_zero_sequence(network: Network, zero: ZeroSequence | None) -> None:
    """Raise ValueError, naming the branch, when ``zero`` lacks data an earth-fault study needs."""
    if zero is None:
        raise ValueError("an earth fault (SLG, LLG) needs zero-sequence data: the grid has none "
                         "(give lines r0/x0 and transformers a vector group, docs/faults.md)")
    # Every branch, open or not: a switch closed later must not find the study without data.
    zero_sequence_terms(network, np.ones(len(network.branches), dtype=bool), zero)


def _split_zero(zero: ZeroSequence, branch: int, fraction: float) -> ZeroSequence:
    """``zero`` for the network :func:`_split_line` makes: the line's data shared out between its two sections."""
    def two(col: np.ndarray, first: float, second: float) -> np.ndarray:
        out = np.r_[col, col[branch] * second]
        out[branch] = col[branch] * first
        return out

    a = fraction
    return replace(zero, r0_pu=two(zero.r0_pu, a, 1 - a), x0_pu=two(zero.x0_pu, a, 1 - a),
                   b0_pu=two(zero.b0_pu, a, 1 - a), vector_group=zero.vector_group + ("",),
                   r0m_pu=np.r_[zero.r0m_pu, np.inf], x0m_pu=np.r_[zero.x0m_pu, np.inf],
                   si0_hv=np.r_[zero.si0_hv, np.nan], rn_pu=np.r_[zero.rn_pu, 0.0], xn_pu=np.r_[zero.xn_pu, 0.0])


def zero_source_admittance_pu(network: Network, y1_source: np.ndarray,
                              feeders: tuple[NetworkFeeder, ...]) -> np.ndarray:
    """Per-bus zero-sequence source admittance: ``X0 = (X0/X) X1``, ``R0 = (R0/X0) X0`` of each feeder's bus."""
    y0 = np.zeros(network.n_bus, dtype=np.complex128)
    for fd in feeders:
        y1 = y1_source[fd.bus]
        if y1 == 0 or not (np.isfinite(fd.x0x_max) and np.isfinite(fd.r0x0_max)):
            continue
        x1 = (1.0 / y1).imag
        x0 = fd.x0x_max * x1
        y0[fd.bus] = 1.0 / complex(fd.r0x0_max * x0, x0)
    return y0


def asymmetric_fault_study(network: Network, fault: ApplyFault, v_prefault: np.ndarray | None,
                           zero: ZeroSequence | None, feeders: tuple[NetworkFeeder, ...] = ()) -> FaultResult:
    """Per-phase currents and voltages of an SLG, LL or LLG ``fault`` (see the module doc).

    ``v_prefault`` complex pu per bus (None or non-finite: 1 pu). Raises
    KeyError for an unknown bus or branch, ValueError for a mid-line fault on
    a transformer or for zero-sequence data an earth fault needs and lacks.
    """
    if fault.fault_type is FaultType.THREE_PHASE:
        raise ValueError("a three-phase fault is the balanced study's (cosim.grid.faults.fault_study)")
    earth = needs_zero_sequence(fault)
    if earth and zero is None:
        check_zero_sequence(network, zero)
    n0, nl0 = network.n_bus, len(network.branches)
    topo0 = analyse(network)
    v_pre = prefault_voltages(v_prefault, topo0.energised)
    zero_net = zero if earth else None
    if fault.branch is not None:
        k_branch = network.branches.index(fault.branch)
        net, v_pre, k = _split_line(network, k_branch, fault.fraction, v_pre)
        if zero_net is not None:
            zero_net = _split_zero(zero_net, k_branch, min(max(fault.fraction, 1e-6), 1.0 - 1e-6))
        location = f"{fault.branch}@{fault.fraction:g}"
    else:
        net, k, k_branch = network, network.buses.index(fault.bus or ""), -1
        location = str(fault.bus)
    topo = analyse(net) if net is not network else topo0
    on = topo.energised
    v_pre = np.where(on, v_pre, 0.0)
    y1_src = source_admittance_pu(net, on)
    y0_src = zero_source_admittance_pu(net, y1_src, feeders) if zero_net is not None else None
    br = net.branches
    nets = build_sequence_networks(net, topo.branch_closed, on, br.r_pu + 1j * br.x_pu, y1_src, y0_src, zero_net)
    kv = net.buses.base_kv[k]
    z_base = kv * kv / net.base_mva if kv > 0 else np.nan
    z_f = complex(fault.r_fault_ohm, fault.x_fault_ohm) / z_base if (fault.r_fault_ohm or fault.x_fault_ohm) else 0j
    # Solve with the reference phase at the fault; relabel to the faulted phases afterwards.
    p = fault.reference_phase
    turn = A ** (-p)  # the pre-fault angle of the phase that plays the reference (b: -120 deg, c: +120 deg)
    solved = solve_fault(nets, k, fault.fault_type.sequence_kind, complex(v_pre[k]), z_f, v_pre)

    def actual(frame_phases: np.ndarray) -> np.ndarray:
        out = np.empty_like(frame_phases)
        for j in range(3):
            out[:, (p + j) % 3] = frame_phases[:, j] * turn
        return out

    v_phase = actual(solved.v_seq @ SEQ_TO_PHASE.T)
    i_from = actual(solved.if_phase)
    i_to = actual(solved.it_phase)
    if k_branch >= 0:  # fold the two sections back onto the original branch
        i_to[k_branch] = i_to[nl0]
        i_from, i_to, v_phase = i_from[:nl0], i_to[:nl0], v_phase[:n0]
    i_fault = float(np.max(np.abs(solved.i_phase))) if on[k] else 0.0
    v1 = (v_phase[:, 0] + A * v_phase[:, 1] + A * A * v_phase[:, 2]) / 3.0
    mag_from, mag_to = np.abs(i_from).max(axis=1), np.abs(i_to).max(axis=1)
    fb, tb = network.branches.from_bus, network.branches.to_bus
    fault_v = solved.v_seq[k] @ SEQ_TO_PHASE.T
    return FaultResult(
        location=location, energised=bool(on[k]), i_fault_pu=i_fault,
        i_fault_ka=float(i_fault * ka_per_pu(net, np.array([k]))[0]),
        v_fault_pu=float(np.min(np.abs(fault_v))), vm_pu=np.abs(v1), va_deg=np.rad2deg(np.angle(v1)),
        i_from_pu=mag_from, i_to_pu=mag_to, i_from_ka=mag_from * ka_per_pu(network, fb),
        i_to_ka=mag_to * ka_per_pu(network, tb), fault_type=fault.fault_type.value,
        v_phase_pu=v_phase, i_from_phase_pu=i_from, i_to_phase_pu=i_to)
