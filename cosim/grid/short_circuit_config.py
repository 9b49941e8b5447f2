"""IEC 60909 and zero-sequence data of the scenario's inline ``grid:`` elements.

Why a separate step from :func:`cosim.grid.config.build_network`: the load
flow needs none of it, and a study refuses only what it needs (see
docs/faults.md). Lines and transformers are matched to the built network by
name; branches of a ``case`` file carry no zero-sequence data here (NaN), so
an earth-fault study on them refuses naming the branch. A pandapower network
brings its own: :mod:`cosim.grid.pandapower_sequence`.
"""

from __future__ import annotations

import math

import numpy as np

from cosim.grid.config import GridConfig
from cosim.grid.iec60909 import NetworkFeeder, ShortCircuitData
from cosim.grid.network import Network
from cosim.grid.sequence import ZeroSequence


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def short_circuit_data(config: GridConfig, network: Network) -> ShortCircuitData:
    """ShortCircuitData for ``network`` built from ``config`` (feeders, line and transformer fields)."""
    n = len(network.branches)
    base_mva = network.base_mva
    kv = network.buses.base_kv
    r0, x0, b0 = np.full(n, math.nan), np.full(n, math.nan), np.full(n, math.nan)
    xt, endtemp = np.full(n, math.nan), np.full(n, math.nan)
    rn, xn = np.zeros(n), np.zeros(n)
    group = [""] * n
    for ln in config.lines:
        k = network.branches.index(ln.name)
        endtemp[k] = _or_nan(ln.endtemp_c)
        if ln.x_pu is not None:
            r0[k], x0[k], b0[k] = _or_nan(ln.r0_pu), _or_nan(ln.x0_pu), ln.b0_pu or 0.0
        else:
            z_base = kv[network.branches.from_bus[k]] ** 2 / base_mva
            r0[k], x0[k] = _or_nan(ln.r0_ohm) / z_base, _or_nan(ln.x0_ohm) / z_base
            b0[k] = (ln.b0_us or 0.0) * 1e-6 * z_base
    for tr in config.transformers:
        k = network.branches.index(tr.name)
        group[k] = tr.vector_group or ""
        if tr.vk_percent is not None and tr.sn_mva is not None:
            xt[k] = math.sqrt(tr.vk_percent ** 2 - tr.vkr_percent ** 2) / 100.0
        else:  # given in pu on the system base
            xt[k] = network.branches.x_pu[k] * (tr.sn_mva or base_mva) / base_mva
        if tr.vk0_percent is not None and tr.sn_mva is not None:
            z0 = tr.vk0_percent / 100.0 * base_mva / tr.sn_mva
            r0[k] = (tr.vkr0_percent if tr.vkr0_percent is not None else tr.vkr_percent) / 100.0 * base_mva / tr.sn_mva
            x0[k] = math.sqrt(max(z0 * z0 - r0[k] ** 2, 0.0))
        earthed = kv[network.branches.from_bus[k]] if (tr.vector_group or "").lower().startswith("yn") \
            else kv[network.branches.to_bus[k]]
        rn[k], xn[k] = tr.rn_ohm / (earthed ** 2 / base_mva), tr.xn_ohm / (earthed ** 2 / base_mva)
    feeders = tuple(
        NetworkFeeder(bus=network.buses.index(fd.bus), s_sc_max_mva=fd.s_sc_max_mva,
                      s_sc_min_mva=fd.s_sc_min_mva or fd.s_sc_max_mva, rx_max=fd.rx_max,
                      rx_min=fd.rx_max if fd.rx_min is None else fd.rx_min,
                      x0x_max=_or_nan(fd.x0x_max), r0x0_max=_or_nan(fd.r0x0_max),
                      x0x_min=_or_nan(fd.x0x_min if fd.x0x_min is not None else fd.x0x_max),
                      r0x0_min=_or_nan(fd.r0x0_min if fd.r0x0_min is not None else fd.r0x0_max))
        for fd in config.feeders)
    zero = ZeroSequence(r0_pu=r0, x0_pu=x0, b0_pu=b0, vector_group=tuple(group),
                        r0m_pu=np.full(n, math.inf), x0m_pu=np.full(n, math.inf),
                        si0_hv=np.full(n, 0.5), rn_pu=rn, xn_pu=xn)
    return ShortCircuitData(feeders=feeders, xt_rel=xt, endtemp_c=endtemp, zero=zero)
