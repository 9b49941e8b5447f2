"""DC power flow: lossless, flat voltage magnitudes, active power only.

The linear approximation (MATPOWER ``makeBdc``/``dcpf``): branch flow
``P = (theta_f - theta_t - shift) / (x * tap)``, bus injections
``P = Bbus theta + P_shift``. Used for fast screening and teaching; loads are
taken at nominal power, shunt conductances at 1 pu, reactive power ignored.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from cosim.grid.network import Network
from cosim.grid.results import IslandReport, PowerFlowResult, ka_per_pu
from cosim.grid.topology import Topology, analyse


def dc_matrices(network: Network, closed: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix,
                                                                np.ndarray, np.ndarray]:
    """``Bbus`` (bus x bus), ``Bf`` (branch x bus), ``p_f_shift``, ``p_bus_shift`` in pu."""
    n = network.n_bus
    br = network.branches
    nl = len(br)
    b = closed / (br.x_pu * br.tap_ratio)
    line = np.arange(nl)
    bf = sp.csr_matrix((np.r_[b, -b], (np.r_[line, line], np.r_[br.from_bus, br.to_bus])),
                       shape=(nl, n))
    cft = sp.csr_matrix((np.r_[np.ones(nl), -np.ones(nl)],
                         (np.r_[line, line], np.r_[br.from_bus, br.to_bus])), shape=(nl, n))
    bbus = (cft.T @ bf).tocsr()
    p_f_shift = -b * np.deg2rad(br.shift_deg)
    p_bus_shift = cft.T @ p_f_shift
    return bbus, bf, p_f_shift, p_bus_shift


def solve_dc(network: Network, topology: Topology | None = None) -> PowerFlowResult:
    """DC power flow of every energised island; angles relative to each island's slack.

    Voltage magnitudes are reported as 1 pu (0 when de-energised), reactive
    quantities as 0, losses as 0. Raises nothing for a well-formed network.
    """
    topo = topology if topology is not None else analyse(network)
    base = network.base_mva
    n = network.n_bus
    on = topo.energised
    bbus, bf, p_f_shift, p_bus_shift = dc_matrices(network, topo.branch_closed)

    gen, der, ld, sh = network.generators, network.ders, network.loads, network.shunts
    g_on = gen.in_service & on[gen.bus]
    p_known = np.zeros(n)  # everything but generators, MW
    np.add.at(p_known, der.bus, np.where(on[der.bus], der.p_injected_mw(), 0.0))
    served = ld.in_service & on[ld.bus]
    np.add.at(p_known, ld.bus, -np.where(served, ld.p_mw, 0.0))
    sh_p = np.where(sh.in_service & on[sh.bus], sh.g_mw * sh.step, 0.0)
    np.add.at(p_known, sh.bus, -sh_p)
    p_spec = p_known.copy()
    np.add.at(p_spec, gen.bus[g_on], gen.p_mw[g_on])

    ref = topo.slack_bus[topo.slack_bus >= 0]
    theta = np.zeros(n)
    theta[ref] = np.deg2rad(network.buses.va_init_deg[ref])
    solve = np.flatnonzero(on)
    solve = solve[~np.isin(solve, ref)]
    if len(solve):
        rhs = p_spec[solve] / base - p_bus_shift[solve] - bbus[solve][:, ref] @ theta[ref]
        theta[solve] = np.atleast_1d(spsolve(bbus[solve][:, solve].tocsc(), rhs))

    p_bus = (bbus @ theta + p_bus_shift) * base
    p_from = (bf @ theta + p_f_shift) * base
    gen_p = np.where(g_on, gen.p_mw, 0.0)
    for g in topo.slack_gen[topo.slack_gen >= 0]:
        b = gen.bus[g]
        gen_p[g] = p_bus[b] - p_known[b] - (gen_p[gen.bus == b].sum() - gen_p[g])

    br = network.branches
    vm = on.astype(float)
    v = vm * np.exp(1j * theta)
    i_pu = np.abs(p_from) / base
    zeros_bus, zeros_br = np.zeros(n), np.zeros(len(br))
    reports = tuple(IslandReport(island=int(k), n_bus=int((topo.island == k).sum()),
                                 slack_bus=network.buses.name[topo.slack_bus[k]], converged=True,
                                 iterations=1, max_mismatch_pu=0.0, worst_bus="")
                    for k in topo.energised_islands())
    return PowerFlowResult(
        converged=True, iterations=1, islands=reports, island=topo.island, energised=on,
        v_pu=v, vm_pu=vm, va_deg=np.rad2deg(theta) * on, bus_p_mw=p_bus, bus_q_mvar=zeros_bus,
        p_from_mw=p_from, q_from_mvar=zeros_br, p_to_mw=-p_from, q_to_mvar=zeros_br,
        i_from_pu=i_pu, i_to_pu=i_pu, i_from_ka=i_pu * ka_per_pu(network, br.from_bus),
        i_to_ka=i_pu * ka_per_pu(network, br.to_bus), gen_p_mw=gen_p,
        gen_q_mvar=np.zeros(len(gen)), load_p_mw=np.where(served, ld.p_mw, 0.0),
        load_q_mvar=np.zeros(len(ld)), load_served=served, shunt_p_mw=sh_p,
        shunt_q_mvar=np.zeros(len(sh)),
        der_p_mw=np.where(on[der.bus], der.p_injected_mw(), 0.0), der_q_mvar=np.zeros(len(der)),
        losses_mw=0.0, losses_mvar=0.0)
