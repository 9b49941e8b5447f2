"""Generator reactive limits (PV->PQ switching) against pandapower's limit-enforcing solve.

The reference is pandapower ``runpp(enforce_q_lims=True)`` on MATPOWER's own
case data, computed at test time. pandapower does not enforce the slack
generator's limits (MATPOWER does, moving the slack): on case300, whose slack
exceeds its limits, the comparison widens the slack's limits in both, and the
slack move is checked on its own by its invariants.
"""

from __future__ import annotations

import numpy as np
import pytest
from grid_thirdparty import mpc, pandapower_net, pandapower_runpp, pypower_runpf

from cosim.grid.acflow import solve_ac
from cosim.grid.config import CASES_DIR
from cosim.grid.matpower import case_to_network, load_case
from cosim.grid.qlimits import Q_VIOLATION_MVAR
from cosim.grid.service import GridService

QMAX, QMIN = 3, 4


def _widen_slack_limits(case: dict) -> dict:
    case = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}
    slack_buses = case["bus"][case["bus"][:, 1] == 3, 0]
    at_slack = np.isin(case["gen"][:, 0], slack_buses)
    case["gen"][at_slack, QMAX], case["gen"][at_slack, QMIN] = 9999.0, -9999.0
    return case


@pytest.mark.parametrize("name,widen_slack", [("case118", False), ("case300", True)])
def test_q_limited_solution_matches_pandapower(name: str, widen_slack: bool, balanced) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pandapower")
    pytest.importorskip("pypower")
    case = mpc(CASES_DIR / f"{name}.m")
    if widen_slack:
        case = _widen_slack_limits(case)
    net = case_to_network({k: (v.tolist() if isinstance(v, np.ndarray) else v)
                           for k, v in case.items()})
    pp_net = pandapower_net(case)
    # The pandapower model is MATPOWER's network: same answer as PYPOWER without limits.
    vm_free, _ = pandapower_runpp(pp_net, enforce_q_lims=False)
    np.testing.assert_allclose(vm_free, pypower_runpf(case)["bus"][:, 7], rtol=0, atol=1e-6)

    free = solve_ac(net, tolerance_pu=1e-10)
    gen = net.generators
    outside = (free.gen_q_mvar > gen.q_max_mvar + 1e-3) | (free.gen_q_mvar < gen.q_min_mvar - 1e-3)
    assert outside.sum() >= 5  # the case really needs the limits

    vm_ref, va_ref = pandapower_runpp(pp_net, enforce_q_lims=True)
    result = balanced(solve_ac(net, tolerance_pu=1e-10, enforce_q_limits=True))
    assert result.converged
    np.testing.assert_allclose(result.vm_pu, vm_ref, rtol=0, atol=1e-6)
    np.testing.assert_allclose(result.va_deg, va_ref, rtol=0, atol=1e-4)
    on = gen.in_service
    assert (result.gen_q_mvar[on] <= gen.q_max_mvar[on] + Q_VIOLATION_MVAR).all()
    assert (result.gen_q_mvar[on] >= gen.q_min_mvar[on] - Q_VIOLATION_MVAR).all()
    # Every generator that was outside its limits is reported, at its limit, on a switched bus.
    limited = {s.generator: s for s in result.q_limited}
    for g in np.flatnonzero(outside & on):
        assert gen.name[g] in limited
    for s in limited.values():
        g = gen.index(s.generator)
        if s.limit != "bus":
            bound = gen.q_max_mvar[g] if s.limit == "max" else gen.q_min_mvar[g]
            assert result.gen_q_mvar[g] == pytest.approx(bound, abs=1e-9)
        assert s.bus in result.switched_buses
        assert result.vm_pu[net.buses.index(s.bus)] != pytest.approx(gen.vm_setpoint_pu[g], abs=1e-6)


def test_slack_at_its_limit_hands_over_to_the_first_voltage_controlled_bus(balanced) -> None:  # type: ignore[no-untyped-def]
    net = load_case(CASES_DIR / "case300.m")
    result = balanced(solve_ac(net, tolerance_pu=1e-10, enforce_q_limits=True))
    assert result.converged
    slack = net.buses.index("7049")
    gen = net.generators
    at_slack = [s for s in result.q_limited if s.bus == "7049"]
    assert at_slack and at_slack[0].limit in ("max", "min")
    g = gen.index(at_slack[0].generator)
    assert result.gen_q_mvar[g] == pytest.approx(at_slack[0].q_mvar, abs=1e-9)
    # The original slack keeps its angle, and generator outputs respect every limit.
    assert result.va_deg[slack] == pytest.approx(net.buses.va_init_deg[slack], abs=1e-9)
    on = gen.in_service
    assert (result.gen_q_mvar[on] <= gen.q_max_mvar[on] + Q_VIOLATION_MVAR).all()
    assert (result.gen_q_mvar[on] >= gen.q_min_mvar[on] - Q_VIOLATION_MVAR).all()
    # MATPOWER's bustypes(): the new slack is the first bus (table order) still voltage-controlled.
    still = sorted({int(gen.bus[k]) for k in np.flatnonzero(on & gen.voltage_control)}
                   - {net.buses.index(b) for b in result.switched_buses})
    assert result.islands[0].slack_bus == net.buses.name[still[0]] != "7049"


def test_limits_are_an_option_and_the_service_reports_switches() -> None:
    net = load_case(CASES_DIR / "case118.m")
    assert solve_ac(net).q_limited == ()
    events: list[tuple[str, dict]] = []
    svc = GridService(net, enforce_q_limits=True, log=lambda kind, **f: events.append((kind, f)))
    result = svc.solve_if_changed()
    assert len(result.switched_buses) == 6
    kinds = [k for k, _ in events]
    assert kinds.count("q_limits") == 1
    assert events[kinds.index("q_limits")][1]["buses"] == list(result.switched_buses)
