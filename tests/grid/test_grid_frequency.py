"""The aggregate area frequency model against the closed-form single-area step response.

The reference (Kundur §11.1; Bergen & Vittal §11.5) is the inverse Laplace
transform written out in single_area_response.py; the model under test
integrates the state equations with a matrix exponential, an independent route.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from single_area_response import closed_form_deviation_pu

from cosim.grid import GridService, Network, SetGeneratorSetpoint
from cosim.grid.frequency import RESOLUTION_HZ, FrequencyResponseConfig, SystemFrequency


CASES = [  # H s, R pu, D pu, T_G s, ΔPL pu
    (5.0, 0.05, 1.0, 0.5, 0.02),
    (3.0, 0.04, 0.0, 0.3, 0.10),
    (8.0, 0.05, 2.0, 0.6, -0.05),
]


@pytest.mark.parametrize("h, r, d, tg, dpl", CASES)
def test_step_response_follows_the_closed_form(h: float, r: float, d: float, tg: float, dpl: float) -> None:
    config = FrequencyResponseConfig(system_base_mva=1000, inertia_h_s=h, droop_pct=r * 100,
                                     governor_time_constant_s=tg, load_damping_pu=d)
    model = SystemFrequency(config, nominal_hz=60.0)
    model.set_imbalance(0.0, dpl * 1000)
    for t in np.linspace(0.0, 30.0, 61):
        expected = closed_form_deviation_pu(float(t), dpl, h, r, d, tg)
        assert model.at(float(t)).deviation_pu == pytest.approx(expected, rel=1e-9, abs=1e-12 * abs(dpl))
    # Steady state -ΔPL/(D + 1/R) (Kundur eq. 11.x; Bergen & Vittal eq. 11.27) and initial ROCOF -ΔPL/(2H).
    assert model.at(600.0).deviation_pu == pytest.approx(-dpl / (d + 1 / r), rel=1e-9)
    assert model.at(0.0).rocof_hz_per_s == pytest.approx(-60.0 * dpl / (2 * h), rel=1e-12)


def test_the_response_is_the_same_at_any_clock_value() -> None:
    config = FrequencyResponseConfig(system_base_mva=500)
    early, late = SystemFrequency(config, 50.0), SystemFrequency(config, 50.0)
    t0 = float(2**27) + 0.3
    early.set_imbalance(10.0, 25.0)
    late.set_imbalance(t0, 25.0)
    for tau in (0.0, 0.5, 2.0, 7.5, 40.0):
        assert late.at(t0 + tau).frequency_hz == pytest.approx(early.at(10.0 + tau).frequency_hz, rel=1e-9)


def test_time_may_not_go_backwards() -> None:
    model = SystemFrequency(FrequencyResponseConfig(system_base_mva=100), 60.0)
    model.set_imbalance(5.0, 1.0)
    with pytest.raises(ValueError, match="before the last change"):
        model.at(4.0)


def test_a_generator_trip_in_the_grid_service_drives_the_frequency(grid: Callable[..., Network]) -> None:
    network = grid(
        base_mva=100, frequency_hz=50,
        buses=[{"name": "a", "base_kv": 110}, {"name": "b", "base_kv": 110}],
        lines=[{"name": "ab", "from_bus": "a", "to_bus": "b", "r_ohm": 2.0, "x_ohm": 8.0}],
        generators=[{"name": "slack", "bus": "a", "slack": True, "p_mw": 60.0},
                    {"name": "unit2", "bus": "b", "p_mw": 20.0}],
        loads=[{"name": "town", "bus": "b", "p_mw": 80.0, "q_mvar": 20.0}],
        frequency_response={"system_base_mva": 200},
    )
    now = [0.0]
    config = FrequencyResponseConfig(system_base_mva=200, inertia_h_s=4.0, droop_pct=5.0,
                                     governor_time_constant_s=0.4, load_damping_pu=1.0)
    service = GridService(network, frequency=SystemFrequency(config, 50.0), clock=lambda: now[0])
    before = service.measurements()
    assert before.frequency_hz("b") == 50.0 and before.rocof_hz_per_s("b") == 0.0
    slack_before_mw = before.generator("slack").p_mw
    now[0] = 100.0
    service.apply(SetGeneratorSetpoint("unit2", in_service=False))
    now[0] = 101.0
    dip = service.measurements()
    assert dip.frequency_hz("a") < 50.0 and dip.rocof_hz_per_s("a") != 0.0
    now[0] = 400.0
    settled = service.measurements()
    picked_up_mw = settled.generator("slack").p_mw - slack_before_mw
    # The slack picked up the lost 20 MW plus the change in losses: that is the imbalance the model sees.
    assert picked_up_mw == pytest.approx(20.0, rel=0.05)
    expected_hz = 50.0 * (1 - (picked_up_mw / 200) / (1.0 + 1 / 0.05))
    assert settled.frequency_hz("b") == pytest.approx(expected_hz, rel=1e-9)


@pytest.mark.parametrize("h, r, d, tg, dpl", CASES)
def test_the_settling_bound_holds_and_is_not_far_from_the_last_excursion(h: float, r: float, d: float, tg: float,
                                                                          dpl: float) -> None:
    """After ``settled_s`` the closed-form response stays within 0.1 mHz of steady state; it is not overly late."""
    config = FrequencyResponseConfig(system_base_mva=1000, inertia_h_s=h, droop_pct=r * 100,
                                     governor_time_constant_s=tg, load_damping_pu=d)
    model = SystemFrequency(config, nominal_hz=60.0)
    model.set_imbalance(100.0, dpl * 1000)
    settled = model.settled_s() - 100.0
    steady_hz = 60.0 * (1 - dpl / (d + 1 / r))
    times = np.linspace(0.0, 3 * settled, 3001)
    away = [float(t) for t in times if abs(60.0 * (1 + closed_form_deviation_pu(float(t), dpl, h, r, d, tg))
                                            - steady_hz) > RESOLUTION_HZ]
    assert away and max(away) <= settled          # never more than 0.1 mHz off after the bound
    assert settled < 2.0 * max(away) + 1.0       # and the bound is not far beyond the last excursion
