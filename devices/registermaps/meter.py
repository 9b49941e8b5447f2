"""Smart meter (AMI, three-phase, revenue class): measurements, energy registers, service switch.

Layout is gridcosim's own, in the style of common revenue meters: measurements
in input registers, 32-bit energy and power big-endian word order (word order
stated per map), a remote connect/disconnect switch as a coil.
"""

from devices.registermap import Point, RegisterMap, WordOrder
from devices.registermaps._tables import BOOL, CO, DI, HR, I16, I32, IR, RW, U16, U32

POINTS: tuple[Point, ...] = (
    Point("voltage_an_v", IR, 0, U16, 0.1, "V", description="Phase A-N voltage, RMS"),
    Point("voltage_bn_v", IR, 1, U16, 0.1, "V", description="Phase B-N voltage, RMS"),
    Point("voltage_cn_v", IR, 2, U16, 0.1, "V", description="Phase C-N voltage, RMS"),
    Point("current_a_a", IR, 3, U16, 0.01, "A", description="Phase A current, RMS"),
    Point("current_b_a", IR, 4, U16, 0.01, "A", description="Phase B current, RMS"),
    Point("current_c_a", IR, 5, U16, 0.01, "A", description="Phase C current, RMS"),
    Point("active_power_w", IR, 6, I32, 1.0, "W", description="Total active power, positive = import"),
    Point("reactive_power_var", IR, 8, I32, 1.0, "var", description="Total reactive power, positive = import (lagging)"),
    Point("apparent_power_va", IR, 10, U32, 1.0, "VA", description="Total apparent power"),
    Point("power_factor", IR, 12, I16, 0.001, "", description="Total power factor, sign of reactive power"),
    Point("frequency_hz", IR, 13, U16, 0.01, "Hz", description="Line frequency"),
    Point("energy_import_wh", IR, 14, U32, 1.0, "Wh", description="Active energy imported, cumulative"),
    Point("energy_export_wh", IR, 16, U32, 1.0, "Wh", description="Active energy exported, cumulative"),
    Point("reactive_energy_import_varh", IR, 18, U32, 1.0, "varh", description="Reactive energy imported, cumulative"),
    Point("demand_w", IR, 20, I32, 1.0, "W", description="Average active power over the last demand interval"),
    Point("demand_interval_s", HR, 0, U16, 1.0, "s", RW, 60, 3600, default=900,
          description="Demand integration interval"),
    Point("service_connected", CO, 0, BOOL, access=RW, default=True,
          description="Service switch: 1 connect, 0 disconnect (remote disconnect)"),
    Point("voltage_present", DI, 0, BOOL, description="Supply voltage present at the meter"),
    Point("tamper_detected", DI, 1, BOOL, description="Cover or magnetic tamper detected"),
)


def meter_map() -> RegisterMap:
    """The smart meter's register map."""
    return RegisterMap("smart meter", POINTS, WordOrder.BIG, description=__doc__ or "")
