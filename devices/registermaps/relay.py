"""Protective relay (multifunction feeder relay: 50/51, 50N/51N, 50G/51G, 50Q/51Q, 67/67N/67Q) with breaker control.

Measurements in input registers (primary amperes and volts: phase currents,
the residual 3I0, the negative-sequence 3I2 and the zero-sequence voltage
3V0), settings of every element in holding registers marked as protection
settings (writable only when the scenario allows remote setting changes; a
pickup of 0 disables its element). Each element group (phase, ground N,
ground G, negative sequence Q) has a 51 (pickup, curve, time dial) and a 50
(pickup, delay); the phase, ground (N and G) and negative-sequence groups
each have a direction setting (0 non-directional, 1 forward, 2 reverse)
with a maximum torque angle: phase elements compare I1 with V1, ground
elements 3I0 with -3V0, negative-sequence ones 3I2 with -3V2. The breaker
operating time is the delay between the relay's trip decision and the
current interruption (3 cycles = 0.05 s at 60 Hz; 5 cycles = 0.083 s). Trip and close are momentary
command coils (the device clears a command coil after acting on it), status in discrete
inputs. The sequence-of-events window (devices.soe) starts at input register
1000: count, newest sequence number, then 16 records of 12 registers (newest
first) with the UTC time stamp, event, element and the currents at the event.
"""

from devices.registermap import Point, RegisterMap, WordOrder
from devices.soe import soe_points
from devices.registermaps._tables import BOOL, CO, DI, HR, IR, RW, U16, U32
from devices.registermaps.codes import CURVE_CODES, DIRECTION_CODES, RESET_MODE_CODES, describe


def _group(key: str, label: str, hr: int) -> tuple[Point, ...]:
    """The five settings of one element group (51 pickup, curve, time dial; 50 pickup, delay) from ``hr``."""
    return (
        Point(f"pickup_51{key}_a", HR, hr, U16, 0.1, "A", RW, 0, 6000, True, default=0,
              description=f"51{key.upper()} pickup ({label}), primary; 0 disables the element"),
        Point(f"curve_51{key}", HR, hr + 1, U16, 1.0, "", RW, 1, 7, True, default=2,
              description=f"51{key.upper()} curve: " + describe(CURVE_CODES)),
        Point(f"time_dial_51{key}", HR, hr + 2, U16, 0.01, "", RW, 0.05, 15.0, True, default=1.0,
              description=f"51{key.upper()} time dial (IEEE TD) or time multiplier (IEC TMS)"),
        Point(f"pickup_50{key}_a", HR, hr + 3, U16, 0.1, "A", RW, 0, 6500, True, default=0,
              description=f"50{key.upper()} pickup ({label}), primary; 0 disables the element"),
        Point(f"delay_50{key}_s", HR, hr + 4, U16, 0.01, "s", RW, 0.0, 10.0, True, default=0.0,
              description=f"50{key.upper()} definite-time delay"),
    )


def _direction(key: str, label: str, hr: int, mta: float) -> tuple[Point, ...]:
    return (
        Point(f"direction_{key}", HR, hr, U16, 1.0, "", RW, 0, 2, True, default=0,
              description=f"Direction of the {label} elements: " + describe(DIRECTION_CODES)),
        Point(f"mta_{key}_deg", HR, hr + 1, U16, 1.0, "deg", RW, 0, 90, True, default=mta,
              description=f"Maximum torque angle of the {label} directional element (operating current lagging "
                          "its polarising voltage)"),
    )

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
    Point("current_q_a", IR, 10, U16, 1.0, "A", description="Negative-sequence current 3I2, primary RMS"),
    Point("voltage_0_v", IR, 11, U16, 1.0, "V", description="Zero-sequence voltage 3V0 at the relay's bus, primary RMS"),
    *_group("n", "residual 3I0", 6),
    *_group("g", "neutral CT 3I0", 11),
    *_group("q", "negative sequence 3I2", 16),
    *_direction("phase", "phase (67: I1 against V1)", 21, 60.0),
    *_direction("ground", "ground N and G (67N: 3I0 against -3V0)", 23, 75.0),
    *_direction("negative", "negative-sequence (67Q: 3I2 against -3V2)", 25, 75.0),
    Point("min_polarising_v", HR, 27, U16, 1.0, "V", RW, 0, 10000, True, default=100,
          description="Least polarising voltage (|V1|, |3V0|, |3V2|) a directional element needs to decide"),
    Point("breaker_time_s", HR, 28, U16, 0.001, "s", RW, 0.0, 1.0, True, default=0.0,
          description="Breaker operating time: trip decision to current interruption"),
    Point("trip_command", CO, 0, BOOL, access=RW, description="Write 1: trip the breaker (momentary)"),
    Point("close_command", CO, 1, BOOL, access=RW, description="Write 1: close the breaker (momentary)"),
    Point("protection_enabled", CO, 2, BOOL, access=RW, protection_setting=True, default=True,
          description="0 blocks all trips by the protection elements"),
    Point("breaker_closed", DI, 0, BOOL, default=True, description="Breaker position: 1 closed"),
    Point("trip_output", DI, 1, BOOL, description="Protection trip output asserted"),
    Point("pickup_51", DI, 2, BOOL, description="51 element above pickup (timing)"),
    Point("pickup_50", DI, 3, BOOL, description="50 element above pickup"),
    Point("pickup_ground", DI, 4, BOOL, description="A ground element (50N/51N/50G/51G) above pickup"),
    Point("pickup_negative", DI, 5, BOOL, description="A negative-sequence element (50Q/51Q) above pickup"),
    Point("forward_ground", DI, 6, BOOL, description="Ground directional element sees a forward fault (3I0 vs -3V0)"),
    Point("reverse_ground", DI, 7, BOOL, description="Ground directional element sees a reverse fault"),
    Point("breaker_opening", DI, 8, BOOL, description="Trip given, breaker within its operating time"),
)


def relay_map() -> RegisterMap:
    """The multifunction protective relay's register map."""
    return RegisterMap("protective relay", POINTS + soe_points(), WordOrder.BIG, description=__doc__ or "")
