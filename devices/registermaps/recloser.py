"""Recloser control: measurements, sequence settings, lockout status and commands.

Settings for the fast and delayed curves, the shots of each and the reclose
intervals are protection settings (writable only when the scenario allows).
Command coils are momentary: the device clears them after acting. The
sequence-of-events window (devices.soe) starts at input register 1000: count,
newest sequence number, then 16 records of 12 registers (newest first) with
the UTC time stamp, event, element (51 trip, 79 reclose/lockout) and currents.
"""

from devices.registermap import Point, RegisterMap, WordOrder
from devices.soe import soe_points
from devices.registermaps._tables import BOOL, CO, DI, HR, IR, RW, U16, U32
from devices.registermaps.codes import CURVE_CODES, describe

POINTS: tuple[Point, ...] = (
    Point("current_a_a", IR, 0, U16, 1.0, "A", description="Phase A current, primary RMS"),
    Point("current_b_a", IR, 1, U16, 1.0, "A", description="Phase B current, primary RMS"),
    Point("current_c_a", IR, 2, U16, 1.0, "A", description="Phase C current, primary RMS"),
    Point("current_n_a", IR, 3, U16, 1.0, "A", description="Residual (neutral) current, primary RMS"),
    Point("source_voltage_v", IR, 4, U16, 1.0, "V", description="Source-side voltage A-B, primary RMS"),
    Point("operations_in_sequence", IR, 5, U16, description="Trips in the current reclosing sequence"),
    Point("trip_count", IR, 6, U32, description="Trips since the counter was cleared"),
    Point("last_fault_current_a", IR, 8, U32, 1.0, "A", description="Largest phase current of the last trip"),
    Point("pickup_a", HR, 0, U16, 1.0, "A", RW, 1, 6000, True, default=400, description="Minimum trip current, primary"),
    Point("fast_curve", HR, 1, U16, 1.0, "", RW, 1, 7, True, default=3,
          description="Fast curve: " + describe(CURVE_CODES)),
    Point("fast_time_dial", HR, 2, U16, 0.01, "", RW, 0.01, 15.0, True, default=0.1,
          description="Fast curve time dial / multiplier"),
    Point("delayed_curve", HR, 3, U16, 1.0, "", RW, 1, 7, True, default=2,
          description="Delayed curve: " + describe(CURVE_CODES)),
    Point("delayed_time_dial", HR, 4, U16, 0.01, "", RW, 0.01, 15.0, True, default=1.0,
          description="Delayed curve time dial / multiplier"),
    Point("fast_operations", HR, 5, U16, 1.0, "", RW, 0, 4, True, default=2, description="Trips on the fast curve"),
    Point("delayed_operations", HR, 6, U16, 1.0, "", RW, 0, 4, True, default=2,
          description="Trips on the delayed curve before lockout"),
    Point("reclose_interval_1_s", HR, 7, U16, 0.1, "s", RW, 0.1, 600.0, True, default=2.0,
          description="Open time after the 1st trip"),
    Point("reclose_interval_2_s", HR, 8, U16, 0.1, "s", RW, 0.1, 600.0, True, default=5.0,
          description="Open time after the 2nd trip"),
    Point("reclose_interval_3_s", HR, 9, U16, 0.1, "s", RW, 0.1, 600.0, True, default=10.0,
          description="Open time after the 3rd trip"),
    Point("reset_time_s", HR, 10, U16, 1.0, "s", RW, 1, 600, True, default=30,
          description="Time closed without pickup after which the sequence resets"),
    Point("trip_command", CO, 0, BOOL, access=RW, description="Write 1: trip and stay open (momentary)"),
    Point("close_command", CO, 1, BOOL, access=RW, description="Write 1: close from open (momentary)"),
    Point("reset_lockout_command", CO, 2, BOOL, access=RW, description="Write 1: reset lockout (momentary)"),
    Point("reclosing_enabled", CO, 3, BOOL, access=RW, protection_setting=True, default=True,
          description="0: trip to lockout on the first operation (non-reclosing)"),
    Point("closed", DI, 0, BOOL, default=True, description="Recloser position: 1 closed"),
    Point("locked_out", DI, 1, BOOL, description="Lockout: open after the last trip of the sequence"),
    Point("picked_up", DI, 2, BOOL, description="Phase current above pickup (timing)"),
    Point("reclosing_in_progress", DI, 3, BOOL, description="Open and waiting for a reclose interval"),
)


def recloser_map() -> RegisterMap:
    """The recloser control's register map."""
    return RegisterMap("recloser", POINTS + soe_points(), WordOrder.BIG, description=__doc__ or "")
