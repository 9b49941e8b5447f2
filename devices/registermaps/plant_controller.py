"""Plant controller of a dispatchable generating unit: basepoint, regulation, ramp rate, limits, output.

The unit's control system (the plant's DCS/turbine governor set-point
interface) as the ISO's dispatch sees it. The ISO writes the economic
**basepoint** of each SCED interval (with the interval's sequence number) and,
for a regulating unit, the **regulation** signal of its AGC; the controller
moves the unit's set-point toward ``basepoint + regulation`` (regulation only
while ``agc_enabled``), clipped to ``[p_min_mw, p_max_mw]``, no faster than
``ramp_rate_mw_per_min``. Output is the measured active and reactive power at
the unit's terminals.

A renewable plant (bound to a grid DER) produces what its resource allows,
written by its turbines' or inverters' SCADA into ``available_mw``; its set-point is a cap
(curtailment), lifted while it is at ``p_max_mw``.

A generating unit never absorbs active power: ``p_min_mw`` may be negative
only for a unit the scenario declares as storage.
"""

from devices.registermap import Point, RegisterMap, WordOrder
from devices.registermaps._tables import BOOL, CO, DI, HR, I32, IR, RW, U16, U32

MAX_MW = 100_000.0
"""Largest set-point any register accepts (MW); a real unit's limits are p_min_mw/p_max_mw."""

POINTS: tuple[Point, ...] = (
    Point("output_mw", IR, 0, I32, 0.01, "MW", description="Measured active power at the terminals, + generating"),
    Point("output_mvar", IR, 2, I32, 0.01, "Mvar", description="Measured reactive power, + injecting"),
    Point("setpoint_mw", IR, 4, I32, 0.01, "MW", description="Ramp-limited set-point applied to the unit now"),
    Point("desired_mw", IR, 6, I32, 0.01, "MW",
          description="Where the unit is going: basepoint + regulation, clipped to the limits"),
    Point("basepoint_mw", HR, 0, I32, 0.01, "MW", RW, -MAX_MW, MAX_MW,
          description="Economic basepoint of the present dispatch interval (written by the ISO)"),
    Point("basepoint_seq", HR, 2, U16, 1.0, "", RW, 0, 65535,
          description="Sequence number of the dispatch interval the basepoint belongs to"),
    Point("regulation_mw", HR, 3, I32, 0.01, "MW", RW, -MAX_MW, MAX_MW,
          description="AGC regulation signal, added to the basepoint while agc_enabled"),
    Point("ramp_rate_mw_per_min", HR, 5, U32, 0.01, "MW/min", RW, 0.01, MAX_MW, default=10.0,
          description="Largest set-point change per minute, up or down"),
    Point("p_min_mw", HR, 7, I32, 0.01, "MW", RW, -MAX_MW, MAX_MW,
          description="Lowest set-point (economic minimum; negative only for storage)"),
    Point("p_max_mw", HR, 9, I32, 0.01, "MW", RW, 0.0, MAX_MW, default=0.0,
          description="Highest set-point (maximum capability)"),
    Point("available_mw", HR, 11, I32, 0.01, "MW", RW, 0.0, MAX_MW,
          description="Renewable plant: the power its resource (wind, sun) allows now, written by its turbines' "
                      "or inverters' SCADA; unused by a thermal unit"),
    Point("agc_enabled", CO, 0, BOOL, access=RW, default=True,
          description="1: follow the regulation signal; 0: basepoint only"),
    Point("unit_online", CO, 1, BOOL, access=RW, default=True,
          description="1: unit in service; 0: take it off line"),
    Point("online", DI, 0, BOOL, description="Unit in service and synchronised (its bus energised)"),
    Point("ramping", DI, 1, BOOL, description="Set-point still moving toward the desired output"),
    Point("at_limit", DI, 2, BOOL, description="Basepoint + regulation was clipped at p_min_mw or p_max_mw"),
)


def plant_controller_map() -> RegisterMap:
    """The plant controller's register map."""
    return RegisterMap("plant controller", POINTS, WordOrder.BIG, description=__doc__ or "")
