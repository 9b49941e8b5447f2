"""Step-voltage regulator control: relay voltage, tap position, band, delays and line-drop compensation.

The settings are those of a regulator control's front panel (Eaton/Cooper
CL-7, Siemens MJ-4A: band centre and bandwidth in volts on the 120 V base,
time delay, line-drop compensator R and X in volts) as ordinary read-write
points: operations retune them remotely. ``control_mode`` 0 (manual) hands
the taps to ``tap_position_command``; in auto mode a write to it gets
exception 01 and changes nothing.
"""

from devices.registermap import Point, RegisterMap, WordOrder
from devices.registermaps._tables import BOOL, DI, HR, I16, IR, RW, U16, U32

POINTS: tuple[Point, ...] = (
    Point("relay_voltage_v", IR, 0, U16, 0.01, "V", description="Compensated voltage on the 120 V base (after LDC)"),
    Point("regulated_voltage_v", IR, 1, U16, 0.01, "V", description="Regulated winding voltage on the 120 V base (PT secondary)"),
    Point("load_current_a", IR, 2, U16, 0.1, "A", description="Line current through the regulator, primary amperes"),
    Point("tap_position", IR, 3, I16, 1.0, "step", description="Tap position, steps of 5/8 % from neutral (+ raise)"),
    Point("tap_operations", IR, 4, U32, description="Tap changes since installed (operations counter)"),
    Point("control_mode", HR, 0, U16, 1.0, "", RW, 0, 1, default=1, description="0 manual, 1 auto"),
    Point("band_centre_v", HR, 1, U16, 0.1, "V", RW, 100.0, 135.0, default=120.0,
          description="Voltage level (band centre) on the 120 V base"),
    Point("bandwidth_v", HR, 2, U16, 0.1, "V", RW, 1.0, 6.0, default=2.0, description="Full width of the band"),
    Point("time_delay_s", HR, 3, U16, 1.0, "s", RW, 0, 180, default=30,
          description="Time outside the band before the first tap change"),
    Point("tap_delay_s", HR, 4, U16, 1.0, "s", RW, 0, 60, default=2,
          description="Time between further tap changes while still outside the band"),
    Point("ldc_r_v", HR, 5, I16, 0.1, "V", RW, -24.0, 24.0, default=0.0,
          description="Line-drop compensator resistance, volts at CT rated current"),
    Point("ldc_x_v", HR, 6, I16, 0.1, "V", RW, -24.0, 24.0, default=0.0,
          description="Line-drop compensator reactance, volts at CT rated current"),
    Point("pt_ratio", HR, 7, U16, 0.01, "", RW, 1.0, 600.0, default=20.0,
          description="Potential transformer ratio (regulated volts per relay volt)"),
    Point("ct_primary_a", HR, 8, U16, 1.0, "A", RW, 1.0, 5000.0, default=700.0,
          description="Current transformer rated primary current (LDC volts are at this current)"),
    Point("tap_position_command", HR, 9, I16, 1.0, "step", RW, -16, 16, default=0,
          description="Manual mode only: move the taps to this position; in auto mode the write gets exception 01"),
    Point("in_band", DI, 0, BOOL, description="Relay voltage inside the band"),
    Point("tap_change_pending", DI, 1, BOOL, description="Outside the band, delay timer running"),
)


def voltage_regulator_map() -> RegisterMap:
    """The step-voltage regulator control's register map."""
    return RegisterMap("step-voltage regulator control", POINTS, WordOrder.BIG, description=__doc__ or "")
