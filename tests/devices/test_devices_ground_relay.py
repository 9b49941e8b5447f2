"""Ground (50N/51N, 50G/51G), negative-sequence (50Q/51Q, ANSI 46) and directional (67N, 67) relay elements,
and the breaker operating time, from the logic up to a relay in a run with SLG and LL faults.

Trip times are checked against the standards' formulas with their constants
written out here (IEEE C37.112-2018 Table 1, IEC 60255-151:2009 Table 1), at
sequence currents computed in the test by hand from the grid data
(symmetrical components: I0 = E / (Z1 + Z2 + Z0) for SLG, I2 = -E / (Z1 + Z2)
for LL), not read back from the simulator.
"""

from __future__ import annotations

import cmath
import math

import pytest

from devices.intents import TripBreaker
from devices.protection.curves import Curve
from devices.protection.directional import Direction, DirectionalSettings, looking, torque
from devices.protection.multifunction import ElementSettings, Measurands, MultifunctionRelay, Quantity
from devices.protection.overcurrent import InstantaneousSettings, TimeOvercurrentSettings
from devworlds import scenario_file, start


def ieee_vi(m: float, td: float) -> float:  # IEEE C37.112-2018 Table 1, very inverse: A 19.61, B 0.491, p 2
    return td * (19.61 / (m ** 2 - 1) + 0.491)


def ieee_ei(m: float, td: float) -> float:  # extremely inverse: A 28.2, B 0.1217, p 2
    return td * (28.2 / (m ** 2 - 1) + 0.1217)


def iec_si(m: float, tms: float) -> float:  # IEC 60255-151 Table 1, standard inverse: k 0.14, alpha 0.02
    return tms * 0.14 / (m ** 0.02 - 1)


def polar(magnitude: float, degrees: float) -> complex:
    return cmath.rect(magnitude, math.radians(degrees))


# -- the logic ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, quantity, curve, formula, sample, operating_a", [
    ("51N", Quantity.RESIDUAL, Curve.IEEE_VERY_INVERSE, ieee_vi, Measurands(400.0, i0=polar(150.0, -80)), 450.0),
    ("51G", Quantity.GROUND, Curve.IEEE_EXTREMELY_INVERSE, ieee_ei, Measurands(400.0, i0=polar(90.0, 10)), 270.0),
    ("51Q", Quantity.NEGATIVE, Curve.IEC_STANDARD_INVERSE, iec_si, Measurands(900.0, i2=polar(250.0, 30)), 750.0),
])
def test_time_elements_trip_at_their_curve_time(name, quantity, curve, formula, sample, operating_a) -> None:
    pickup, dial = 100.0, 0.4
    relay = MultifunctionRelay("cb", [ElementSettings(name, quantity, TimeOvercurrentSettings(pickup, curve.curve, dial))])
    assert relay.step(10.0, sample) == []
    expected = formula(operating_a / pickup, dial)
    assert relay.next_event_time_s() == pytest.approx(10.0 + expected, rel=1e-12)
    assert relay.step(10.0 + expected, sample) == [TripBreaker("cb")]
    assert relay.trip_time_s == pytest.approx(10.0 + expected, rel=1e-12)
    assert relay.tripped_elements == (name,)


def test_phase_element_ignores_a_ground_current_below_its_pickup() -> None:
    relay = MultifunctionRelay("cb", [
        ElementSettings("51", Quantity.PHASE, TimeOvercurrentSettings(600.0, Curve.IEEE_VERY_INVERSE.curve)),
        ElementSettings("50N", Quantity.RESIDUAL, InstantaneousSettings(200.0, 0.1))])
    sample = Measurands(450.0, i0=polar(100.0, -70))  # 3I0 = 300 A, phase 450 A below 600 A
    relay.step(0.0, sample)
    assert relay.next_event_time_s() == pytest.approx(0.1)
    assert relay.step(0.1, sample) == [TripBreaker("cb")] and relay.tripped_elements == ("50N",)


