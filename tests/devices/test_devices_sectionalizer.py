"""Sectionalizer counting on its own: counts, reset time, inrush-free load changes, remote close."""

from devices.intents import CloseSwitch, OpenSwitch
from devices.protection.sectionalizer import Sectionalizer, SectionalizerSettings

SETTINGS = SectionalizerSettings(counts_to_open=3, actuating_current_a=300.0, dead_current_a=0.5, reset_time_s=30.0)


def interruption(sectionalizer, at_s):
    """Fault current, then the upstream recloser opens."""
    sectionalizer.step(at_s, 2000.0)
    return sectionalizer.step(at_s + 0.1, 0.0)


def test_load_current_dropping_to_zero_is_not_a_count():
    sectionalizer = Sectionalizer("s1", SETTINGS)
    sectionalizer.step(0.0, 200.0)
    sectionalizer.step(1.0, 0.0)
    assert sectionalizer.count == 0


def test_counts_are_forgotten_after_the_reset_time():
    sectionalizer = Sectionalizer("s1", SETTINGS)
    interruption(sectionalizer, 0.0)
    interruption(sectionalizer, 2.0)
    assert sectionalizer.count == 2
    sectionalizer.step(5.0, 100.0)
    assert sectionalizer.next_event_time_s() == 2.1 + 30.0
    sectionalizer.step(32.1, 100.0)
    assert sectionalizer.count == 0
    assert interruption(sectionalizer, 40.0) == []   # a fresh first count, not the third


def test_opens_on_the_third_count_and_closes_by_command():
    sectionalizer = Sectionalizer("s1", SETTINGS)
    assert interruption(sectionalizer, 0.0) == []
    assert interruption(sectionalizer, 2.0) == []
    assert interruption(sectionalizer, 7.0) == [OpenSwitch("s1")]
    assert sectionalizer.is_open and sectionalizer.open_time_s == 7.1
    assert sectionalizer.step(20.0, 0.0) == []
    assert sectionalizer.remote_close(3600.0) == [CloseSwitch("s1")]
    assert sectionalizer.count == 0 and not sectionalizer.is_open
