"""IEC 60909 and zero-sequence data of a pandapower network, aligned with its imported Network.

:func:`cosim.grid.pandapower_import.mpc_from_pandapower` turns the load-flow
part of a pandapowerNet into MATPOWER matrices (buses in table order, lines
then transformers as branches). This module reads the short-circuit columns
of the same tables into a :class:`~cosim.grid.iec60909.ShortCircuitData` in
that order, from pandapower's documented element models:

* ``line``: ``r0_ohm_per_km``, ``x0_ohm_per_km``, ``c0_nf_per_km``,
  ``endtemp_degree``;
* ``trafo``: ``vector_group``, ``vk0_percent``, ``vkr0_percent``,
  ``mag0_percent``, ``mag0_rx``, ``si0_hv_partial``, ``xn_ohm``, ``rn_ohm``
  and ``vk_percent``/``vkr_percent`` for x_T;
* ``ext_grid``: ``s_sc_max_mva``, ``s_sc_min_mva``, ``rx_max``, ``rx_min``,
  ``x0x_max``, ``r0x0_max``, ``x0x_min``, ``r0x0_min``.

A missing or NaN column becomes NaN here; the study that needs it refuses and
names it (a zero ``vk0_percent`` counts as missing: pandapower silently uses
``vk_percent`` then, we do not). Never imports pandapower.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cosim.grid.iec60909 import NetworkFeeder, ShortCircuitData
from cosim.grid.pandapower_import import _rows, _value
from cosim.grid.sequence import ZeroSequence


def short_circuit_data_from_pandapower(net: Any) -> ShortCircuitData:
    """ShortCircuitData for the Network that ``mpc_from_pandapower(net)`` describes."""
    nan = math.nan
    base_mva = float(getattr(net, "sn_mva", 1.0) or 1.0)
    f_hz = float(getattr(net, "f_hz", 50.0) or 50.0)
    buses = _rows(net, "bus")
    position = {index: k for k, (index, _) in enumerate(buses)}
    vn = {index: _value(row, "vn_kv") for index, row in buses}
    r0: list[float] = []
    x0: list[float] = []
    b0: list[float] = []
    group: list[str] = []
    r0m: list[float] = []
    x0m: list[float] = []
    si0: list[float] = []
    rn: list[float] = []
    xn: list[float] = []
    xt: list[float] = []
    endtemp: list[float] = []
    for _, row in _rows(net, "line"):
        parallel = max(_value(row, "parallel", 1.0), 1.0)
        length = _value(row, "length_km")
        z_base = vn[int(row["from_bus"])] ** 2 / base_mva
        r0.append(_value(row, "r0_ohm_per_km", nan) * length / parallel / z_base)
        x0.append(_value(row, "x0_ohm_per_km", nan) * length / parallel / z_base)
        b0.append(2 * math.pi * f_hz * _value(row, "c0_nf_per_km", nan) * 1e-9 * length * parallel * z_base)
        group.append("")
        r0m.append(math.inf)
        x0m.append(math.inf)
        si0.append(nan)
        rn.append(0.0)
        xn.append(0.0)
        xt.append(nan)
        endtemp.append(_value(row, "endtemp_degree", nan))
    for _, row in _rows(net, "trafo"):
        hv, lv = int(row["hv_bus"]), int(row["lv_bus"])
        sn = _value(row, "sn_mva")
        parallel = max(_value(row, "parallel", 1.0), 1.0)
        to_system = (_value(row, "vn_lv_kv") / vn[lv]) ** 2 * base_mva / sn / parallel
        vk0 = _value(row, "vk0_percent", nan) or nan
        vkr0 = _value(row, "vkr0_percent", nan)
        z0 = vk0 / 100.0 * to_system
        r0_t = vkr0 / 100.0 * to_system
        r0.append(r0_t)
        x0.append(math.sqrt(max(z0 * z0 - r0_t * r0_t, 0.0)) if math.isfinite(z0) else nan)
        b0.append(0.0)
        vg = row.get("vector_group")
        group.append(vg if isinstance(vg, str) else "")
        mag = _value(row, "mag0_percent", nan) / 100.0
        zm = z0 * mag
        rx_m = _value(row, "mag0_rx", 0.0)
        xm = zm / math.sqrt(1.0 + rx_m * rx_m) if math.isfinite(zm) else math.inf
        x0m.append(xm)
        r0m.append(xm * rx_m if math.isfinite(xm) else math.inf)
        si0.append(_value(row, "si0_hv_partial", nan))
        earthed_hv = isinstance(vg, str) and vg.lower().startswith("yn")
        z_base_n = (vn[hv] if earthed_hv else vn[lv]) ** 2 / base_mva
        rn.append(_value(row, "rn_ohm", 0.0) / z_base_n)
        xn.append(_value(row, "xn_ohm", 0.0) / z_base_n)
        vk, vkr = _value(row, "vk_percent"), _value(row, "vkr_percent")
        xt.append(math.sqrt(max(vk * vk - vkr * vkr, 0.0)) / 100.0)
        endtemp.append(nan)
    feeders = tuple(
        NetworkFeeder(bus=position[int(row["bus"])],
                      s_sc_max_mva=_value(row, "s_sc_max_mva", nan), s_sc_min_mva=_value(row, "s_sc_min_mva", nan),
                      rx_max=_value(row, "rx_max", nan), rx_min=_value(row, "rx_min", nan),
                      x0x_max=_value(row, "x0x_max", nan), r0x0_max=_value(row, "r0x0_max", nan),
                      x0x_min=_value(row, "x0x_min", nan), r0x0_min=_value(row, "r0x0_min", nan))
        for _, row in _rows(net, "ext_grid") if row.get("in_service", True))

    def arr(values: list[float]) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)

    zero = ZeroSequence(r0_pu=arr(r0), x0_pu=arr(x0), b0_pu=arr(b0), vector_group=tuple(group),
                        r0m_pu=arr(r0m), x0m_pu=arr(x0m), si0_hv=arr(si0), rn_pu=arr(rn), xn_pu=arr(xn))
    return ShortCircuitData(feeders=feeders, xt_rel=arr(xt), endtemp_c=arr(endtemp), zero=zero)
