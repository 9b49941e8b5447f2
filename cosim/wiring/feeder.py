"""An unbalanced feeder inside a World: its service and the sampler of its electrical truth.

Used when the scenario's ``grid:`` section is ``{model: unbalanced, dss: ...}``
(:mod:`cosim.scenario.feedergrid`). The service registered as the world's
``grid`` is a :class:`FeederGrid`, so devices read it through the balanced
measurement API (:mod:`cosim.grid.threephase.adapter` says what each value
means on three phases). The sampler (:func:`cosim.wiring.grid.grid_sampler`)
records, once per run step and at each switching or fault instant, every
bus's positive-sequence voltage (``vm``) and each phase's (``vm_a`` ...), each line's power
and largest phase current, and each load's served power: the run's ground
truth, which Operations never reads.
"""

from __future__ import annotations

from collections.abc import Callable

from ..grid.threephase import FeederService
from ..grid.threephase.adapter import FeederGrid, element_names
from ..kernel import World
from ..scenario import Scenario


def attach_feeder(world: World, scenario: Scenario, service_name: str) -> FeederGrid | None:
    """Register a :class:`FeederGrid` over the scenario's feeder as the world's grid service."""
    if scenario.feeder is None or scenario.feeder_grid is None:
        return None
    config = scenario.feeder_grid
    grid = FeederGrid(FeederService(scenario.feeder, tolerance=config.tolerance, max_iter=config.max_iter),
                      customers=dict(config.customers), base_mva=config.base_mva)
    world.add_service(service_name, grid)
    return grid


def feeder_sample(world: World, grid: FeederGrid) -> Callable[[], None]:
    """A function that records the solved feeder now (the sampler of :mod:`.grid` calls it)."""
    names = element_names(grid.feeder)
    # Each bus's phases under the bus's own entity (so its owner's summary holds them): vm, vm_a, vm_b, vm_c.
    buses = [(f"bus/{bus}", bus, [(f"vm_{'abc'[k - 1]}", f"{bus}.{k}") for k in (1, 2, 3)
                                  if f"{bus}.{k}" in names["bus"]])
             for bus in sorted(n for n in names["bus"] if "." not in n)]  # OpenDSS bus names hold no dot
    lines = [ln.name for ln in grid.feeder.lines]
    loads = [ld.name for ld in grid.feeder.loads]
    record = world.record

    def sample() -> None:
        m = grid.measurements()
        for entity, bus, phases in buses:
            record(entity, "vm", m.bus_voltage(bus).vm_pu, "pu")
            for quantity, phase in phases:
                record(entity, quantity, m.bus_voltage(phase).vm_pu, "pu")
        for line in lines:
            reading = m.branch(line)
            record(f"branch/{line}", "p_from", reading.p_mw, "MW")
            record(f"branch/{line}", "i_max", reading.i_a, "A")
        for load in loads:
            record(f"load/{load}", "served", m.load(load).p_mw, "MW")
        record("grid", "converged", float(m.converged), "")

    return sample
