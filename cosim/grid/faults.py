"""Balanced three-phase fault currents at a bus or part-way along a line.

Method (the classical Zbus method, e.g. Grainger & Stevenson, Power System
Analysis, ch. 10): add each in-service synchronous generator's subtransient
admittance ``1 / (j x''d)`` (converted from the machine base ``mbase_mva`` to
the system base) to the bus admittance matrix of the energised buses, factorise
it once and solve for the Zbus column of the faulted bus ``k``:

    I_f = V_pre[k] / (Z_kk + Z_f)          V_post = V_pre - Z[:, k] I_f

Branch currents after the fault come from ``Yf @ V_post`` and ``Yt @ V_post``,
so a relay at either end of a branch sees its current. Pre-fault voltages are
those of the last power flow, or 1 pu at every energised bus. A mid-line fault
splits the line at ``fraction`` into two pi sections through a temporary bus
whose pre-fault voltage is interpolated between the line ends.

Unbalanced faults (SLG, LL, LLG) during a run are solved on sequence
networks by :mod:`cosim.grid.asymmetric_faults`, into the same
:class:`FaultResult` (with per-phase phasors). Not modelled here (see
docs/grid.md): DC offset and decrement (only the subtransient symmetrical RMS current),
load currents' contribution (loads are left out of the fault admittance),
inverter (DER) fault contribution, IEC 60909 voltage factor c. Asymmetric
faults and the IEC 60909 procedure are the separate study of
:mod:`cosim.grid.iec60909` (docs/faults.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse.linalg import splu

from cosim.grid.actions import ApplyFault
from cosim.grid.admittance import build_admittance
from cosim.grid.network import BoolArray, FloatArray, Network
from cosim.grid.results import ka_per_pu
from cosim.grid.topology import analyse

_BALANCED = np.exp(-2j * np.pi / 3 * np.arange(3))  # phases a, b, c of a positive-sequence set
_EDGE = 1e-6  # a fault exactly at a line end would give a zero-impedance section


@dataclass(frozen=True)
class FaultResult:
    """Fault study outcome in physical units and pu.

    ``i_fault_ka`` / ``i_fault_pu`` are the symmetrical RMS subtransient fault
    current (0 when the faulted point is de-energised). Bus arrays cover the
    network's buses (not the temporary mid-line bus); branch arrays its
    branches, where for a mid-line fault the faulted branch's from/to values
    are those of the sections at the original ends.
    """

    location: str
    energised: bool
    i_fault_pu: float
    i_fault_ka: float
    v_fault_pu: float  # post-fault voltage magnitude at the fault point
    vm_pu: FloatArray
    va_deg: FloatArray
    i_from_pu: FloatArray
    i_to_pu: FloatArray
    i_from_ka: FloatArray
    i_to_ka: FloatArray
    fault_type: str = "three_phase"
    # Phasors per phase a, b, c (pu; bus phase-to-ground voltages n_bus x 3, branch currents
    # n_branch x 3 entering at the from / to end); None only for results built without them.
    v_phase_pu: np.ndarray | None = None
    i_from_phase_pu: np.ndarray | None = None
    i_to_phase_pu: np.ndarray | None = None


def prefault_voltages(v_prefault: np.ndarray | None, energised: BoolArray) -> np.ndarray:
    """Complex pu voltage of every bus before the fault: the given ones where finite and non-zero, else 1 pu,
    and 0 on buses that were not energised (the Thevenin source of each bus in a fault study)."""
    v_pre = np.ones(len(energised), dtype=np.complex128)
    if v_prefault is not None:
        ok = np.isfinite(v_prefault) & (np.abs(v_prefault) > 0)
        v_pre = np.where(ok, v_prefault, v_pre)
    return np.where(energised, v_pre, 0.0)


def _split_line(network: Network, branch: int, fraction: float,
                v_pre: np.ndarray) -> tuple[Network, np.ndarray, int]:
    """Network with ``branch`` cut at ``fraction`` by a new last bus; returns (net, v_pre, bus)."""
    br, bus = network.branches, network.buses
    if br.is_transformer[branch]:
        raise ValueError(f"mid-line fault on transformer {br.name[branch]!r}: fault a bus instead")
    a = min(max(fraction, _EDGE), 1.0 - _EDGE)
    f, t = int(br.from_bus[branch]), int(br.to_bus[branch])
    mid = network.n_bus
    new_bus = replace(
        bus, name=bus.name + (f"{br.name[branch]}@{fraction:g}",),
        base_kv=np.r_[bus.base_kv, bus.base_kv[f]], vm_init_pu=np.r_[bus.vm_init_pu, 1.0],
        va_init_deg=np.r_[bus.va_init_deg, 0.0], is_slack=np.r_[bus.is_slack, False],
        vmax_pu=np.r_[bus.vmax_pu, bus.vmax_pu[f]], vmin_pu=np.r_[bus.vmin_pu, bus.vmin_pu[f]])

    def two(col: np.ndarray, first: float, second: float) -> np.ndarray:
        out = np.r_[col, col[branch] * second]
        out[branch] = col[branch] * first
        return out

    to_bus = np.r_[br.to_bus, t]
    to_bus[branch] = mid
    new_br = replace(
        br, name=br.name + (f"{br.name[branch]}#2",), from_bus=np.r_[br.from_bus, mid],
        to_bus=to_bus, r_pu=two(br.r_pu, a, 1 - a), x_pu=two(br.x_pu, a, 1 - a),
        b_pu=two(br.b_pu, a, 1 - a), rate_a_mva=np.r_[br.rate_a_mva, br.rate_a_mva[branch]],
        tap_ratio=np.r_[br.tap_ratio, 1.0], shift_deg=np.r_[br.shift_deg, 0.0],
        in_service=np.r_[br.in_service, br.in_service[branch]],
        is_transformer=np.r_[br.is_transformer, False])
    sw = network.switches
    at_to_end = (sw.branch == branch) & (sw.bus == t)
    new_sw = replace(sw, branch=np.where(at_to_end, len(br), sw.branch))
    net = replace(network, buses=new_bus, branches=new_br, switches=new_sw)
    v_mid = (1 - a) * v_pre[f] + a * v_pre[t]
    return net, np.r_[v_pre, v_mid], mid


def source_admittance_pu(network: Network, energised: BoolArray) -> np.ndarray:
    """Per-bus subtransient admittance of in-service generators, pu on ``base_mva``."""
    gen = network.generators
    on = gen.in_service & energised[gen.bus]
    x_sys = gen.xdss_pu * network.base_mva / gen.mbase_mva
    y = np.zeros(network.n_bus, dtype=np.complex128)
    np.add.at(y, gen.bus[on], 1.0 / (1j * x_sys[on]))
    return y


def fault_study(network: Network, fault: ApplyFault,
                v_prefault: np.ndarray | None = None) -> FaultResult:
    """Three-phase fault currents and post-fault voltages for ``fault``.

    ``v_prefault`` is complex pu per bus (e.g. ``PowerFlowResult.v_pu``); None
    or non-finite entries mean 1 pu. Raises ``KeyError`` for an unknown bus or
    branch and ``ValueError`` for a mid-line fault on a transformer.
    """
    n0, nl0 = network.n_bus, len(network.branches)
    topo0 = analyse(network)
    v_pre = prefault_voltages(v_prefault, topo0.energised)
    if fault.branch is not None:
        k_branch = network.branches.index(fault.branch)
        net, v_pre, k = _split_line(network, k_branch, fault.fraction, v_pre)
        location = f"{fault.branch}@{fault.fraction:g}"
    else:
        net, k, k_branch = network, network.buses.index(fault.bus or ""), -1
        location = str(fault.bus)
    topo = analyse(net) if net is not network else topo0
    on = topo.energised
    if fault.branch is not None:
        v_pre = np.where(on, v_pre, 0.0)
    kv = net.buses.base_kv[k]
    z_base_ohm = kv * kv / net.base_mva if kv > 0 else np.nan
    z_f = (fault.r_fault_ohm + 1j * fault.x_fault_ohm) / z_base_ohm if (
        fault.r_fault_ohm or fault.x_fault_ohm) else 0.0

    adm = build_admittance(net, topo.branch_closed, extra_shunt_pu=source_admittance_pu(net, on))
    v_post = v_pre.copy()
    i_f = 0.0 + 0.0j
    if on[k]:
        idx = np.flatnonzero(on)
        y = adm.ybus[idx][:, idx].tocsc()
        pos = int(np.searchsorted(idx, k))
        unit = np.zeros(len(idx), dtype=np.complex128)
        unit[pos] = 1.0
        z_col = splu(y).solve(unit)
        i_f = v_pre[k] / (z_col[pos] + z_f)
        v_post[idx] = v_pre[idx] - z_col * i_f
    i_from_c = adm.yf @ v_post
    i_to_c = adm.yt @ v_post
    if k_branch >= 0:  # fold the two sections back onto the original branch
        i_to_c[k_branch] = i_to_c[nl0]
        i_from_c, i_to_c = i_from_c[:nl0], i_to_c[:nl0]
    i_from, i_to = np.abs(i_from_c), np.abs(i_to_c)
    from_bus, to_bus = network.branches.from_bus, network.branches.to_bus
    v_orig = v_post[:n0]
    return FaultResult(
        location=location, energised=bool(on[k]), i_fault_pu=float(abs(i_f)),
        i_fault_ka=float(abs(i_f) * ka_per_pu(net, np.array([k]))[0]),
        v_fault_pu=float(abs(v_post[k])), vm_pu=np.abs(v_orig),
        va_deg=np.rad2deg(np.angle(v_orig)), i_from_pu=i_from, i_to_pu=i_to,
        i_from_ka=i_from * ka_per_pu(network, from_bus), i_to_ka=i_to * ka_per_pu(network, to_bus),
        v_phase_pu=np.outer(v_orig, _BALANCED), i_from_phase_pu=np.outer(i_from_c, _BALANCED),
        i_to_phase_pu=np.outer(i_to_c, _BALANCED))
