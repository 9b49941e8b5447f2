"""Invariants of every three-phase solve: power balance, non-convergence as data, typed actions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosim.grid.actions import (
    ApplyFault,
    ClearFault,
    ScaleLoad,
    SetBranchInService,
    SetGeneratorSetpoint,
    SetLoad,
    SetShuntStep,
    SetSwitch,
    SetTap,
)
from cosim.grid.threephase import IEEE13, IEEE123, FeederService, read_dss
from cosim.grid.threephase.actions import ApplyPhaseFault
from cosim.grid.threephase.measurements import FeederMeasurements


def element_losses_kw(m: FeederMeasurements) -> float:
    """Sum over every line and transformer of the power into both of its ends."""
    feeder = m.prepared.feeder
    total = 0.0
    for ln in feeder.lines:
        total += m.line(ln.name, "from").p_kw + m.line(ln.name, "to").p_kw
    for xf in feeder.transformers:
        total += m.transformer(xf.name, 1).p_kw + m.transformer(xf.name, 2).p_kw
    return total


@pytest.mark.parametrize("path", [IEEE13, IEEE123])
def test_source_power_is_load_plus_the_losses_of_every_element(path) -> None:  # type: ignore[no-untyped-def]
    m = FeederService(read_dss(path)).measurements()
    assert m.converged
    loads = float(m.result.load_kw.sum())
    assert m.result.source_kw == pytest.approx(loads + element_losses_kw(m), rel=1e-7)
    assert element_losses_kw(m) > 0


def test_a_solve_that_does_not_converge_is_reported_not_raised() -> None:
    svc = FeederService(read_dss(IEEE13), max_iter=2)
    result = svc.solve()
    assert not result.converged
    assert all(math.isfinite(x) for x in result.vm_pu)


def test_heavy_load_still_converges_as_loads_turn_into_impedances() -> None:
    svc = FeederService(read_dss(IEEE13))
    svc.apply(ScaleLoad(8.0))
    m = svc.measurements()
    assert m.converged
    assert min(m.result.vm_pu[m.result.vm_pu > 0]) < 0.95  # loads below vmin: impedance law


def test_actions_change_only_what_they_name_and_solve_once() -> None:
    svc = FeederService(read_dss(IEEE13))
    first = svc.measurements()
    assert svc.measurements().solve_count == first.solve_count == 1  # nothing changed: no solve
    svc.apply(SetShuntStep("cap1", 0))
    off = svc.measurements()
    assert off.bus_voltage("675").vm_pu[0] < first.bus_voltage("675").vm_pu[0]
    svc.apply(SetShuntStep("cap1", 1))
    np.testing.assert_allclose(svc.measurements().result.v, first.result.v, rtol=1e-8)
    svc.apply(SetLoad("671", p_mw=0.0, q_mvar=0.0))
    assert svc.measurements().load("671").p_kw == pytest.approx(0.0, abs=1e-9)
    svc.apply(SetBranchInService("684652", in_service=False))
    m = svc.measurements()
    assert m.bus_voltage("652").vm_pu == (0.0,) and not m.load("652").served
    assert svc.version == 4


@pytest.mark.parametrize("action, error", [
    (SetShuntStep("cap1", 2), ValueError),
    (SetTap("reg1", tap_ratio=0.0), ValueError),
    (SetTap("reg1", shift_deg=30.0), ValueError),
    (SetSwitch("650632", closed=False), KeyError),  # a line, not a switch
    (SetLoad("nope", p_mw=1.0), KeyError),
    (SetGeneratorSetpoint("g", p_mw=1.0), TypeError),
    (ApplyFault(bus="675"), TypeError),
])
def test_bad_actions_are_the_callers_error(action, error) -> None:  # type: ignore[no-untyped-def]
    svc = FeederService(read_dss(IEEE13))
    with pytest.raises(error):
        svc.apply(action)


def test_a_fault_is_applied_and_cleared_back_to_the_same_state() -> None:
    svc = FeederService(read_dss(IEEE13))
    before = svc.measurements()
    assert before.fault_currents_a() == ()
    svc.apply(ApplyPhaseFault("671", (1,)))
    faulted = svc.measurements()
    assert faulted.fault_currents_a()[0] > 1000.0
    assert faulted.bus_voltage("671").vm_pu[0] < 0.01
    svc.apply(ClearFault())
    np.testing.assert_allclose(svc.measurements().result.v, before.result.v, rtol=1e-8)


@pytest.mark.parametrize("phases, ground, r_ohm", [
    ((), True, 0.1), ((1, 1), True, 0.1), ((4,), True, 0.1), ((2,), False, 0.1), ((1,), True, 0.0),
])
def test_a_malformed_fault_is_rejected(phases, ground, r_ohm) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        ApplyPhaseFault("671", phases, ground=ground, r_ohm=r_ohm)


def test_a_fault_in_the_file_is_the_same_as_a_fault_action(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "faulted.dss"
    path.write_text(f'redirect "{IEEE13}"\nNew Fault.f bus1=671.1 phases=1 r=0.0001\n')
    from_file = FeederService(read_dss(path)).measurements()
    svc = FeederService(read_dss(IEEE13))
    svc.apply(ApplyPhaseFault("671", (1,)))
    by_action = svc.measurements()
    # Voltage bases come from the unfaulted feeder either way (671 stays on 4.16 kV).
    np.testing.assert_allclose(from_file.result.vm_pu, by_action.result.vm_pu, rtol=1e-9)
    assert from_file.fault_currents_a() == pytest.approx(by_action.fault_currents_a(), rel=1e-9)


def test_sequence_currents_of_a_balanced_set_and_of_a_single_phase() -> None:
    """Fortescue on known phasors: a balanced set is all positive sequence; one phase
    alone splits equally into the three sequences."""
    from cosim.grid.threephase.measurements import TerminalReading

    balanced = TerminalReading((1, 2, 3), (100.0, 100.0, 100.0), (0.0, -120.0, 120.0), 0, 0, True)
    assert balanced.sequence_a() == pytest.approx((0.0, 100.0, 0.0), abs=1e-9)
    single = TerminalReading((1, 2, 3), (90.0, 0.0, 0.0), (10.0, 0.0, 0.0), 0, 0, True)
    assert single.sequence_a() == pytest.approx((30.0, 30.0, 30.0))
    with pytest.raises(ValueError):
        TerminalReading((3, 2), (1.0, 1.0), (0.0, 0.0), 0, 0, True).sequence_a()
