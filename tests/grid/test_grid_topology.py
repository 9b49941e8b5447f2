"""Switches and breakers make islands; islands without a source go dark.

The story: a substation feeds a radial feeder sub - a - b - c through a breaker
on line a-b. Opening it de-energises b and c: voltage 0, their loads unserved
and their customers counted; the rest still solves. A second plant on its own
bus, tied by a switch, forms a second island when the tie opens and is solved
with its own slack.
"""

from __future__ import annotations

import numpy as np
import pytest

from cosim.grid.actions import SetBranchInService, SetGeneratorSetpoint, SetSwitch
from cosim.grid.service import GridService


def feeder(grid, **extra):  # type: ignore[no-untyped-def]
    section = dict(
        frequency_hz=50,
        buses=[{"name": "sub", "base_kv": 20, "slack": True}] +
              [{"name": n, "base_kv": 20} for n in ("a", "b", "c")],
        lines=[{"name": "l_sa", "from_bus": "sub", "to_bus": "a", "r_ohm": 0.5, "x_ohm": 1.0},
               {"name": "l_ab", "from_bus": "a", "to_bus": "b", "r_ohm": 0.5, "x_ohm": 1.0},
               {"name": "l_bc", "from_bus": "b", "to_bus": "c", "r_ohm": 0.5, "x_ohm": 1.0}],
        switches=[{"name": "cb_ab", "branch": "l_ab", "bus": "a"}],
        generators=[{"name": "grid", "bus": "sub", "vm_pu": 1.02}],
        loads=[{"name": "ld_a", "bus": "a", "p_mw": 2, "q_mvar": 0.5, "customers": 300},
               {"name": "ld_b", "bus": "b", "p_mw": 1, "q_mvar": 0.2, "customers": 120},
               {"name": "ld_c", "bus": "c", "p_mw": 1, "q_mvar": 0.2, "customers": 80}],
    )
    section.update(extra)
    return grid(**section)


def test_opening_a_breaker_de_energises_downstream(grid, balanced) -> None:  # type: ignore[no-untyped-def]
    svc = GridService(feeder(grid))
    m = svc.measurements()
    balanced(m.result)
    assert m.customers_unserved() == 0

    svc.apply(SetSwitch("cb_ab", closed=False))
    m = svc.measurements()
    r = balanced(m.result)
    assert r.converged
    for bus in ("b", "c"):
        v = m.bus_voltage(bus)
        assert (v.vm_pu, v.v_kv, v.energised) == (0.0, 0.0, False)
        assert m.frequency_hz(bus) == 0.0
    assert m.bus_voltage("a").vm_pu > 0.9 and m.frequency_hz("a") == 50.0
    assert m.load("ld_b") .served is False and m.load("ld_b").p_mw == 0.0
    assert m.unserved_loads() == ("ld_b", "ld_c")
    assert m.customers_unserved() == 200
    assert m.branch("l_bc").i_a == 0.0
    assert m.switch("cb_ab").i_a == 0.0 and not m.switch_closed("cb_ab")
    assert r.gen_p_mw[0] == pytest.approx(2.0 + r.losses_mw)

    svc.apply(SetSwitch("cb_ab", closed=True))
    m = svc.measurements()
    balanced(m.result)
    assert m.customers_unserved() == 0 and m.bus_voltage("c").vm_pu > 0.9


def test_branch_out_of_service_also_splits(grid, balanced) -> None:  # type: ignore[no-untyped-def]
    svc = GridService(feeder(grid))
    svc.apply(SetBranchInService("l_sa", in_service=False))
    m = svc.measurements()
    balanced(m.result)
    assert m.customers_unserved() == 500
    (island,) = m.result.islands  # the substation bus alone
    assert island.n_bus == 1 and island.slack_bus == "sub" and island.converged


def test_each_island_with_a_source_is_solved_with_its_own_slack(grid, balanced) -> None:  # type: ignore[no-untyped-def]
    net = feeder(
        grid,
        buses=[{"name": "sub", "base_kv": 20, "slack": True}] +
              [{"name": n, "base_kv": 20} for n in ("a", "b", "c", "plant")],
        lines=[{"name": "l_sa", "from_bus": "sub", "to_bus": "a", "r_ohm": 0.5, "x_ohm": 1.0},
               {"name": "l_ab", "from_bus": "a", "to_bus": "b", "r_ohm": 0.5, "x_ohm": 1.0},
               {"name": "l_bc", "from_bus": "b", "to_bus": "c", "r_ohm": 0.5, "x_ohm": 1.0},
               {"name": "l_pc", "from_bus": "plant", "to_bus": "c", "r_ohm": 0.2, "x_ohm": 0.8}],
        generators=[{"name": "grid", "bus": "sub", "vm_pu": 1.02},
                    {"name": "small", "bus": "plant", "p_mw": 1.0, "p_max_mw": 3, "vm_pu": 1.0},
                    {"name": "big", "bus": "plant", "p_mw": 0.5, "p_max_mw": 5, "vm_pu": 1.0}])
    svc = GridService(net)
    r = balanced(svc.solve_if_changed())
    assert len(r.islands) == 1 and r.islands[0].slack_bus == "sub"

    svc.apply(SetSwitch("cb_ab", closed=False))
    r = balanced(svc.solve_if_changed())
    assert r.converged and len(r.islands) == 2
    assert {i.slack_bus for i in r.islands} == {"sub", "plant"}
    assert all(i.converged for i in r.islands)
    gen = net.generators
    # The largest machine balances the plant island; the other keeps its setpoint.
    assert r.gen_p_mw[gen.index("small")] == pytest.approx(1.0)
    plant_island = r.island[net.buses.index("plant")]
    members = r.island == plant_island
    assert r.load_p_mw[[1, 2]].sum() + sum(
        r.p_from_mw[k] + r.p_to_mw[k] for k in (2, 3)) == pytest.approx(
        r.gen_p_mw[[1, 2]].sum(), abs=1e-6)
    assert members.sum() == 3 and np.all(r.vm_pu[members] > 0.9)

    # Losing the plant's machines de-energises its island.
    svc.apply(SetGeneratorSetpoint("small", in_service=False))
    svc.apply(SetGeneratorSetpoint("big", in_service=False))
    m = svc.measurements()
    balanced(m.result)
    assert m.unserved_loads() == ("ld_b", "ld_c")


def test_an_island_with_only_der_goes_dark(grid, balanced) -> None:  # type: ignore[no-untyped-def]
    net = feeder(grid, ders=[{"name": "pv_c", "bus": "c", "kind": "pv", "p_mw": 3.0}])
    svc = GridService(net)
    assert balanced(svc.solve_if_changed()).der_p_mw[0] == 3.0
    svc.apply(SetSwitch("cb_ab", closed=False))
    m = svc.measurements()
    balanced(m.result)
    assert m.der("pv_c").p_mw == 0.0 and m.customers_unserved() == 200
