"""Capacitor bank controller: sensing, control mode and band settings, bank status and manual command.

Control settings are ordinary read-write points (not protection settings):
operations may retune volt/var control remotely.
"""

from devices.registermap import Point, RegisterMap, WordOrder
from devices.registermaps._tables import BOOL, CO, DI, HR, I32, IR, RW, U16, U32

POINTS: tuple[Point, ...] = (
    Point("voltage_pu", IR, 0, U16, 0.0001, "pu", description="Sensed voltage in per unit of nominal"),
    Point("reactive_power_kvar", IR, 1, I32, 0.1, "kvar", description="Reactive power flow at the sensor, + lagging"),
    Point("switching_count", IR, 3, U32, description="Bank switchings since installed"),
    Point("control_mode", HR, 0, U16, 1.0, "", RW, 0, 2, default=1, description="0 manual, 1 voltage, 2 var"),
    Point("voltage_setpoint_pu", HR, 1, U16, 0.0001, "pu", RW, 0.9, 1.1, default=1.0,
          description="Voltage control: centre of the band"),
    Point("voltage_bandwidth_pu", HR, 2, U16, 0.0001, "pu", RW, 0.005, 0.1, default=0.03,
          description="Voltage control: full width of the band"),
    Point("var_setpoint_kvar", HR, 3, I32, 0.1, "kvar", RW, -10000.0, 10000.0, default=0.0,
          description="Var control: centre of the band"),
    Point("var_bandwidth_kvar", HR, 5, U16, 0.1, "kvar", RW, 1.0, 6000.0, default=900.0,
          description="Var control: full width of the band (more than the bank size)"),
    Point("time_delay_s", HR, 6, U16, 1.0, "s", RW, 0, 600, default=30,
          description="Time outside the band before switching"),
    Point("min_switching_interval_s", HR, 7, U16, 1.0, "s", RW, 0, 3600, default=300,
          description="Minimum time between two switchings (discharge, wear)"),
    Point("bank_close_command", CO, 0, BOOL, access=RW,
          description="Manual mode only: write 1 to close the bank, 0 to open it; "
                      "in voltage or var mode the write gets exception 01 and changes nothing"),
    Point("bank_closed", DI, 0, BOOL, description="Bank position: 1 in service"),
    Point("switching_pending", DI, 1, BOOL, description="Outside the band, delay timer running"),
)


def capacitor_map() -> RegisterMap:
    """The capacitor bank controller's register map."""
    return RegisterMap("capacitor bank controller", POINTS, WordOrder.BIG, description=__doc__ or "")
