"""DC power flow against a hand calculation on three buses.

Buses 2 and 3 draw 100 MW and 50 MW; x12 = 0.1, x13 = 0.2, x23 = 0.25 pu on
100 MVA. Reduced B = [[14, -4], [-4, 9]], P = [-1, -0.5] pu gives
theta2 = theta3 = -0.1 rad, so P12 = 100 MW, P13 = 50 MW, P23 = 0 and the
slack makes 150 MW.
"""

from __future__ import annotations

import numpy as np
import pytest

from cosim.grid.dcflow import solve_dc
from cosim.grid.service import GridService


def three_bus(grid):  # type: ignore[no-untyped-def]
    return grid(
        buses=[{"name": f"b{i}", "base_kv": 230} for i in (1, 2, 3)],
        lines=[{"name": "l12", "from_bus": "b1", "to_bus": "b2", "x_pu": 0.1},
               {"name": "l13", "from_bus": "b1", "to_bus": "b3", "x_pu": 0.2},
               {"name": "l23", "from_bus": "b2", "to_bus": "b3", "x_pu": 0.25}],
        generators=[{"name": "g1", "bus": "b1", "slack": True}],
        loads=[{"name": "d2", "bus": "b2", "p_mw": 100}, {"name": "d3", "bus": "b3", "p_mw": 50}])


def test_dc_flow_matches_hand_calculation(grid, balanced) -> None:  # type: ignore[no-untyped-def]
    r = balanced(solve_dc(three_bus(grid)))
    np.testing.assert_allclose(np.deg2rad(r.va_deg), [0.0, -0.1, -0.1], atol=1e-12)
    np.testing.assert_allclose(r.p_from_mw, [100.0, 50.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(r.p_to_mw, [-100.0, -50.0, 0.0], atol=1e-9)
    assert r.gen_p_mw[0] == pytest.approx(150.0)
    assert r.losses_mw == 0.0


def test_dc_mode_of_the_service_is_close_to_ac_on_a_light_lossless_grid(grid, balanced) -> None:  # type: ignore[no-untyped-def]
    net = three_bus(grid)
    dc = balanced(GridService(net, mode="dc").solve_if_changed())
    ac = balanced(GridService(net).solve_if_changed())
    np.testing.assert_allclose(ac.p_from_mw, dc.p_from_mw, atol=2.0)
