"""Capacitor bank control stories: voltage sag, band, delay, anti-hunting, var mode."""

import math

import pytest

from devices.capacitorcontrol import CapacitorControlSettings, CapacitorController, ControlMode
from devices.intents import SwitchCapacitor

VOLTAGE = CapacitorControlSettings(ControlMode.VOLTAGE, setpoint=1.0, bandwidth=0.04, time_delay_s=30.0,
                                   min_switching_interval_s=300.0)


def test_low_voltage_held_for_the_delay_closes_the_bank():
    controller = CapacitorController("cap1", VOLTAGE)
    assert controller.step(0.0, 0.97) == []         # below 0.98: timer starts
    assert controller.next_event_time_s() == 30.0
    assert controller.step(29.9, 0.97) == []
    assert controller.step(30.0, 1.00) == [SwitchCapacitor("cap1", closed=True)]
    assert controller.closed and controller.switching_count == 1


def test_a_short_sag_does_not_switch():
    controller = CapacitorController("cap1", VOLTAGE)
    controller.step(0.0, 0.97)
    controller.step(10.0, 0.99)                      # back in the band: timer cancelled
    assert controller.next_event_time_s() == math.inf
    assert controller.step(100.0, 0.99) == []


def test_minimum_time_between_switchings_prevents_hunting():
    controller = CapacitorController("cap1", VOLTAGE)
    controller.step(0.0, 0.97)
    assert controller.step(30.0, 1.03) == [SwitchCapacitor("cap1", True)]   # closing raised the voltage
    # High voltage from t=30: the delay alone would open at 60, the minimum interval holds it to 330.
    assert controller.next_event_time_s() == 330.0
    assert controller.step(200.0, 1.03) == []
    assert controller.step(330.0, 1.03) == [SwitchCapacitor("cap1", False)]
    assert controller.switching_count == 2 and controller.last_switching_s == 330.0


def test_var_mode_closes_on_lagging_demand_and_opens_on_leading():
    settings = CapacitorControlSettings(ControlMode.VAR, setpoint=0.0, bandwidth=900.0, time_delay_s=10.0,
                                        min_switching_interval_s=0.0)
    controller = CapacitorController("cap2", settings)
    controller.step(0.0, 600.0)                      # 600 kvar lagging > +450
    assert controller.step(10.0, 0.0) == [SwitchCapacitor("cap2", True)]
    controller.step(20.0, -500.0)                    # leading beyond -450 with the bank in
    assert controller.step(30.0, -500.0) == [SwitchCapacitor("cap2", False)]


def test_settings_are_checked():
    with pytest.raises(ValueError):
        CapacitorControlSettings(ControlMode.VOLTAGE, 1.0, bandwidth=0.0)
