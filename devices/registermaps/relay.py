"""Protective relay (ANSI 50/51 feeder relay) with breaker control.

Measurements in input registers (primary amperes and volts), 50/51 settings
in holding registers marked as protection settings (writable only when the
scenario allows remote setting changes), momentary trip/close command coils
(the device clears a command coil after acting on it), status in discrete
inputs. The sequence-of-events window (devices.soe) starts at input register
1000: count, newest sequence number, then 16 records of 12 registers (newest
first) with the UTC time stamp, event, element and the currents at the event.
"""

from devices.registermap import Point, RegisterMap, WordOrder
from devices.soe import soe_points
from devices.registermaps._tables import BOOL, CO, DI, HR, IR, RW, U16, U32
from devices.registermaps.codes import CURVE_CODES, RESET_MODE_CODES, describe

POINTS: tuple[Point, ...] = (
    Point("current_a_a", IR, 0, U16, 1.0, "A", description="Phase A current, primary RMS (saturates at 65535 A)"),
    Point("current_b_a", IR, 1, U16, 1.0, "A", description="Phase B current, primary RMS"),
    Point("current_c_a", IR, 2, U16, 1.0, "A", description="Phase C current, primary RMS"),
    Point("current_n_a", IR, 3, U16, 1.0, "A", description="Residual (neutral) current, primary RMS"),
    Point("voltage_ab_v", IR, 4, U16, 1.0, "V", description="Bus voltage A-B, primary RMS"),
    Point("last_fault_current_a", IR, 5, U32, 1.0, "A", description="Largest phase current of the last trip"),
    Point("last_trip_time_s", IR, 7, U32, 0.001, "s", description="Simulated time of the last trip"),
    Point("trip_count", IR, 9, U16, description="Trips since the counter was cleared: protection and remote (trip_command) trips"),
    Point("pickup_51_a", HR, 0, U16, 1.0, "A", RW, 1, 6000, True, default=600,
          description="51 pickup current, primary"),
    Point("curve_51", HR, 1, U16, 1.0, "", RW, 1, 7, True, default=2,
          description="51 curve: " + describe(CURVE_CODES)),
    Point("time_dial_51", HR, 2, U16, 0.01, "", RW, 0.05, 15.0, True, default=1.0,
          description="51 time dial (IEEE TD) or time multiplier (IEC TMS)"),
    Point("reset_mode_51", HR, 3, U16, 1.0, "", RW, 0, 1, True, default=0,
          description="51 reset: " + describe(RESET_MODE_CODES)),
    Point("pickup_50_a", HR, 4, U16, 1.0, "A", RW, 0, 65000, True, default=0,
          description="50 pickup current, primary; 0 disables the element"),
    Point("delay_50_s", HR, 5, U16, 0.01, "s", RW, 0.0, 10.0, True, default=0.0,
          description="50 definite-time delay"),
    Point("trip_command", CO, 0, BOOL, access=RW, description="Write 1: trip the breaker (momentary)"),
    Point("close_command", CO, 1, BOOL, access=RW, description="Write 1: close the breaker (momentary)"),
    Point("protection_enabled", CO, 2, BOOL, access=RW, protection_setting=True, default=True,
          description="0 blocks all trips by the protection elements"),
    Point("breaker_closed", DI, 0, BOOL, default=True, description="Breaker position: 1 closed"),
    Point("trip_output", DI, 1, BOOL, description="Protection trip output asserted"),
    Point("pickup_51", DI, 2, BOOL, description="51 element above pickup (timing)"),
    Point("pickup_50", DI, 3, BOOL, description="50 element above pickup"),
)


def relay_map() -> RegisterMap:
    """The 50/51 protective relay's register map."""
    return RegisterMap("protective relay", POINTS + soe_points(), WordOrder.BIG, description=__doc__ or "")
