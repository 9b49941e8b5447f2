"""Sectionalizer: line current, count, counting settings, position and commands."""

from devices.registermap import Point, RegisterMap, WordOrder
from devices.registermaps._tables import BOOL, CO, DI, HR, IR, RW, U16

POINTS: tuple[Point, ...] = (
    Point("current_a", IR, 0, U16, 1.0, "A", description="Largest phase current, primary RMS"),
    Point("count", IR, 1, U16, description="Upstream interruptions counted"),
    Point("counts_to_open", HR, 0, U16, 1.0, "", RW, 1, 4, True, default=2,
          description="Counts after which the sectionalizer opens in the dead time"),
    Point("actuating_current_a", HR, 1, U16, 1.0, "A", RW, 1, 6000, True, default=300,
          description="Current that arms a count (set below the upstream recloser's pickup)"),
    Point("reset_time_s", HR, 2, U16, 1.0, "s", RW, 1, 600, True, default=30,
          description="Counts are forgotten this long after the last one"),
    Point("open_command", CO, 0, BOOL, access=RW, description="Write 1: open (momentary; load-break only)"),
    Point("close_command", CO, 1, BOOL, access=RW, description="Write 1: close and clear the count (momentary)"),
    Point("closed", DI, 0, BOOL, default=True, description="Switch position: 1 closed"),
    Point("fault_current_seen", DI, 1, BOOL, description="Armed: fault current seen, waiting for the dead time"),
)


def sectionalizer_map() -> RegisterMap:
    """The sectionalizer's register map."""
    return RegisterMap("sectionalizer", POINTS, WordOrder.BIG, description=__doc__ or "")
