"""Settings registers drive the state machines, and combinations they cannot run are refused with 03."""

import pytest

from cosim.comm.modbus.datamodel import ExceptionCode, ModbusError, ModbusTable
from devices.capacitorcontrol import ControlMode
from devices.protection.curves import Curve
from devices.protection.overcurrent import ResetMode
from devices.registermaps import DeviceKind, standard_map
from devices.registerstore import RegisterStore
from devices.settingsbinding import (
    capacitor_settings,
    recloser_settings,
    relay_settings,
    sectionalizer_settings,
    settings_check,
)

HR = ModbusTable.HOLDING_REGISTERS
CO = ModbusTable.COILS


def test_default_registers_give_runnable_settings_for_every_kind():
    relay = RegisterStore(standard_map(DeviceKind.PROTECTIVE_RELAY))
    time_overcurrent, instantaneous = relay_settings(relay.get)
    assert time_overcurrent.curve is Curve.IEEE_VERY_INVERSE.curve and instantaneous is None
    recloser = recloser_settings(RegisterStore(standard_map(DeviceKind.RECLOSER)).get)
    assert recloser.operations_to_lockout == 4 and recloser.reclose_intervals_s == (2.0, 5.0, 10.0)
    assert sectionalizer_settings(RegisterStore(standard_map(DeviceKind.SECTIONALIZER)).get).counts_to_open == 2
    capacitor = capacitor_settings(RegisterStore(standard_map(DeviceKind.CAPACITOR_BANK_CONTROLLER)).get)
    assert capacitor is not None and capacitor.mode is ControlMode.VOLTAGE


def test_a_master_retunes_the_relay_when_allowed():
    relay = RegisterStore(standard_map(DeviceKind.PROTECTIVE_RELAY), protection_writes_allowed=True)
    relay.add_write_check(settings_check(relay, relay_settings))
    relay.write(HR, 0, [800, 3, 250, 1])  # pickup 800 A, IEEE EI, TD 2.5, electromechanical reset
    time_overcurrent, _ = relay_settings(relay.get)
    assert (time_overcurrent.pickup_a, time_overcurrent.time_dial) == (800.0, 2.5)
    assert time_overcurrent.reset_mode is ResetMode.ELECTROMECHANICAL


def test_an_iec_curve_with_electromechanical_reset_is_refused_whole():
    relay = RegisterStore(standard_map(DeviceKind.PROTECTIVE_RELAY), protection_writes_allowed=True)
    relay.add_write_check(settings_check(relay, relay_settings))
    relay.write(HR, 3, [1])                  # electromechanical reset with IEEE VI: fine
    with pytest.raises(ModbusError) as caught:
        relay.write(HR, 1, [4])              # IEC standard inverse has no such reset
    assert caught.value.code is ExceptionCode.ILLEGAL_DATA_VALUE
    assert relay.get("curve_51") == 2


def test_recloser_needs_at_least_one_and_at_most_four_trips():
    recloser = RegisterStore(standard_map(DeviceKind.RECLOSER), protection_writes_allowed=True)
    recloser.add_write_check(settings_check(recloser, recloser_settings))
    with pytest.raises(ModbusError):
        recloser.write(HR, 5, [0, 0])
    with pytest.raises(ModbusError):
        recloser.write(HR, 5, [3, 2])
    recloser.write(HR, 5, [1, 2])
    assert recloser_settings(recloser.get).operations_to_lockout == 3


def test_non_reclosing_mode_is_one_trip_to_lockout():
    recloser = RegisterStore(standard_map(DeviceKind.RECLOSER), protection_writes_allowed=True)
    recloser.write(CO, 3, [0])
    settings = recloser_settings(recloser.get)
    assert settings.operations_to_lockout == 1 and settings.reclose_intervals_s == ()
