"""Measurements come in physical units and agree with each other."""

from __future__ import annotations

import math

import pytest

from cosim.grid.service import GridService


def test_units_of_voltages_currents_and_powers(grid, balanced) -> None:  # type: ignore[no-untyped-def]
    net = grid(
        frequency_hz=50,
        buses=[{"name": "src", "base_kv": 11, "slack": True}, {"name": "load", "base_kv": 11}],
        lines=[{"name": "cable", "from_bus": "src", "to_bus": "load", "r_ohm": 0.3,
                "x_ohm": 0.4, "b_us": 50}],
        generators=[{"name": "g", "bus": "src", "vm_pu": 1.03}],
        loads=[{"name": "d", "bus": "load", "p_mw": 4, "q_mvar": 1.5, "zip_z": 0.5}])
    m = GridService(net).measurements()
    balanced(m.result)
    v = m.bus_voltage("load")
    assert v.v_kv == pytest.approx(v.vm_pu * 11.0)
    for end, bus in (("from", "src"), ("to", "load")):
        b = m.branch("cable", end)
        v_kv = m.bus_voltage(bus).v_kv
        assert b.i_a == pytest.approx(math.hypot(b.p_mw, b.q_mvar) / (math.sqrt(3) * v_kv) * 1e3)
        assert b.i_pu == pytest.approx(b.i_a / (100.0 / (math.sqrt(3) * 11.0) * 1e3))
    d = m.load("d")
    assert d.p_mw == pytest.approx(4.0 * (0.5 * v.vm_pu**2 + 0.5))  # half constant impedance
    inj = m.bus_injection("load")
    assert (inj.p_mw, inj.q_mvar) == (pytest.approx(-d.p_mw), pytest.approx(-d.q_mvar))
    assert m.branch("cable", "to").p_mw == pytest.approx(inj.p_mw)
    assert m.generator("g").p_mw == pytest.approx(d.p_mw + m.losses_mw())
    assert m.frequency_hz("load") == 50.0
    with pytest.raises(KeyError):
        m.bus_voltage("nowhere")
