"""Recloser stories: temporary and permanent faults, lockout, reset, and a sectionalizer downstream."""

import math

import pytest

from devices.intents import CloseBreaker, OpenSwitch, TripBreaker
from devices.protection.curves import Curve
from devices.protection.overcurrent import TimeOvercurrentSettings
from devices.protection.recloser import Recloser, RecloserSettings, RecloserState
from devices.protection.sectionalizer import Sectionalizer, SectionalizerSettings

FAST = TimeOvercurrentSettings(400.0, Curve.IEEE_EXTREMELY_INVERSE.curve, time_dial=0.1)
DELAYED = TimeOvercurrentSettings(400.0, Curve.IEEE_VERY_INVERSE.curve, time_dial=1.0)
SETTINGS = RecloserSettings(FAST, DELAYED, 2, 2, reclose_intervals_s=(2.0, 5.0, 10.0), reset_time_s=30.0)
FAULT_A = 2000.0
LOAD_A = 150.0


class Feeder:
    """A radial feeder in one line of state: recloser, optional sectionalizer, optional fault beyond it.

    The electrical 'solution' is trivial: fault current flows when every
    device between source and fault is closed, load current otherwise, none
    when the recloser is open.
    """

    def __init__(self, recloser, sectionalizer=None):
        self.recloser, self.sectionalizer = recloser, sectionalizer
        self.recloser_closed = True
        self.sectionalizer_closed = True
        self.fault = False
        self.log = []

    def recloser_current(self):
        if not self.recloser_closed:
            return 0.0
        return FAULT_A if self.fault and self.sectionalizer_closed else LOAD_A

    def sectionalizer_current(self):
        if not (self.recloser_closed and self.sectionalizer_closed):
            return 0.0
        return FAULT_A if self.fault else LOAD_A / 2

    def apply(self, time_s, intents):
        for intent in intents:
            self.log.append((time_s, intent))
            if isinstance(intent, TripBreaker):
                self.recloser_closed = False
            elif isinstance(intent, CloseBreaker):
                self.recloser_closed = True
            elif isinstance(intent, OpenSwitch):
                self.sectionalizer_closed = False

    def step_all(self, time_s):
        """Step every device at time_s until the grid state settles (as a device process would)."""
        for _ in range(10):
            intents = self.recloser.step(time_s, self.recloser_current())
            self.apply(time_s, intents)
            if self.sectionalizer is not None:
                s_intents = self.sectionalizer.step(time_s, self.sectionalizer_current())
                self.apply(time_s, s_intents)
                intents = intents + s_intents
            if not intents:
                return

    def run(self, until_s, events=()):
        """Discrete-event loop: wake at the earliest device event or scheduled grid event."""
        events = sorted(events)
        time_s = 0.0
        self.step_all(time_s)
        while True:
            wakes = [self.recloser.next_event_time_s()]
            if self.sectionalizer is not None:
                wakes.append(self.sectionalizer.next_event_time_s())
            if events:
                wakes.append(events[0][0])
            time_s = min(wakes)
            if time_s > until_s:
                return
            while events and events[0][0] <= time_s:
                events.pop(0)[1](self)
            self.step_all(time_s)


def fault_on(feeder):
    feeder.fault = True


def fault_off(feeder):
    feeder.fault = False


T_FAST = FAST.curve.operate_time_s(FAULT_A / 400.0, 0.1)
T_DELAYED = DELAYED.curve.operate_time_s(FAULT_A / 400.0, 1.0)


def test_temporary_fault_is_cleared_by_the_first_fast_shot():
    feeder = Feeder(Recloser("r1", SETTINGS))
    # The fault (a branch touching the line) burns clear while the recloser is open.
    feeder.run(100.0, [(1.0, fault_on), (1.0 + T_FAST + 0.5, fault_off)])
    assert [(t, i) for t, i in feeder.log] == [
        (pytest.approx(1.0 + T_FAST), TripBreaker("r1")),
        (pytest.approx(1.0 + T_FAST + 2.0), CloseBreaker("r1")),
    ]
    assert feeder.recloser.state is RecloserState.CLOSED
    assert feeder.recloser.operations == 0  # reset 30 s after the successful reclose


