"""Three-phase fault currents against hand calculations.

Two buses at 11 kV, 100 MVA base: a generator with x''d = 0.1 pu on its
50 MVA base (0.2 pu on the system base) behind bus g, a line g-f with
z = 0.01 + j0.1 pu, no load, so the pre-fault voltage is 1 pu everywhere and

    I_f = 1 / (j0.2 + 0.01 + j0.1 + Z_f)       at bus f
    I_f = 1 / (j0.2 + a (0.01 + j0.1))         at fraction a along the line

with base current 100 MVA / (sqrt(3) 11 kV) = 5.2486 kA.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosim.grid.actions import ApplyFault, ClearFault, SetSwitch
from cosim.grid.faults import fault_study
from cosim.grid.service import GridService

I_BASE_KA = 100.0 / (math.sqrt(3) * 11.0)
ZS, ZL = 0.2j, 0.01 + 0.1j


def two_bus(grid, load_mw: float = 0.0):  # type: ignore[no-untyped-def]
    return grid(
        buses=[{"name": "g", "base_kv": 11, "slack": True}, {"name": "f", "base_kv": 11}],
        lines=[{"name": "l", "from_bus": "g", "to_bus": "f", "r_pu": 0.01, "x_pu": 0.1}],
        switches=[{"name": "cb", "branch": "l", "bus": "g"}],
        generators=[{"name": "gen", "bus": "g", "mbase_mva": 50, "xdss_pu": 0.1}],
        loads=[{"name": "d", "bus": "f", "p_mw": load_mw, "q_mvar": load_mw / 4}])


def test_bolted_and_impedance_fault_at_a_bus(grid) -> None:  # type: ignore[no-untyped-def]
    net = two_bus(grid)
    zf = 0.5 / (11.0**2 / 100.0)  # 0.5 ohm in pu
    for r_ohm, z_f in ((0.0, 0.0), (0.5, zf)):
        res = fault_study(net, ApplyFault(bus="f", r_fault_ohm=r_ohm))
        expected = 1.0 / (ZS + ZL + z_f)
        assert res.i_fault_pu == pytest.approx(abs(expected), rel=1e-12)
        assert res.i_fault_ka == pytest.approx(abs(expected) * I_BASE_KA, rel=1e-12)
        assert res.vm_pu[1] == pytest.approx(abs(expected * z_f), abs=1e-12)
        assert res.vm_pu[0] == pytest.approx(abs(1 - ZS * expected), rel=1e-12)
        # The relay at the g end of the line sees the whole fault current.
        assert res.i_from_ka[0] == pytest.approx(res.i_fault_ka, rel=1e-12)
        assert res.i_to_ka[0] == pytest.approx(res.i_fault_ka, rel=1e-12)


def test_mid_line_fault(grid) -> None:  # type: ignore[no-untyped-def]
    net = two_bus(grid)
    res = fault_study(net, ApplyFault(branch="l", fraction=0.4))
    expected = 1.0 / (ZS + 0.4 * ZL)
    assert res.i_fault_pu == pytest.approx(abs(expected), rel=1e-9)
    assert res.i_from_pu[0] == pytest.approx(abs(expected), rel=1e-9)
    assert res.i_to_pu[0] == pytest.approx(0.0, abs=1e-9)  # nothing feeds from the far end
    assert res.v_fault_pu == pytest.approx(0.0, abs=1e-12)
    assert res.vm_pu[1] == pytest.approx(0.0, abs=1e-9)  # the dead end follows the fault point
    assert len(res.vm_pu) == 2  # the temporary fault bus is not reported


def test_pre_fault_voltage_from_the_power_flow(grid, balanced) -> None:  # type: ignore[no-untyped-def]
    svc = GridService(two_bus(grid, load_mw=40.0))
    v_pre = balanced(svc.solve_if_changed()) and svc.measurements().bus_voltage("f").vm_pu
    assert v_pre < 0.99
    res = svc.fault_study(ApplyFault(bus="f"))
    assert res.i_fault_pu == pytest.approx(v_pre / abs(ZS + ZL), rel=1e-9)


def test_relay_sees_the_fault_then_trips_it_dead(grid, balanced) -> None:  # type: ignore[no-untyped-def]
    svc = GridService(two_bus(grid, load_mw=5.0))
    normal = balanced(svc.solve_if_changed()) and svc.measurements().switch("cb").i_a
    svc.apply(ApplyFault(bus="f"))
    m = svc.measurements()
    assert m.fault_current_ka() == pytest.approx(abs(1 / (ZS + ZL)) * I_BASE_KA, rel=0.05)
    seen = m.switch("cb")
    assert seen.i_a > 10 * normal and math.isnan(seen.p_mw)
    assert m.bus_voltage("f").vm_pu < 1e-9

    svc.apply(SetSwitch("cb", closed=False))  # the relay trips
    m = svc.measurements()
    assert m.fault_current_ka() == 0.0 and m.switch("cb").i_a == 0.0
    balanced(m.result)
    svc.apply(ClearFault())
    svc.apply(SetSwitch("cb", closed=True))  # reclose onto a cleared line
    m = svc.measurements()
    balanced(m.result)
    assert m.fault is None and m.switch("cb").i_a == pytest.approx(normal, rel=1e-9)
    assert m.load("d").served


def test_bolted_fault_on_case9_is_consistent_with_its_branch_currents(balanced) -> None:  # type: ignore[no-untyped-def]
    from cosim.grid.config import CASES_DIR
    from cosim.grid.matpower import load_case
    svc = GridService(load_case(CASES_DIR / "case9.json"))
    balanced(svc.solve_if_changed())
    res = svc.fault_study(ApplyFault(bus="4"))
    assert svc.active_fault is None  # a what-if changes nothing
    k4 = svc.network.buses.index("4")
    assert res.vm_pu[k4] < 1e-9 and res.i_fault_pu > 3.0
    # Kirchhoff at the fault: the currents of branches 1-4, 4-5 and 9-4 into bus 4 add up
    # (in magnitude at most) to the fault current.
    br = svc.network.branches
    into = [res.i_to_pu[k] if br.to_bus[k] == k4 else res.i_from_pu[k]
            for k in range(len(br)) if k4 in (br.from_bus[k], br.to_bus[k])]
    assert len(into) == 3 and sum(into) >= res.i_fault_pu * (1 - 1e-9)
    assert np.all(res.vm_pu <= 1.1)


def test_bad_fault_locations_fail_at_the_caller(grid) -> None:  # type: ignore[no-untyped-def]
    net = grid(
        buses=[{"name": "hv", "base_kv": 110, "slack": True}, {"name": "lv", "base_kv": 20}],
        transformers=[{"name": "t", "hv_bus": "hv", "lv_bus": "lv", "x_pu": 0.1}],
        generators=[{"name": "g", "bus": "hv"}])
    svc = GridService(net)
    with pytest.raises(ValueError, match="transformer"):
        svc.apply(ApplyFault(branch="t"))
    with pytest.raises(KeyError):
        svc.apply(ApplyFault(bus="nowhere"))
    with pytest.raises(ValueError):
        ApplyFault(bus="hv", branch="t")
    assert svc.active_fault is None
    assert svc.fault_study(ApplyFault(bus="lv")).i_fault_pu == pytest.approx(1 / 0.3)
