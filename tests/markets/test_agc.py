"""The ISO's basepoint and AGC arithmetic, and the plant messages on the wire.

Reference values are worked by hand from the definitions in cosim/markets/agc.py
(participation-factor sharing with water-filling); register words are checked
against pymodbus's own 32-bit conversion, an independent implementation.
"""

import pytest
from pymodbus.client import ModbusTcpClient

from cosim.domains.plantlink import BasepointOrder, RegulationOrder, UnitTelemetry
from cosim.markets.agc import (
    RegulatingUnit,
    allocate_regulation,
    area_control_error,
    plant_basepoints,
    regulation_request,
)
from devices.plantcontrol import UnitOrders, UnitRamp

INT32 = ModbusTcpClient.DATATYPE.INT32


def test_a_plant_basepoint_is_the_sum_of_its_offers():
    sced = {"Alta": 40.0, "Park City": 113.0, "Brighton": 547.0}
    assert plant_basepoints(sced, {"gen_a": ["Alta", "Park City"], "gen_e": ["Brighton"], "gen_c": ["Solitude"]}) == \
        {"gen_a": 153.0, "gen_e": 547.0, "gen_c": 0.0}


def test_ace_is_positive_when_the_balancing_unit_carries_more_than_its_schedule():
    assert area_control_error(57.0, 50.0) == 7.0
    assert area_control_error(40.0, 50.0) == -10.0


def test_regulation_is_shared_by_participation_factors_when_no_limit_binds():
    units = [RegulatingUnit("c", 3.0, 200.0, 0.0, 520.0), RegulatingUnit("a", 1.0, 100.0, 0.0, 210.0)]
    assert allocate_regulation(40.0, units) == {"c": 30.0, "a": 10.0}
    assert allocate_regulation(-8.0, units) == {"c": -6.0, "a": -2.0}


def test_a_unit_at_its_limit_passes_the_rest_to_the_others():
    # c may rise only 5 MW (515 -> 520): it takes 5, a takes the other 35 of 40.
    units = [RegulatingUnit("c", 3.0, 515.0, 0.0, 520.0), RegulatingUnit("a", 1.0, 100.0, 0.0, 210.0)]
    assert allocate_regulation(40.0, units) == {"c": 5.0, "a": 35.0}
    # Down from a unit at its minimum: nothing from c, all of it from a, and no more than a has.
    low = [RegulatingUnit("c", 3.0, 0.0, 0.0, 520.0), RegulatingUnit("a", 1.0, 20.0, 0.0, 210.0)]
    assert allocate_regulation(-30.0, low) == {"c": 0.0, "a": -20.0}


def test_regulation_integrates_only_the_error_not_already_on_its_way():
    # 10 MW ACE, 4 MW of it already ramping in: ask for half of the other 6.
    assert regulation_request(2.0, 10.0, 4.0, 0.5) == 5.0


@pytest.mark.parametrize("mw, seq", [(466.51, 1), (-12.34, 65535), (0.0, 0)])
def test_a_basepoint_is_a_big_endian_int32_of_hundredths_and_a_sequence_number(mw, seq):
    address, words = BasepointOrder(mw, seq).encode()
    assert address == 0 and len(words) == 3
    assert ModbusTcpClient.convert_from_registers(words[:2], data_type=INT32, word_order="big") == round(mw * 100)
    assert words[2] == seq
    assert BasepointOrder.decode(words) == BasepointOrder(mw, seq)


def test_regulation_and_telemetry_round_trip_through_their_registers():
    address, words = RegulationOrder(-7.25).encode()
    assert address == 3 and ModbusTcpClient.convert_from_registers(words, data_type=INT32, word_order="big") == -725
    assert RegulationOrder.decode(words) == RegulationOrder(-7.25)
    telemetry = UnitTelemetry(210.0, -3.5, 205.5, 210.0)
    words = telemetry.encode()
    assert UnitTelemetry.request() == (0, len(words))
    assert UnitTelemetry.decode(words) == telemetry


def test_a_unit_ramps_at_its_rate_from_the_moment_it_gets_a_new_target():
    ramp = UnitRamp(100.0, time_s=0.0)
    orders = UnitOrders(basepoint_mw=130.0, regulation_mw=0.0, p_min_mw=0.0, p_max_mw=200.0, ramp_rate_mw_per_min=12.0)
    assert ramp.step(600.0, orders) == 100.0   # ten quiet minutes at the old target are no ramp already done
    assert ramp.step(630.0, orders) == 106.0   # 12 MW/min for 30 s
    assert ramp.ramping
    assert ramp.step(900.0, orders) == 130.0   # arrives and stops
    assert not ramp.ramping


def test_basepoint_plus_regulation_is_clipped_to_the_unit_limits():
    orders = UnitOrders(basepoint_mw=195.0, regulation_mw=20.0, p_min_mw=10.0, p_max_mw=200.0, ramp_rate_mw_per_min=1e6)
    assert orders.desired_mw() == 200.0 and orders.at_limit()
    manual = UnitOrders(195.0, 20.0, 10.0, 200.0, 1e6, agc_enabled=False)
    assert manual.desired_mw() == 195.0 and not manual.at_limit()
    assert UnitOrders(-5.0, 0.0, 10.0, 200.0, 1e6).desired_mw() == 10.0