def test_ground_direction_from_residual_current_against_minus_v0() -> None:
    """A forward earth fault: I0 lags -V0 by the source's zero-sequence angle (80 deg); a reverse one leads it by 100."""
    v0 = polar(2000.0, 200.0)
    forward_i0 = 3 * polar(300.0, 200.0 + 180.0 - 80.0)
    settings = DirectionalSettings(Direction.FORWARD, mta_deg=75.0, min_polarising_v=100.0)
    assert looking(forward_i0, -3 * v0, settings) is Direction.FORWARD
    assert looking(-forward_i0, -3 * v0, settings) is Direction.REVERSE
    assert torque(forward_i0, -3 * v0, 80.0) == pytest.approx(abs(forward_i0) * abs(3 * v0))  # maximum torque
    assert looking(forward_i0, polar(50.0, 0.0), settings) is None  # too little polarising voltage


@pytest.mark.parametrize("direction, trips_forward, trips_reverse", [
    (Direction.FORWARD, True, False), (Direction.REVERSE, False, True), (Direction.NON_DIRECTIONAL, True, True)])
def test_67n_operates_only_for_its_direction(direction, trips_forward, trips_reverse) -> None:
    v0 = polar(1500.0, -170.0)
    i0_forward = polar(200.0, -170.0 + 180.0 - 75.0)
    for i0, expect in ((i0_forward, trips_forward), (-i0_forward, trips_reverse)):
        relay = MultifunctionRelay("cb", [ElementSettings(
            "51N", Quantity.RESIDUAL, TimeOvercurrentSettings(100.0, Curve.IEEE_VERY_INVERSE.curve, 0.5),
            DirectionalSettings(direction, 75.0, 100.0))])
        sample = Measurands(600.0, i0=i0, v0=v0)
        relay.step(0.0, sample)
        relay.step(100.0, sample)
        assert relay.tripped is expect


def test_67_phase_element_uses_positive_sequence() -> None:
    settings = DirectionalSettings(Direction.FORWARD, mta_deg=60.0, min_polarising_v=100.0)
    v1 = polar(5000.0, 0.0)
    assert looking(polar(2000.0, -65.0), v1, settings) is Direction.FORWARD
    assert looking(polar(2000.0, 115.0), v1, settings) is Direction.REVERSE


# -- a relay in a run -----------------------------------------------------------------------------
# An 11 kV bus fed by a source with x''d = 0.1 pu (100 MVA base) and X0/X = 3, R0/X0 = 1 (a network feeder's
# ratios, an impedance-earthed source); line l1 to b1 (the protected line, relay at cb1); line l2 to b2 with a YNd earthing transformer (relay
# at cb2). No loads and no charging: every bus is at 1.0 pu before a fault.
KV = 11.0
Z_BASE = KV ** 2 / 100.0
Z1S = 1j * 0.1 * Z_BASE
Z0S = (1.0 + 1j) * 3.0 * 0.1 * Z_BASE  # X0/X = 3, R0/X0 = 1: an impedance-earthed source
Z1L, Z0L = 0.6 + 0.7j, 1.8 + 2.1j
Z_ET = (0.005 + 1j * math.sqrt(0.06 ** 2 - 0.005 ** 2)) * KV ** 2 / 20.0  # vk0 6 %, vkr0 0.5 % on 20 MVA
E = KV * 1000.0 / math.sqrt(3.0)

GRID = """
grid:
  base_mva: 100
  frequency_hz: 50
  buses:
    - {name: src, base_kv: 11}
    - {name: b1, base_kv: 11}
    - {name: b2, base_kv: 11}
    - {name: b2d, base_kv: 0.4}
  generators:
    - {name: source, bus: src, slack: true, vm_pu: 1.0, xdss_pu: 0.2, mbase_mva: 200}
  feeders:
    - {name: upstream, bus: src, s_sc_max_mva: 1000, x0x_max: 3.0, r0x0_max: 1.0}
  transformers:
    - {name: et, hv_bus: b2, lv_bus: b2d, sn_mva: 20, vk_percent: 6, vkr_percent: 0.5, vector_group: YNd,
       vk0_percent: 6, vkr0_percent: 0.5}
  lines:
    - {name: l1, from_bus: src, to_bus: b1, r_ohm: 0.6, x_ohm: 0.7, r0_ohm: 1.8, x0_ohm: 2.1}
    - {name: l2, from_bus: src, to_bus: b2, r_ohm: 0.6, x_ohm: 0.7, r0_ohm: 1.8, x0_ohm: 2.1}
  switches:
    - {name: cb1, branch: l1, bus: src, kind: breaker}
    - {name: cb2, branch: l2, bus: src, kind: breaker}
"""
RELAY = """
- id: {id}
  kind: protective_relay
  switch: {switch}
  params: {{pickup_51_a: 6000, time_dial: 15, pickup_51n_a: 300, curve_51n: ieee_very_inverse, time_dial_51n: {dial},
            pickup_51q_a: 400, curve_51q: iec_standard_inverse, time_dial_51q: 0.3, direction_ground: {direction},
            mta_ground_deg: 80, breaker_time_s: 0.05}}
"""
T0 = 10.0


