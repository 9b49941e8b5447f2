"""Fuse links: curve data and melting times against OpenDSS at test time, heating memory, coordination.

The judge is OpenDSS (dss-python's AltDSS engine): its built-in
``TCC_Curve.KLink``/``TLink`` arrays, and its ``Fuse`` element blowing in a
stepped time simulation of a bolted fault. OpenDSS schedules the blow at the
first solve plus the TCC time (plus ``Delay``) and acts at the first step at
or after it, so its time is ours rounded up to its step ``h``.
"""

from __future__ import annotations

import math
import os

import pytest

from devices.protection.curves import Curve
from devices.protection.fuse import (
    FAST_CURVE_FACTORS,
    REFERENCE_DEAD_TIME_S,
    Fuse,
    FuseLinkType,
    FuseSettings,
    check_coordination,
)
from devices.intents import TripBreaker


@pytest.fixture(scope="module")
def dss():
    import dss as dss_module

    cwd = os.getcwd()
    yield dss_module.DSS
    os.chdir(cwd)


def _opendss_array(dss, text: str) -> list[float]:
    dss.Text.Command = f"? {text}"
    return [float(v) for v in dss.Text.Result.strip("[] ").split()]


@pytest.mark.parametrize("link", list(FuseLinkType), ids=lambda link: link.name)
def test_curve_points_are_opendss_builtin_link_curves(dss, link):
    dss.Text.Command = "clear"
    dss.Text.Command = "new circuit.c basekv=11"
    name = f"TCC_Curve.{link.name.lower()}link"
    assert _opendss_array(dss, f"{name}.c_array") == pytest.approx(link.curve.multiples, rel=1e-12)
    assert _opendss_array(dss, f"{name}.t_array") == pytest.approx(link.curve.times_s, rel=1e-12)


def _opendss_fuse(dss, link: FuseLinkType, rating_a: float, fault_r_ohm: float, delay_s: float,
                  step_s: float) -> float:
    """Build the faulted circuit, take the first time step; return the current through the fuse (A)."""
    text = dss.Text
    text.Command = "clear"
    text.Command = "new circuit.f basekv=11 pu=1.0 phases=3 bus1=src isc3=20000 isc1=20000"
    text.Command = "new line.l1 bus1=src bus2=b phases=3 r1=0.001 x1=0.001 r0=0.001 x0=0.001 c1=0 c0=0 length=1"
    text.Command = (f"new fuse.fz monitoredobj=line.l1 monitoredterm=1 fusecurve={link.name.lower()}link "
                    f"ratedcurrent={rating_a} delay={delay_s}")
    text.Command = f"new fault.f1 bus1=b phases=3 r={fault_r_ohm}"
    text.Command = "set controlmode=time"
    text.Command = f"set mode=time stepsize={step_s} number=1"
    text.Command = "solve"  # the first step: the fuse samples the fault current and schedules its blow
    currents = dss.ActiveCircuit.CktElements("Line.l1").Currents
    return abs(complex(currents[0], currents[1]))


def _opendss_blow_time_s(dss, link: FuseLinkType, rating_a: float, fault_r_ohm: float, delay_s: float,
                         step_s: float) -> tuple[float, float]:
    """(current through the fuse in A, time from the fault to the blow in s) from an OpenDSS time simulation."""
    current_a = _opendss_fuse(dss, link, rating_a, fault_r_ohm, delay_s, step_s)
    fuses = dss.ActiveCircuit.Fuses
    for steps in range(1, 5000):
        dss.Text.Command = "solve"
        fuses.Name = "fz"
        if fuses.IsBlown():
            return current_a, steps * step_s
    raise AssertionError("OpenDSS fuse did not blow")


CASES = [  # (link, rating A, fault resistance ohm, OpenDSS Delay s): multiples from 2.3 to beyond the last point
    (FuseLinkType.T, 65, 5.0, 0.0),
    (FuseLinkType.T, 25, 5.0, 0.0),
    (FuseLinkType.T, 100, 25.0, 0.0),
    (FuseLinkType.T, 10, 5.0, 0.0),
    (FuseLinkType.K, 40, 5.0, 0.0),
    (FuseLinkType.K, 15, 60.0, 0.0),
    (FuseLinkType.K, 100, 8.0, 0.05),
    (FuseLinkType.K, 6, 2.0, 0.0),
]


