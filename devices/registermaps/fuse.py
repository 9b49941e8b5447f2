"""Fuse (K or T expulsion link in a cutout) with a monitor: current, heating memory, melted, link data.

A fuse has no settings to write: the link installed is the scenario's
(``rating_a``, ``link_type``) and shows here read-only. ``damage_pct`` is the
heating memory (100 % melts the link), ``i2t_a2s`` the I²t let through while
melting; ``melted`` latches until a crew replaces the link (closes the cutout).
"""

from devices.registermap import Point, RegisterMap, WordOrder
from devices.registermaps._tables import BOOL, DI, HR, IR, U16, U32

LINK_TYPE_CODES: dict[int, str] = {1: "K", 2: "T"}

POINTS: tuple[Point, ...] = (
    Point("current_a", IR, 0, U16, 1.0, "A", description="Current through the link, primary RMS"),
    Point("damage_pct", IR, 1, U16, 0.1, "%", description="Heating memory: accumulated melting damage (100 % melts)"),
    Point("i2t_a2s", IR, 2, U32, 1.0, "A2s", description="I2t let through while at or above the minimum melting current"),
    Point("melt_time_s", IR, 4, U32, 0.001, "s", description="Simulated time the link melted (0 before)"),
    Point("clear_time_s", IR, 6, U32, 0.001, "s", description="Simulated time the fuse cleared (0 before)"),
    Point("operations", IR, 8, U16, description="Links blown since start"),
    Point("rating_a", HR, 0, U16, 1.0, "A", default=25, description="Link ampere rating (read-only: the installed link)"),
    Point("link_type", HR, 1, U16, default=1, description="Link speed: 1 K (fast), 2 T (slow)"),
    Point("clearing_delay_s", HR, 2, U16, 0.001, "s", description="Arcing time added to melting for total clearing"),
    Point("closed", DI, 0, BOOL, default=True, description="Cutout closed (link intact)"),
    Point("melted", DI, 1, BOOL, description="Link melted (latched until replaced)"),
    Point("melting", DI, 2, BOOL, description="Current at or above the minimum melting current"),
)


def fuse_map() -> RegisterMap:
    """The fuse monitor's register map."""
    return RegisterMap("fuse", POINTS, WordOrder.BIG, description=__doc__ or "")
