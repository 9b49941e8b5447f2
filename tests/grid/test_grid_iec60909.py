"""IEC 60909 short-circuit currents and asymmetric faults against pandapower.shortcircuit at test time.

Each network is built once in pandapower with stated zero-sequence data, then
imported (:func:`mpc_from_pandapower` + :func:`short_circuit_data_from_pandapower`)
so both tools solve the same case. pandapower (a third-party implementation of
IEC 60909-0:2016) gives Ik'' for 3ph, LL ("2ph") and SLG ("1ph"), max and
min, with ip and ith for 3ph and LL. It has no LLG fault: there the reference
is the standard's closed-form LLG formulas evaluated on pandapower's own
Thevenin impedances Z(1) and Z(0) at the bus.

Stated zero-sequence data (assumptions, not published CIGRE values):
lines R0 = 3 R1, X0 = 3 X1, C0 = 0.6 C1, end temperature 80 degC;
transformers vk0 = vk, vkr0 = vkr, zero-sequence magnetising impedance
100 % of vk0 with R/X 0, 90 % of the leakage on the HV leg;
external grid S''kQ min = 0.8 max, X0/X = 1, R0/X0 = 0.1.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandapower.shortcircuit as sc
import pytest

from cosim.grid.iec60909 import Case, ShortCircuitResult, short_circuit, thermal_m, voltage_factor
from cosim.grid.matpower import case_to_network
from cosim.grid.network import Network
from cosim.grid.pandapower_import import mpc_from_pandapower
from cosim.grid.pandapower_sequence import short_circuit_data_from_pandapower

logging.getLogger("pandapower").setLevel(logging.ERROR)
A = np.exp(2j * np.pi / 3)
KINDS = (("3ph", "3ph"), ("2ph", "LL"), ("1ph", "SLG"))


def _zero_sequence_data(net: Any, vector_groups: list[str]) -> Any:
    eg = net.ext_grid
    if "s_sc_max_mva" not in eg or eg.s_sc_max_mva.isna().any():
        eg["s_sc_max_mva"], eg["rx_max"] = 1000.0, 0.1
    eg["s_sc_min_mva"] = 0.8 * eg.s_sc_max_mva
    eg["rx_min"] = eg.rx_max
    eg["x0x_max"] = eg["x0x_min"] = 1.0
    eg["r0x0_max"] = eg["r0x0_min"] = 0.1
    net.line["r0_ohm_per_km"] = 3.0 * net.line.r_ohm_per_km
    net.line["x0_ohm_per_km"] = 3.0 * net.line.x_ohm_per_km
    net.line["c0_nf_per_km"] = 0.6 * net.line.c_nf_per_km
    net.line["endtemp_degree"] = 80.0
    net.trafo["vector_group"] = vector_groups
    net.trafo["vk0_percent"] = net.trafo.vk_percent
    net.trafo["vkr0_percent"] = net.trafo.vkr_percent
    net.trafo["mag0_percent"] = 100.0
    net.trafo["mag0_rx"] = 0.0
    net.trafo["si0_hv_partial"] = 0.9
    return net


def cigre_mv() -> Any:
    """CIGRE MV (no DER); both 110/20 kV transformers Dyn (earthed MV star point)."""
    net = pn.create_cigre_network_mv(with_der=False)
    net.ext_grid["s_sc_max_mva"], net.ext_grid["rx_max"] = 5000.0, 0.1  # the CIGRE benchmark's values
    return _zero_sequence_data(net, ["Dyn"] * len(net.trafo))


def radial_dyn() -> Any:
    """110 kV grid, Dyn 110/20 kV, a 20 kV overhead feeder, Dyn 20/0.4 kV and an LV cable."""
    net = pp.create_empty_network(f_hz=50.0, sn_mva=1.0)
    hv = pp.create_bus(net, 110.0)
    mv = pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, hv, s_sc_max_mva=2000.0, rx_max=0.1)
    pp.create_transformer_from_parameters(net, hv, mv, 25.0, 110.0, 20.0, 0.4, 12.0, 0.0, 0.0, shift_degree=150.0)
    previous = mv
    for k in range(4):
        bus = pp.create_bus(net, 20.0)
        pp.create_line_from_parameters(net, previous, bus, 2.0 + k, 0.21, 0.39, 9.5, 0.3)
        previous = bus
    lv = pp.create_bus(net, 0.4)
    pp.create_transformer_from_parameters(net, previous, lv, 0.63, 20.0, 0.4, 1.1, 4.0, 0.0, 0.0, shift_degree=150.0)
    end = pp.create_bus(net, 0.4)
    pp.create_line_from_parameters(net, lv, end, 0.15, 0.206, 0.08, 250.0, 0.27)
    return _zero_sequence_data(net, ["Dyn", "Dyn"])


def vector_groups() -> Any:
    """YNyn 110/20 kV (T model), YNd 20/10 kV and Yyn 20/0.4 kV under it, Yd 10/0.69 kV blocking."""
    net = pp.create_empty_network(f_hz=50.0, sn_mva=1.0)
    b = [pp.create_bus(net, kv) for kv in (110.0, 20.0, 20.0, 10.0, 10.0, 0.69, 0.4)]
    pp.create_ext_grid(net, b[0], s_sc_max_mva=3000.0, rx_max=0.15)
    pp.create_transformer_from_parameters(net, b[0], b[1], 40.0, 110.0, 20.0, 0.3, 11.0, 0.0, 0.0)
    pp.create_line_from_parameters(net, b[1], b[2], 3.0, 0.16, 0.35, 260.0, 0.4)
    pp.create_transformer_from_parameters(net, b[2], b[3], 10.0, 20.0, 10.0, 0.5, 8.0, 0.0, 0.0, shift_degree=150.0)
    pp.create_line_from_parameters(net, b[3], b[4], 2.0, 0.2, 0.1, 300.0, 0.3)
    pp.create_transformer_from_parameters(net, b[4], b[5], 2.0, 10.0, 0.69, 0.9, 6.0, 0.0, 0.0, shift_degree=150.0)
    pp.create_transformer_from_parameters(net, b[2], b[6], 0.4, 20.0, 0.4, 1.2, 4.0, 0.0, 0.0)
    return _zero_sequence_data(net, ["YNyn", "YNd", "Yd", "Yyn"])


NETWORKS = {"cigre_mv": cigre_mv, "radial_dyn": radial_dyn, "vector_groups": vector_groups}


def ours(net: Any) -> tuple[Network, Any]:
    return case_to_network(mpc_from_pandapower(net), frequency_hz=float(net.f_hz)), short_circuit_data_from_pandapower(net)


def pandapower_sc(net: Any, fault: str, case: str, *, topology: str = "meshed", kappa_method: str = "C") -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc.calc_sc(net, fault=fault, case=case, ip=fault != "1ph", ith=fault != "1ph", topology=topology,
                   kappa_method=kappa_method, tk_s=1.0)
    return net.res_bus_sc.copy()


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("case", ["max", "min"])
def test_ikss_ip_ith_match_pandapower(name: str, case: Case) -> None:
    net = NETWORKS[name]()
    network, data = ours(net)
    peak: dict[str, float] = {}
    for pp_fault, kind in KINDS:
        ref = pandapower_sc(net, pp_fault, case)
        if pp_fault == "3ph":
            peak = {str(b): ref.ip_ka[b] / ref.ikss_ka[b] for b in net.bus.index}  # kappa sqrt(2), IEC 8.4
        for b in net.bus.index:
            got = short_circuit(network, data, str(b), kind, case)
            assert got.ikss_ka == pytest.approx(ref.ikss_ka[b], rel=0.01), (name, kind, case, b)
            if pp_fault == "1ph":
                assert got.ip_ka == pytest.approx(peak[str(b)] * got.ikss_ka, rel=0.01)
                continue
            assert got.ip_ka == pytest.approx(ref.ip_ka[b], rel=0.01), (name, kind, case, b)
            assert got.ith_ka == pytest.approx(ref.ith_ka[b], rel=0.01), (name, kind, case, b)


@pytest.mark.parametrize("method,topology", [("B", "meshed"), ("radial", "radial")])
def test_peak_current_methods_match_pandapower(method: str, topology: str) -> None:
    net = cigre_mv()
    network, data = ours(net)
    ref = pandapower_sc(net, "3ph", "max", topology=topology, kappa_method="B")
    for b in net.bus.index:
        got = short_circuit(network, data, str(b), "3ph", "max", peak_method=method)  # type: ignore[arg-type]
        assert got.ip_ka == pytest.approx(ref.ip_ka[b], rel=0.01)


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("case", ["max", "min"])
def test_llg_follows_the_standard_formulas_on_pandapower_impedances(name: str, case: Case) -> None:
    """IEC 60909-0 LLG (Z2 = Z1): IkE2E'' = sqrt(3) c Un / |Z1 + 2 Z0|,
    Ik2EL2'' = c Un |Z0 - a Z2| / |Z1 Z2 + Z1 Z0 + Z2 Z0|, Ik2EL3'' with a^2."""
    net = NETWORKS[name]()
    network, data = ours(net)
    ref = pandapower_sc(net, "1ph", case)
    for b in net.bus.index:
        un = float(net.bus.vn_kv[b])
        c = float(voltage_factor(np.array([un]), case)[0])
        z1 = complex(ref.rk_ohm[b], ref.xk_ohm[b])
        z0 = complex(ref.rk0_ohm[b], ref.xk0_ohm[b])
        d = z1 * z1 + 2 * z1 * z0
        got = short_circuit(network, data, str(b), "LLG", case)
        if not math.isfinite(abs(z0)) or abs(z0) > 1e9:
            continue
        assert got.ie_ka == pytest.approx(math.sqrt(3) * c * un / abs(z1 + 2 * z0), rel=0.01)
        i_b = c * un * abs(z0 - A * z1) / abs(d)
        i_c = c * un * abs(z0 - A * A * z1) / abs(d)
        assert got.ikss_ka == pytest.approx(max(i_b, i_c), rel=0.01)


def test_earth_fault_behind_dyn_is_two_hv_phases_at_one_over_sqrt3() -> None:
    """An LV earth fault behind a Dyn transformer draws no zero-sequence current on the HV side
    and, in per unit, If/sqrt(3) in two HV phases and none in the third (e.g. Blackburn &
    Domin, Protective Relaying, ch. 9, delta-wye transformer connections)."""
    net = radial_dyn()
    network, data = ours(net)
    res = short_circuit(network, data, "6", "SLG", "max")  # the 0.4 kV cable end
    fault = res.fault
    hv_branch = network.branches.index("branch7")  # the 20/0.4 kV transformer (5 lines, then 2 transformers)
    i_if = abs(fault.i_phase[0])
    hv = np.abs(fault.if_phase[hv_branch])
    assert abs(fault.if_seq[hv_branch, 0]) == pytest.approx(0.0, abs=1e-9 * i_if)
    assert sorted(hv / i_if) == pytest.approx([0.0, 1 / math.sqrt(3), 1 / math.sqrt(3)], abs=1e-6)
    # LV side: the fault current in phase a (radial; the cable's C0 takes a few 1e-8 of it).
    lv = np.abs(fault.it_phase[hv_branch])
    assert lv[0] == pytest.approx(i_if, rel=1e-6)


def test_branch_currents_sum_to_the_fault_current_at_the_faulted_bus() -> None:
    net = cigre_mv()
    network, data = ours(net)
    br = network.branches
    for kind in ("3ph", "SLG", "LL", "LLG"):
        res: ShortCircuitResult = short_circuit(network, data, "5", kind, "max")
        k = network.buses.index("5")
        into_fault = np.zeros(3, dtype=np.complex128)
        into_fault -= res.fault.if_phase[br.from_bus == k].sum(axis=0)
        into_fault -= res.fault.it_phase[br.to_bus == k].sum(axis=0)
        # The zero-sequence line charging at bus 5 carries a little earth current of its own.
        assert np.abs(into_fault - res.fault.i_phase).max() <= 2e-3 * abs(res.fault.i_phase).max()


def test_thermal_factor_m_limit_and_values() -> None:
    # m from its defining formula for kappa 1.8, 50 Hz, 1 s, and the limit 2 at kappa = 2.
    ln = math.log(0.8)
    assert thermal_m(1.8, 50.0, 1.0) == pytest.approx((math.exp(200 * ln) - 1) / (100 * ln), rel=1e-12)
    assert thermal_m(2.0, 50.0, 1.0) == 2.0


def test_missing_zero_sequence_data_is_refused_with_the_element_named() -> None:
    net = radial_dyn()
    net.line["x0_ohm_per_km"] = float("nan")
    network, data = ours(net)
    assert short_circuit(network, data, "3", "3ph", "max").ikss_ka > 0  # balanced faults need no zero sequence
    with pytest.raises(ValueError, match="branch 'branch1': zero-sequence"):
        short_circuit(network, data, "3", "SLG", "max")
    net = radial_dyn()
    net.ext_grid["x0x_max"] = float("nan")
    network, data = ours(net)
    with pytest.raises(ValueError, match=r"feeder at bus '0': X0/X"):
        short_circuit(network, data, "3", "LLG", "max")
    net = radial_dyn()
    net.line["endtemp_degree"] = float("nan")
    network, data = ours(net)
    with pytest.raises(ValueError, match="end temperature"):
        short_circuit(network, data, "3", "3ph", "min")
    with pytest.raises(ValueError, match="fault kind"):
        short_circuit(network, data, "3", "LLLG", "max")


def test_inline_grid_config_carries_the_data_and_matches_pandapower() -> None:
    """The scenario's own fields (feeders, line r0/x0/b0, vector group, vk0) give pandapower's currents."""
    from pathlib import Path

    from cosim.grid.config import GridConfig, build_network
    from cosim.grid.short_circuit_config import short_circuit_data

    c_nf, c0_nf, f_hz = 9.5, 5.7, 50.0
    config = GridConfig(
        base_mva=1.0, frequency_hz=f_hz,
        buses=[{"name": "hv", "base_kv": 110.0, "slack": True}, {"name": "mv", "base_kv": 20.0},
               {"name": "n1", "base_kv": 20.0}, {"name": "n2", "base_kv": 20.0}],
        generators=[{"name": "grid", "bus": "hv"}],
        feeders=[{"name": "q", "bus": "hv", "s_sc_max_mva": 2000.0, "s_sc_min_mva": 1600.0, "rx_max": 0.1,
                  "x0x_max": 1.0, "r0x0_max": 0.1}],
        transformers=[{"name": "t1", "hv_bus": "hv", "lv_bus": "mv", "sn_mva": 25.0, "vk_percent": 12.0,
                       "vkr_percent": 0.4, "vector_group": "Dyn11", "vk0_percent": 12.0, "vkr0_percent": 0.4,
                       "rn_ohm": 5.0}],
        lines=[{"name": f"l{k}", "from_bus": a, "to_bus": b, "r_ohm": 0.21 * km, "x_ohm": 0.39 * km,
                "b_us": 2 * math.pi * f_hz * c_nf * 1e-3 * km, "r0_ohm": 0.63 * km, "x0_ohm": 1.17 * km,
                "b0_us": 2 * math.pi * f_hz * c0_nf * 1e-3 * km, "endtemp_c": 80.0}
               for k, (a, b, km) in enumerate((("mv", "n1", 4.0), ("n1", "n2", 6.0)))])
    network = build_network(config, Path("."))
    data = short_circuit_data(config, network)

    net = pp.create_empty_network(f_hz=f_hz, sn_mva=1.0)
    hv, mv, n1, n2 = (pp.create_bus(net, kv) for kv in (110.0, 20.0, 20.0, 20.0))
    pp.create_ext_grid(net, hv, s_sc_max_mva=2000.0, s_sc_min_mva=1600.0, rx_max=0.1, rx_min=0.1,
                       x0x_max=1.0, r0x0_max=0.1, x0x_min=1.0, r0x0_min=0.1)
    pp.create_transformer_from_parameters(net, hv, mv, 25.0, 110.0, 20.0, 0.4, 12.0, 0.0, 0.0, vector_group="Dyn",
                                          vk0_percent=12.0, vkr0_percent=0.4, mag0_percent=100.0, mag0_rx=0.0,
                                          si0_hv_partial=0.9)
    net.trafo["rn_ohm"] = 5.0
    net.trafo["xn_ohm"] = 0.0
    for a, b, km in ((mv, n1, 4.0), (n1, n2, 6.0)):
        pp.create_line_from_parameters(net, a, b, km, 0.21, 0.39, c_nf, 0.3, r0_ohm_per_km=0.63,
                                       x0_ohm_per_km=1.17, c0_nf_per_km=c0_nf, endtemp_degree=80.0)
    names = ("hv", "mv", "n1", "n2")
    for pp_fault, kind in KINDS:
        for case in ("max", "min"):
            ref = pandapower_sc(net, pp_fault, case)
            for b, name in enumerate(names):
                got = short_circuit(network, data, name, kind, case)  # type: ignore[arg-type]
                assert got.ikss_ka == pytest.approx(ref.ikss_ka[b], rel=0.01), (kind, case, name)


def test_a_de_energised_bus_has_no_short_circuit_current() -> None:
    net = radial_dyn()
    net.line.loc[1, "in_service"] = False  # buses 3, 4 and the LV side lose supply
    network, data = ours(net)
    for kind in ("3ph", "SLG", "LL", "LLG"):
        res = short_circuit(network, data, "4", kind, "max")
        assert (res.ikss_ka, res.ip_ka, res.ith_ka, res.ie_ka) == (0.0, 0.0, 0.0, 0.0)
    assert short_circuit(network, data, "2", "SLG", "max").ikss_ka > 0
