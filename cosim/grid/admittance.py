"""Bus admittance matrices from branch and shunt data (MATPOWER ``makeYbus`` model).

First stage of the solver pipeline. Pure: the same Network and branch states
always give the same matrices. The sparsity pattern does not depend on which
branches are closed (open branches keep explicit zeros, every diagonal entry is
stored), so a solver may reuse index arrays built from one pattern across
topology changes of the same network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cosim.grid.network import BoolArray, Network

ComplexArray = np.ndarray


@dataclass(frozen=True)
class Admittance:
    """``ybus`` (n_bus x n_bus), ``yf``/``yt`` (n_branch x n_bus) in pu on base_mva.

    ``yf @ v`` is the current entering each branch at its from end, ``yt @ v``
    at its to end (pu of the system base current at that end).
    """

    ybus: sp.csr_matrix
    yf: sp.csr_matrix
    yt: sp.csr_matrix


def branch_terms(network: Network, closed: BoolArray) -> tuple[ComplexArray, ...]:
    """Pi-model two-port terms (yff, yft, ytf, ytt) per branch, zero for open branches."""
    br = network.branches
    ys = closed / (br.r_pu + 1j * br.x_pu)
    bc = closed * br.b_pu
    tap = br.tap_ratio * np.exp(1j * np.deg2rad(br.shift_deg))
    ytt = ys + 0.5j * bc
    yff = ytt / (tap * np.conj(tap))
    yft = -ys / np.conj(tap)
    ytf = -ys / tap
    return yff, yft, ytf, ytt


def shunt_admittance_pu(network: Network) -> ComplexArray:
    """Per-bus admittance to ground of switched shunts at their present step, pu.

    A shunt consuming ``g_mw`` and injecting ``b_mvar`` at 1 pu has
    ``y = (g_mw + j*b_mvar) / base_mva`` (MATPOWER GS/BS): the power it draws
    is ``|V|**2 * conj(y)``, so positive ``b_mvar`` means reactive injection.
    """
    sh = network.shunts
    on = sh.in_service * sh.step
    y = np.zeros(network.n_bus, dtype=np.complex128)
    np.add.at(y, sh.bus, on * (sh.g_mw + 1j * sh.b_mvar) / network.base_mva)
    return y


def build_admittance(network: Network, closed: BoolArray,
                     extra_shunt_pu: ComplexArray | None = None) -> Admittance:
    """Ybus, Yf, Yt for the given branch states (``closed`` per branch).

    ``extra_shunt_pu`` adds admittance to ground per bus (fault studies use it
    for source impedances).
    """
    n = network.n_bus
    br = network.branches
    nl = len(br)
    f, t = br.from_bus, br.to_bus
    yff, yft, ytf, ytt = branch_terms(network, closed)
    ysh = shunt_admittance_pu(network)
    if extra_shunt_pu is not None:
        ysh = ysh + extra_shunt_pu
    line = np.arange(nl)
    yf = sp.csr_matrix((np.r_[yff, yft], (np.r_[line, line], np.r_[f, t])), shape=(nl, n))
    yt = sp.csr_matrix((np.r_[ytf, ytt], (np.r_[line, line], np.r_[f, t])), shape=(nl, n))
    diag = np.arange(n)
    rows = np.r_[f, f, t, t, diag]
    cols = np.r_[f, t, f, t, diag]
    vals = np.r_[yff, yft, ytf, ytt, ysh]
    ybus = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    ybus.sort_indices()
    return Admittance(ybus=ybus, yf=yf, yt=yt)