def run_fault(tmp_path, fault: str, direction: str = "forward", dial_1: float = 0.5, dial_2: float = 0.5):
    devices = RELAY.format(id="relay1", switch="cb1", direction="forward", dial=dial_1) + \
        RELAY.format(id="relay2", switch="cb2", direction=direction, dial=dial_2)
    path = scenario_file(tmp_path, devices, grid=GRID, comm="", duration="10min",
                         events=f"- {{at: {T0}, kind: fault, target: bus/b1, params: {fault}}}\n")
    return start(path).run(40.0)


def test_slg_fault_trips_51n_at_its_curve_time_and_the_breaker_opens_after_its_operating_time(tmp_path) -> None:
    z0_behind = 1.0 / (1.0 / Z0S + 1.0 / (Z0L + Z_ET))
    i0 = E / (2 * (Z1S + Z1L) + Z0L + z0_behind)  # all of it through l1 (the only path to b1)
    residual = 3 * abs(i0)
    run = run_fault(tmp_path, "{type: slg, phases: [b]}")
    (trip,) = [t for t in run.of_kind("relay_trip") if t["device"] == "relay1"]
    assert trip["element"] == "51N"
    assert trip["residual_a"] == pytest.approx(residual, rel=1e-9)
    assert trip["trip_time_s"] - T0 == pytest.approx(ieee_vi(residual / 300.0, 0.5), rel=1e-9)
    (opened,) = run.of_kind("relay_breaker_opened")
    assert opened["open_time_s"] == pytest.approx(trip["trip_time_s"] + 0.05, rel=1e-12)
    (action,) = [a for a in run.of_kind("device_action") if a["device"] == "relay1"]
    assert action["time_s"] == pytest.approx(opened["open_time_s"], rel=1e-12) and action["closed"] is False
    # The healthy feeder's relay sees the earthing transformer's 3I0 flowing back: reverse, so its 67N holds.
    assert not [t for t in run.of_kind("relay_trip") if t["device"] == "relay2"]
    back = residual * abs(Z0S / (Z0S + Z0L + Z_ET))
    assert back > 300.0  # above its 51N pickup: it would have tripped had it been non-directional (next test)


def test_without_direction_the_healthy_feeder_trips_sympathetically(tmp_path) -> None:
    run = run_fault(tmp_path, "{type: slg, phases: [a]}", direction="non_directional", dial_1=1.0, dial_2=0.05)
    trips = {t["device"]: t for t in run.of_kind("relay_trip")}
    assert trips["relay2"]["trip_time_s"] < trips["relay1"]["trip_time_s"]  # the healthy feeder goes out first
    z0_behind = 1.0 / (1.0 / Z0S + 1.0 / (Z0L + Z_ET))
    i0 = E / (2 * (Z1S + Z1L) + Z0L + z0_behind)
    back = 3 * abs(i0) * abs(Z0S / (Z0S + Z0L + Z_ET))
    assert trips["relay2"]["residual_a"] == pytest.approx(back, rel=1e-9)
    assert trips["relay2"]["trip_time_s"] - T0 == pytest.approx(ieee_vi(back / 300.0, 0.05), rel=1e-9)


def test_ll_fault_trips_51q_on_negative_sequence(tmp_path) -> None:
    i2 = E / (2 * (Z1S + Z1L))
    run = run_fault(tmp_path, "{type: ll, phases: [a, b]}")
    (trip,) = run.of_kind("relay_trip")
    assert trip["device"] == "relay1" and trip["element"] == "51Q" and trip["residual_a"] < 1e-6
    assert trip["trip_time_s"] - T0 == pytest.approx(iec_si(3 * abs(i2) / 400.0, 0.3), rel=1e-9)
    assert trip["current_a"] == pytest.approx(math.sqrt(3) * abs(i2), rel=1e-9)
