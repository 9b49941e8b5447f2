"""A power flow that cannot converge is reported as data, never raised."""

from __future__ import annotations

import math

import numpy as np

from cosim.grid.actions import ScaleLoad, SetLoad, SetSwitch
from cosim.grid.config import CASES_DIR
from cosim.grid.matpower import load_case
from cosim.grid.service import GridService


def test_absurd_load_reports_island_iterations_mismatch_and_bus() -> None:
    events: list[tuple[str, dict]] = []
    svc = GridService(load_case(CASES_DIR / "case14.json"), max_iter=15,
                      log=lambda kind, **fields: events.append((kind, fields)))
    svc.apply(ScaleLoad(40.0))
    r = svc.solve_if_changed()
    assert r.converged is False
    (island,) = r.islands
    assert island.converged is False
    assert island.iterations > 0
    assert island.max_mismatch_pu > 1e-3
    assert island.worst_bus in svc.network.buses.name
    assert island.slack_bus == "1"
    assert np.isnan(r.vm_pu).all()
    m = svc.measurements()
    assert math.isnan(m.bus_voltage("5").vm_pu)
    assert any(kind == "powerflow_not_converged" and f["worst_bus"] == island.worst_bus
               for kind, f in events)

    # Back to a sane load: the next solve recovers (cold start where the last one failed).
    svc.apply(ScaleLoad(1 / 40.0))
    r = svc.solve_if_changed()
    assert r.converged


def test_only_the_failing_island_is_marked(grid) -> None:  # type: ignore[no-untyped-def]
    net = grid(
        buses=[{"name": n, "base_kv": 20} for n in ("s1", "x", "s2", "y")],
        lines=[{"name": "l1", "from_bus": "s1", "to_bus": "x", "r_ohm": 0.4, "x_ohm": 1.2},
               {"name": "tie", "from_bus": "x", "to_bus": "y", "r_ohm": 0.4, "x_ohm": 1.2},
               {"name": "l2", "from_bus": "s2", "to_bus": "y", "r_ohm": 0.4, "x_ohm": 1.2}],
        switches=[{"name": "sw_tie", "branch": "tie"}],
        generators=[{"name": "g1", "bus": "s1", "slack": True}, {"name": "g2", "bus": "s2"}],
        loads=[{"name": "dx", "bus": "x", "p_mw": 3}, {"name": "dy", "bus": "y", "p_mw": 3}])
    svc = GridService(net)
    svc.apply(SetSwitch("sw_tie", closed=False))
    svc.apply(SetLoad("dy", p_mw=5000.0))
    r = svc.solve_if_changed()
    assert not r.converged
    by_slack = {i.slack_bus: i for i in r.islands}
    assert by_slack["s1"].converged and not by_slack["s2"].converged
    assert by_slack["s2"].worst_bus == "y"
    m = svc.measurements()
    assert 0.9 < m.bus_voltage("x").vm_pu < 1.0
    assert math.isnan(m.bus_voltage("y").vm_pu)
    assert m.load("dx").p_mw == 3.0