def test_permanent_fault_drives_the_recloser_to_lockout_after_2_fast_and_2_delayed():
    feeder = Feeder(Recloser("r1", SETTINGS))
    feeder.run(1000.0, [(1.0, fault_on)])
    trips = [t for t, i in feeder.log if isinstance(i, TripBreaker)]
    closes = [t for t, i in feeder.log if isinstance(i, CloseBreaker)]
    assert len(trips) == 4 and len(closes) == 3
    assert trips[1] - closes[0] == pytest.approx(T_FAST)
    assert trips[2] - closes[1] == pytest.approx(T_DELAYED)
    assert feeder.recloser.locked_out
    total = 2 * T_FAST + 2 * T_DELAYED + 2.0 + 5.0 + 10.0
    assert feeder.recloser.lockout_time_s == pytest.approx(1.0 + total)


def test_lockout_needs_a_remote_reset_then_a_remote_close():
    feeder = Feeder(Recloser("r1", SETTINGS))
    feeder.run(1000.0, [(1.0, fault_on)])
    recloser = feeder.recloser
    assert recloser.remote_close(1000.0) == []        # refused while locked out
    assert recloser.next_event_time_s() == math.inf
    recloser.reset_lockout(1001.0)
    assert recloser.state is RecloserState.OPEN and recloser.operations == 0
    assert recloser.remote_close(1002.0) == [CloseBreaker("r1")]


def test_a_second_fault_after_the_reset_time_starts_a_fresh_sequence():
    feeder = Feeder(Recloser("r1", SETTINGS))
    first_clear = 1.0 + T_FAST + 0.5
    feeder.run(200.0, [(1.0, fault_on), (first_clear, fault_off), (100.0, fault_on), (100.0 + T_FAST + 0.5, fault_off)])
    trips = [t for t, i in feeder.log if isinstance(i, TripBreaker)]
    assert trips == [pytest.approx(1.0 + T_FAST), pytest.approx(100.0 + T_FAST)]  # fast curve both times


def test_sectionalizer_opens_during_the_dead_time_after_its_second_count():
    feeder = Feeder(
        Recloser("r1", SETTINGS),
        Sectionalizer("s1", SectionalizerSettings(counts_to_open=2, actuating_current_a=300.0, reset_time_s=60.0)),
    )
    feeder.run(200.0, [(1.0, fault_on)])
    opens = [t for t, i in feeder.log if isinstance(i, OpenSwitch)]
    trips = [t for t, i in feeder.log if isinstance(i, TripBreaker)]
    closes = [t for t, i in feeder.log if isinstance(i, CloseBreaker)]
    assert len(trips) == 2 and len(opens) == 1
    assert trips[1] <= opens[0] < closes[1]       # opened while the recloser was open
    assert feeder.recloser.state is RecloserState.CLOSED and not feeder.recloser.locked_out
    assert feeder.recloser_current() == LOAD_A    # healthy part of the feeder restored


def test_settings_must_give_one_interval_per_reclose():
    with pytest.raises(ValueError, match="reclose intervals"):
        RecloserSettings(FAST, DELAYED, 2, 2, reclose_intervals_s=(2.0, 5.0))


def test_remote_trip_stays_open():
    recloser = Recloser("r1", SETTINGS)
    assert recloser.remote_trip(3.0) == [TripBreaker("r1")]
    assert recloser.state is RecloserState.OPEN and recloser.next_event_time_s() == math.inf


def test_with_no_fast_operations_every_trip_times_on_the_delayed_curve():
    # fuse blowing: the fast shots are blocked, so even the first trip waits for the delayed curve
    settings = RecloserSettings(FAST, DELAYED, 0, 2, reclose_intervals_s=(2.0,), reset_time_s=30.0)
    recloser = Recloser("rec", settings)
    delayed_s = DELAYED.curve.operate_time_s(FAULT_A / 400.0, DELAYED.time_dial)
    assert recloser.step(0.0, FAULT_A) == []
    assert recloser.next_event_time_s() == pytest.approx(delayed_s, rel=1e-12)
    assert recloser.step(delayed_s, FAULT_A) == [TripBreaker("rec")]
    assert recloser.step(delayed_s + 2.0, 0.0) == [CloseBreaker("rec")]
    recloser.step(delayed_s + 2.0, FAULT_A)
    assert recloser.next_event_time_s() == pytest.approx(2 * delayed_s + 2.0, rel=1e-12)
