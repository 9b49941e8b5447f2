"""Transformer taps and phase shift act as the MATPOWER branch model says.

With no load, the LV bus sits at V_hv / tap with angle -shift (the ideal
transformer is on the from/HV side).
"""

from __future__ import annotations

import pytest

from cosim.grid.actions import SetLoad, SetTap
from cosim.grid.service import GridService


def substation(grid, tap: float = 1.0, shift: float = 0.0):  # type: ignore[no-untyped-def]
    return grid(
        buses=[{"name": "hv", "base_kv": 110, "slack": True}, {"name": "lv", "base_kv": 20}],
        transformers=[{"name": "t1", "hv_bus": "hv", "lv_bus": "lv", "sn_mva": 40,
                       "vk_percent": 12, "vkr_percent": 0.5, "tap_ratio": tap,
                       "shift_deg": shift}],
        generators=[{"name": "grid", "bus": "hv", "vm_pu": 1.0}],
        loads=[{"name": "d", "bus": "lv", "p_mw": 0.0}])


def test_no_load_ratio_and_shift(grid, balanced) -> None:  # type: ignore[no-untyped-def]
    svc = GridService(substation(grid, tap=1.05, shift=30.0))
    m = svc.measurements()
    balanced(m.result)
    assert m.bus_voltage("lv").vm_pu == pytest.approx(1 / 1.05, abs=1e-9)
    assert m.bus_voltage("lv").va_deg == pytest.approx(-30.0, abs=1e-9)
    assert m.bus_voltage("lv").v_kv == pytest.approx(20 / 1.05, abs=1e-6)


def test_tap_changer_raises_lv_voltage_under_load(grid, balanced) -> None:  # type: ignore[no-untyped-def]
    svc = GridService(substation(grid))
    svc.apply(SetLoad("d", p_mw=30.0, q_mvar=10.0))
    sagging = svc.measurements().bus_voltage("lv").vm_pu
    assert sagging < 0.98
    svc.apply(SetTap("t1", tap_ratio=0.95))  # fewer HV turns: boost
    m = svc.measurements()
    balanced(m.result)
    assert m.bus_voltage("lv").vm_pu == pytest.approx(sagging / 0.95, abs=0.01)
    assert m.bus_voltage("lv").vm_pu > sagging
