"""Stories of a 50/51 relay stepping on simulated-time current samples."""

import math

import pytest

from devices.intents import TripBreaker
from devices.protection.curves import Curve, DefiniteTimeCurve
from devices.protection.overcurrent import (
    InstantaneousSettings,
    OvercurrentRelay,
    ResetMode,
    TimeOvercurrentElement,
    TimeOvercurrentSettings,
)

VERY_INVERSE = Curve.IEEE_VERY_INVERSE.curve


def run_until_quiet(relay, current_a, start_s=0.0, horizon_s=1000.0):
    """Drive like a device process: one sample, then wake only at the relay's next event."""
    intents = relay.step(start_s, current_a)
    while not intents:
        wake = relay.next_event_time_s()
        if wake > start_s + horizon_s:
            return []
        intents = relay.step(wake, current_a)
    return intents


def test_td2_very_inverse_at_5x_trips_at_exactly_the_formula_time():
    relay = OvercurrentRelay("cb1", TimeOvercurrentSettings(100.0, VERY_INVERSE, time_dial=2.0))
    assert run_until_quiet(relay, 500.0) == [TripBreaker("cb1")]
    assert relay.trip_time_s == 2.0 * (19.61 / (5.0**2 - 1.0) + 0.491)


@pytest.mark.parametrize("curve", list(Curve), ids=lambda c: c.name)
@pytest.mark.parametrize("multiple", [1.1, 2.0, 7.5, 30.0])
def test_constant_current_trips_at_the_curve_time_for_every_curve(curve, multiple):
    relay = OvercurrentRelay("cb", TimeOvercurrentSettings(200.0, curve.curve, time_dial=0.7))
    run_until_quiet(relay, multiple * 200.0, start_s=10.0, horizon_s=1e5)
    assert relay.trip_time_s == pytest.approx(10.0 + curve.curve.operate_time_s(multiple, 0.7), rel=1e-12)


def test_a_late_sample_still_times_the_trip_at_the_crossing():
    element = TimeOvercurrentElement(TimeOvercurrentSettings(100.0, VERY_INVERSE))
    element.step(0.0, 300.0)
    assert element.step(100.0, 300.0)
    assert element.trip_time_s == pytest.approx(VERY_INVERSE.operate_time_s(3.0, 1.0))


def test_varying_current_trips_when_the_integral_reaches_one():
    # 2x pickup for half its operate time, then 5x: the rest takes half the 5x time.
    settings = TimeOvercurrentSettings(100.0, VERY_INVERSE, time_dial=1.0)
    element = TimeOvercurrentElement(settings)
    t2, t5 = VERY_INVERSE.operate_time_s(2.0, 1.0), VERY_INVERSE.operate_time_s(5.0, 1.0)
    element.step(0.0, 200.0)
    assert not element.step(t2 / 2, 500.0)
    assert element.travel == pytest.approx(0.5)
    assert element.next_event_time_s() == pytest.approx(t2 / 2 + t5 / 2)
    assert element.step(100.0, 500.0)
    assert element.trip_time_s == pytest.approx(t2 / 2 + t5 / 2)


def test_electromechanical_reset_unwinds_the_disk():
    settings = TimeOvercurrentSettings(100.0, VERY_INVERSE, reset_mode=ResetMode.ELECTROMECHANICAL)
    element = TimeOvercurrentElement(settings)
    t3 = VERY_INVERSE.operate_time_s(3.0, 1.0)
    element.step(0.0, 300.0)
    element.step(t3 / 2, 0.0)                    # half travelled, then current off
    reset_full = VERY_INVERSE.reset_time_s(0.0, 1.0)  # 21.6 s for the full travel
    back_on_s = t3 / 2 + reset_full / 4
    element.step(back_on_s, 300.0)  # a quarter of the full reset time: travel 0.5 -> 0.25
    assert element.travel == pytest.approx(0.25)
    assert element.next_event_time_s() == pytest.approx(back_on_s + 0.75 * t3)


def test_instantaneous_reset_forgets_at_once():
    element = TimeOvercurrentElement(TimeOvercurrentSettings(100.0, VERY_INVERSE))
    element.step(0.0, 300.0)
    element.step(1.0, 0.0)
    assert element.travel == 0.0


def test_electromechanical_reset_needs_a_curve_that_has_one():
    with pytest.raises(ValueError):
        TimeOvercurrentSettings(100.0, Curve.IEC_STANDARD_INVERSE.curve, reset_mode=ResetMode.ELECTROMECHANICAL)


def test_below_pickup_never_trips():
    relay = OvercurrentRelay("cb", TimeOvercurrentSettings(100.0, VERY_INVERSE))
    assert relay.step(0.0, 100.0) == [] and relay.step(1e6, 100.0) == []
    assert relay.next_event_time_s() == math.inf


def test_instantaneous_element_trips_at_once_and_only_once():
    relay = OvercurrentRelay(
        "cb1", TimeOvercurrentSettings(100.0, VERY_INVERSE), InstantaneousSettings(pickup_a=2000.0)
    )
    assert relay.step(5.0, 2500.0) == [TripBreaker("cb1")]
    assert relay.trip_time_s == 5.0
    assert relay.step(5.5, 2500.0) == []    # still asserted: no second intent
    assert relay.step(5.6, 0.0) == []       # breaker opened
    assert not relay.tripped


def test_definite_time_instantaneous_and_definite_curve():
    relay = OvercurrentRelay("cb", instantaneous=InstantaneousSettings(pickup_a=1000.0, delay_s=0.1))
    assert run_until_quiet(relay, 1500.0, start_s=2.0) == [TripBreaker("cb")]
    assert relay.trip_time_s == pytest.approx(2.1)
    definite = TimeOvercurrentElement(TimeOvercurrentSettings(100.0, DefiniteTimeCurve("DT", 0.25), 2.0))
    definite.step(0.0, 150.0)
    assert definite.next_event_time_s() == 0.5
