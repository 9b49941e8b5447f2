"""gridcosim in a mosaik scenario: household profiles from mosaik-csv drive a feeder's loads.

Run from the repository root (``pip install -e '.[cosim]'`` brings mosaik):

    python configs/cosimulation/mosaik_households.py

mosaik-csv plays three households and a PV system from
household_profiles.csv; gridcosim solves the feeder every 15 minutes, its
smart meters measure, and a collector gathers the bus voltages. The grid runs
in this process; start it with ``{"cmd": "python -m cosim.coupling.mosaik_sim %(addr)s"}``
instead to run it in its own process (see docs/cosimulation.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import mosaik

HERE = Path(__file__).parent
SIM_CONFIG = {
    "CSV": {"python": "mosaik_csv:CSV"},
    "Grid": {"python": "cosim.coupling.mosaik_sim:GridSim"},
    "Collector": {"python": "cosim.coupling.collector:Collector"},
}
END_S = 24 * 3600


def build(world: mosaik.World, out_dir: str | None = None, collected: str | None = None, step_size: int | None = 900) -> None:
    """Start the three simulators and connect them; the collector writes what it got to ``collected`` (JSON).

    ``step_size`` (seconds) steps the grid time-based; None makes it event-based (stepped by new inputs).
    """
    profiles = world.start("CSV", sim_start="2026-06-01 00:00:00", datafile=str(HERE / "household_profiles.csv"))
    grid_sim = world.start("Grid", scenario=str(HERE / "mosaik_feeder.yaml"), step_size=step_size, out_dir=out_dir)
    collector_sim = world.start("Collector", out=collected)
    households = profiles.Household()
    grid = grid_sim.Grid()
    collector = collector_sim.Collector()
    by_eid = {entity.eid: entity for entity in grid.children}
    for name in ("house_1", "house_2", "house_3"):
        world.connect(households, by_eid[f"Load-{name}"], (name, "p_mw"))
    world.connect(households, by_eid["Der-pv_3"], ("pv_3", "p_mw"))
    for bus in ("n1", "n2", "n3"):
        world.connect(by_eid[f"Bus-{bus}"], collector, "vm_pu")
    world.connect(by_eid["SmartMeter-meter_3"], collector, "active_power_w")


def main() -> int:
    with mosaik.World(SIM_CONFIG) as world:
        build(world, out_dir="results/mosaik_households", collected="results/mosaik_households/collected.json")
        world.run(until=END_S)
    print("results in results/mosaik_households: timeseries.csv (the meters), events.jsonl (each input),")
    print("collected.json (bus voltages and meter 3's power as the collector received them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
