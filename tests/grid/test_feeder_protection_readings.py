"""The readings protection takes (phase and sequence currents with angles, polarising voltages) on the IEEE 13
node feeder during asymmetric faults, through the balanced API's adapter, against OpenDSS with a Fault element.

OpenDSS (dss-python) solves the same .dss text with the same fault; its line
currents and bus voltages come back from its own API as complex phasors.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from cosim.grid.actions import SetTap
from cosim.grid.measurements import PhaseSequence
from cosim.grid.threephase import IEEE13, FeederService, read_dss
from cosim.grid.threephase.actions import ApplyPhaseFault
from cosim.grid.threephase.adapter import FeederGrid
from opendss_reference import opendss_solve

PUBLISHED_TAPS = {"reg1": 1.0625, "reg2": 1.05, "reg3": 1.06875}
FIXED_TAPS = tuple(f"Transformer.{r}.Taps=[1.0 {t}]" for r, t in PUBLISHED_TAPS.items()) + ("Set Controlmode=OFF",)


def _opendss_phasors(kind: str, name: str, n_phases: int) -> list[complex]:
    import dss

    circuit = dss.DSS.ActiveCircuit
    if kind == "bus":
        circuit.SetActiveBus(name)
        raw = np.array(circuit.ActiveBus.Voltages).reshape(-1, 2)
        return [complex(re, im) for re, im in raw[:n_phases]]
    circuit.SetActiveElement(name)
    raw = np.array(circuit.ActiveCktElement.Currents).reshape(-1, 2)
    return [complex(re, im) for re, im in raw[:n_phases]]


@pytest.mark.parametrize("bus, phases, ground, opendss", [
    ("652", (1,), True, "New Fault.f bus1=652.1 phases=1 r=0.0001"),          # SLG on a lateral
    ("671", (3,), True, "New Fault.f bus1=671.3 phases=1 r=1.0"),             # SLG through 1 ohm
    ("675", (2, 3), True, "New Fault.f bus1=675.2.3 phases=2 r=0.0001"),      # LLG
    ("692", (1, 2), False, "New Fault.f bus1=692.1 bus2=692.2 phases=1 r=0.0001"),  # LL
])
def test_feeder_fault_phasors_match_opendss(bus: str, phases: tuple[int, ...], ground: bool, opendss: str) -> None:
    r_ohm = float(opendss.rsplit("r=", 1)[1])
    grid = FeederGrid(FeederService(read_dss(IEEE13)))
    for reg, tap in PUBLISHED_TAPS.items():
        grid.apply(SetTap(reg, tap_ratio=tap))
    grid.apply(ApplyPhaseFault(bus, phases, ground=ground, r_ohm=r_ohm))
    m = grid.measurements()
    opendss_solve(IEEE13, FIXED_TAPS + (opendss,))
    head = m.branch_phasors("650632", "from")
    ref = PhaseSequence(*_opendss_phasors("element", "Line.650632", 3))
    peak = max(ref.magnitudes)
    for got, want in zip(head.phases, ref.phases):
        assert abs(got - want) <= 2e-3 * peak
    for ours, theirs in ((head.zero, ref.zero), (head.negative, ref.negative), (head.positive, ref.positive)):
        assert abs(ours - theirs) <= 2e-3 * peak
    if abs(ref.residual) > 0.05 * peak:
        assert math.degrees(abs(np.angle(head.residual / ref.residual))) < 0.2
    v_ours = m.bus_phasors("671")
    v_ref = PhaseSequence(*_opendss_phasors("bus", "671", 3))
    for got, want in zip(v_ours.phases, v_ref.phases):
        assert abs(got - want) <= 2e-3 * max(v_ref.magnitudes)
    assert abs(v_ours.zero - v_ref.zero) <= 2e-3 * max(v_ref.magnitudes)
    assert abs(v_ours.negative - v_ref.negative) <= 2e-3 * max(v_ref.magnitudes)


def test_single_phase_lateral_reads_its_one_phase() -> None:
    grid = FeederGrid(FeederService(read_dss(IEEE13)))
    grid.apply(ApplyPhaseFault("652", (1,), ground=True))
    reading = grid.measurements().branch_phasors("684652")
    assert reading.b == 0 and reading.c == 0 and abs(reading.a) > 0
    assert reading.residual == pytest.approx(reading.a)


PROTECTED = Path(__file__).parents[2] / "configs" / "feeders" / "ieee13_protected.dss"


@pytest.mark.parametrize("bus, expected", [("680", "FORWARD"), ("675", "FORWARD"), ("633", "REVERSE")])
def test_ground_direction_at_the_line_recloser_agrees_with_opendss(bus: str, expected: str) -> None:
    """67N at the recloser of configs/feeders/ieee13_protected.dss (bus 632, looking down line 632-670):
    3I0 against -3V0 with a 75 degree maximum torque angle, from our phasors and from OpenDSS's."""
    from devices.protection.directional import Direction, DirectionalSettings, looking

    settings = DirectionalSettings(Direction.FORWARD, mta_deg=75.0, min_polarising_v=100.0)
    grid = FeederGrid(FeederService(read_dss(PROTECTED)))
    grid.apply(ApplyPhaseFault(bus, (1,), ground=True))
    reading = grid.measurements().switch_phasors("rec632")
    ours = looking(reading.currents.residual, -reading.voltages.residual, settings)
    opendss_solve(PROTECTED, (f"New Fault.f bus1={bus}.1 phases=1 r=0.0001",))
    i_ref = PhaseSequence(*_opendss_phasors("element", "Line.rec632", 3))
    v_ref = PhaseSequence(*_opendss_phasors("bus", "632", 3))
    theirs = looking(i_ref.residual, -v_ref.residual, settings)
    assert ours is theirs is Direction[expected]
    assert abs(reading.voltages.residual - v_ref.residual) <= 2e-3 * abs(v_ref.residual)
