"""Solve on change: reading never solves twice, actions make exactly one more solve."""

from __future__ import annotations

import pytest

from cosim.grid.actions import (
    Change,
    CurtailDer,
    ScaleLoad,
    SetDerOutput,
    SetLoad,
    SetShuntStep,
)
from cosim.grid.config import CASES_DIR, GridConfig, build_network
from cosim.grid.matpower import load_case
from cosim.grid.service import GridService


def test_solves_only_when_something_changed(balanced) -> None:  # type: ignore[no-untyped-def]
    recorded: list[tuple] = []
    svc = GridService(load_case(CASES_DIR / "case118.m"),
                      record=lambda *row: recorded.append(row))
    assert svc.solve_count == 0 and svc.dirty
    balanced(svc.solve_if_changed())
    svc.measurements()
    svc.solve_if_changed()
    assert svc.solve_count == 1 and not svc.dirty

    assert svc.apply(SetLoad("load59", p_mw=280.0)) is Change.INJECTION
    assert svc.apply(ScaleLoad(1.01)) is Change.INJECTION
    assert svc.dirty
    m = svc.measurements()
    m2 = svc.measurements()
    assert svc.solve_count == 2 and m.solve_count == m2.solve_count == 2
    balanced(m.result)
    # A warm re-solve after a small change reuses the last factorised Jacobian:
    # a few cheap steps, at most one new factorisation.
    assert 1 <= m.result.iterations <= 6 and m.result.factorisations <= 1
    assert ("grid", "losses", m.result.losses_mw, "MW") in recorded


def test_forced_solve_counts_too() -> None:
    svc = GridService(load_case(CASES_DIR / "case9.json"))
    svc.solve()
    svc.solve()
    assert svc.solve_count == 2


def test_der_and_shunt_actions(balanced) -> None:  # type: ignore[no-untyped-def]
    config = GridConfig.model_validate({
        "case": "case14",
        "ders": [{"name": "pv9", "bus": "9", "kind": "pv", "p_mw": 10, "p_max_mw": 8},
                 {"name": "bess", "bus": "10", "kind": "storage", "p_mw": -3, "p_min_mw": -4}],
        "shunts": [{"name": "cap13", "bus": "13", "b_mvar": 5, "step": 0, "max_step": 3}]})
    from pathlib import Path
    svc = GridService(build_network(config, Path(".")))
    m = svc.measurements()
    balanced(m.result)
    assert m.der("pv9").p_mw == 8.0  # capped at p_max_mw
    assert m.der("bess").p_mw == -3.0  # charging
    v13 = m.bus_voltage("13").vm_pu

    svc.apply(CurtailDer("pv9", p_limit_mw=2.5))
    assert svc.apply(SetShuntStep("cap13", step=3)) is Change.ADMITTANCE
    m = svc.measurements()
    balanced(m.result)
    assert m.der("pv9").p_mw == 2.5
    assert m.bus_voltage("13").vm_pu > v13
    assert m.result.shunt_q_mvar[-1] < -14.0  # ~15 Mvar injected at ~1 pu

    svc.apply(CurtailDer("pv9", p_limit_mw=None))
    svc.apply(SetDerOutput("pv9", p_mw=4.0))
    assert svc.measurements().der("pv9").p_mw == 4.0
    assert svc.solve_count == 3


def test_generator_and_load_status_actions(balanced) -> None:  # type: ignore[no-untyped-def]
    from cosim.grid.actions import SetGeneratorSetpoint, SetLoadInService
    svc = GridService(load_case(CASES_DIR / "case14.json"))
    v2 = svc.measurements().bus_voltage("2").vm_pu
    svc.apply(SetGeneratorSetpoint("gen2", vm_pu=v2 + 0.01, p_mw=30.0))
    m = svc.measurements()
    balanced(m.result)
    assert m.bus_voltage("2").vm_pu == pytest.approx(v2 + 0.01, abs=1e-12)
    assert m.generator("gen2").p_mw == 30.0
    svc.apply(SetLoadInService("load9", in_service=False))
    m = svc.measurements()
    balanced(m.result)
    assert m.load("load9").p_mw == 0.0 and not m.load("load9").served
    assert m.customers_unserved() == 0  # switched off by the customer, not an outage