@pytest.mark.parametrize("link, rating_a, fault_r_ohm, delay_s", CASES)
def test_clearing_time_matches_an_opendss_fuse_within_its_time_step(dss, link, rating_a, fault_r_ohm, delay_s):
    settings = FuseSettings(rating_a, link, clearing_delay_s=delay_s)
    current_a = _opendss_fuse(dss, link, rating_a, fault_r_ohm, delay_s, 1e-3)
    expected_s = settings.clear_time_s(current_a)
    step_s = expected_s / 1000.0  # OpenDSS's resolution: 0.1 % of the time
    opendss_current_a, opendss_s = _opendss_blow_time_s(dss, link, rating_a, fault_r_ohm, delay_s, step_s)
    assert opendss_current_a == pytest.approx(current_a, rel=1e-9)
    assert expected_s <= opendss_s * (1 + 1e-9) and opendss_s - expected_s < step_s * (1 + 1e-6)
    # the element, fed the same constant current, clears at exactly the curve time
    fuse = Fuse("sw", settings)
    assert fuse.step(0.0, current_a) == []
    assert fuse.next_event_time_s() == pytest.approx(expected_s, rel=1e-12)
    assert fuse.step(expected_s, current_a) == [TripBreaker("sw")]
    assert fuse.melt_time_s == pytest.approx(settings.melt_time_s(current_a), rel=1e-12)


def test_melting_time_does_not_depend_on_how_often_the_current_is_sampled():
    settings = FuseSettings(25, FuseLinkType.K)
    current_a = 25 * 3.5
    melt_s = settings.melt_time_s(current_a)
    fuse = Fuse("sw", settings)
    for k in range(7):  # sampled at irregular instants before melting
        fuse.step(melt_s * k / 9.3, current_a)
    assert not fuse.melted and 0 < fuse.damage < 1
    fuse.step(melt_s * 2, current_a)
    assert fuse.melt_time_s == pytest.approx(melt_s, rel=1e-12)
    assert fuse.i2t_a2s == pytest.approx(current_a**2 * melt_s, rel=1e-12)


def test_below_the_minimum_melting_current_the_link_never_melts_and_cools():
    settings = FuseSettings(65, FuseLinkType.T, cooling_time_constant_s=2.0)
    assert settings.minimum_melting_current_a == 130.0
    assert math.isinf(settings.melt_time_s(129.9)) and settings.melt_time_s(130.0) == pytest.approx(300.0, rel=1e-12)
    fuse = Fuse("sw", settings)
    fault_a = 65 * 10
    fuse.step(0.0, fault_a)
    fuse.step(0.5 * settings.melt_time_s(fault_a), 100.0)  # half-way to melting, then load current
    assert fuse.damage == pytest.approx(0.5, rel=1e-12)
    fuse.step(0.5 * settings.melt_time_s(fault_a) + 2.0, 100.0)  # one time constant later
    assert fuse.damage == pytest.approx(0.5 * math.exp(-1.0), rel=1e-12)
    assert math.isinf(fuse.next_event_time_s()) and not fuse.melted


def test_heating_memory_melts_a_link_on_repeated_shots_each_shorter_than_its_melting_time():
    settings = FuseSettings(40, FuseLinkType.T, cooling_time_constant_s=1.0)
    fault_a = 40 * 12
    melt_s = settings.melt_time_s(fault_a)
    shot_s, dead_s = 0.6 * melt_s, 0.1
    fuse = Fuse("sw", settings)
    fuse.step(0.0, fault_a)
    fuse.step(shot_s, 0.0)
    fuse.step(shot_s + dead_s, fault_a)  # second shot after a short dead time
    left = 1.0 - 0.6 * math.exp(-dead_s)
    fuse.step(shot_s + dead_s + shot_s, 0.0)
    assert fuse.melt_time_s == pytest.approx(shot_s + dead_s + left * melt_s, rel=1e-12)


def test_a_blown_fuse_stays_open_until_replaced():
    fuse = Fuse("sw", FuseSettings(10, FuseLinkType.K))
    fuse.step(0.0, 1000.0)
    assert fuse.step(1.0, 1000.0) == [TripBreaker("sw")] and fuse.blown
    assert fuse.step(2.0, 0.0) == [] and math.isinf(fuse.next_event_time_s())
    fuse.replace()
    assert not fuse.melted and fuse.damage == 0.0 and fuse.i2t_a2s == 0.0


def test_settings_refuse_impossible_links():
    with pytest.raises(ValueError):
        FuseSettings(0, FuseLinkType.K)
    with pytest.raises(ValueError):
        FuseSettings(10, FuseLinkType.K, clearing_delay_s=-1)


IEEE_EI, IEEE_VI = Curve.IEEE_EXTREMELY_INVERSE.curve, Curve.IEEE_VERY_INVERSE.curve


def _recloser(pickup_a: float, curve, dial: float):
    return lambda current_a: curve.operate_time_s(current_a / pickup_a, dial)


def test_cooper_factors_are_the_published_ones():
    # Cooper R240-30-3 / Eaton TD132010EN: 1.35 for two fast operations, 1.20 for one
    assert FAST_CURVE_FACTORS == {1: 1.20, 2: 1.35}


@pytest.mark.parametrize("margin, melts", [(0.999, False), (1.001, True)])
def test_default_cooling_makes_coopers_two_fast_shot_factor_the_melting_boundary(margin, melts):
    settings = FuseSettings(25, FuseLinkType.K)
    fault_a = 25 * 8
    shot_s = margin * settings.melt_time_s(fault_a) / FAST_CURVE_FACTORS[2]
    fuse = Fuse("sw", settings)
    fuse.step(0.0, fault_a)
    fuse.step(shot_s, 0.0)
    fuse.step(shot_s + REFERENCE_DEAD_TIME_S, fault_a)
    fuse.step(2 * shot_s + REFERENCE_DEAD_TIME_S, 0.0)
    assert fuse.melted is melts


def test_coordination_check_applies_the_factor_for_the_number_of_fast_operations():
    fuse = FuseSettings(65, FuseLinkType.T, clearing_delay_s=0.02)
    fast, delayed = _recloser(200, IEEE_EI, 0.1), _recloser(200, IEEE_VI, 0.5)
    check = check_coordination(fuse, 1150.0, fast, delayed, 2)
    assert check.factor == 1.35 and check.fuse_saving and check.fuse_blowing
    assert check.fuse_melt_s >= 1.35 * check.recloser_fast_s
    # a slower fast curve: the link would melt before the second fast shot clears
    slow_fast = _recloser(200, IEEE_EI, 0.14)
    assert slow_fast(1150.0) < fuse.melt_time_s(1150.0)  # faster than the link from cold ...
    assert not check_coordination(fuse, 1150.0, slow_fast, delayed, 2).fuse_saving  # ... but inside the factor
    assert check_coordination(fuse, 1150.0, slow_fast, delayed, 1).factor == 1.20
    with pytest.raises(ValueError):
        check_coordination(fuse, 1150.0, fast, delayed, 3)


@pytest.mark.parametrize("params", [{"rating_a": 33}, {"link_type": "X"}, {"clearing_delay_s": -0.1},
                                    {"cooling_time_constant_s": 0}])
def test_fuse_params_refuse_links_that_do_not_exist(params):
    from pydantic import ValidationError

    from devices.config import FuseParams

    with pytest.raises(ValidationError):
        FuseParams.model_validate(params)


def test_fuse_params_give_the_link_and_its_registers():
    from devices.config import FuseParams

    params = FuseParams.model_validate({"rating_a": 40, "link_type": "K", "clearing_delay_s": 0.01})
    assert params.fuse_settings().name == "40K"
    assert params.register_values() == {"rating_a": 40, "link_type": 1, "clearing_delay_s": 0.01}
