"""The grid of a scenario inside a World: the service, and the sampler of electrical truth.

The sampler records what the electrical layer *is* (every bus voltage,
branch flow, generator and DER output, served load) once per run step and at
each switching or fault instant. It is
the ground truth of a run, for plots and reports; Operations does not read it
-- it sees the grid only through devices and messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any

from ..grid import GridService
from ..grid.actions import Change
from ..grid.frequency import SystemFrequency
from ..grid.short_circuit_config import short_circuit_data
from ..grid.threephase.adapter import FeederGrid
from ..kernel import World
from ..scenario import Scenario
from .feeder import attach_feeder, feeder_sample

SERVICE = "grid"


def attach_grid(world: World, scenario: Scenario) -> GridService | FeederGrid | None:
    """Register a GridService over the scenario's network (built when it was loaded) as the world's ``grid``;
    an unbalanced feeder (``grid.model: unbalanced``) gets a FeederGrid instead (:mod:`.feeder`)."""
    if scenario.feeder is not None:
        return attach_feeder(world, scenario, SERVICE)
    if scenario.network is None:
        return None
    response = scenario.grid.frequency_response if scenario.grid is not None else None
    frequency = SystemFrequency(response, scenario.network.frequency_hz) if response is not None else None
    solver = scenario.grid.solver if scenario.grid is not None else None
    options = {} if solver is None else {
        "mode": solver.mode, "enforce_q_limits": solver.enforce_q_limits,
        "tolerance_pu": solver.tolerance_pu, "max_iter": solver.max_iter}
    # Zero-sequence data (line r0/x0, vector groups, feeders' X0/X) for earth faults during the run.
    sequence = short_circuit_data(scenario.grid, scenario.network) if scenario.grid is not None else None
    service = GridService(scenario.network, record=world.record, log=world.log, entity="grid",
                          frequency=frequency, clock=lambda: world.now, sequence=sequence,
                          **options)  # type: ignore[arg-type]
    world.add_service(SERVICE, service)
    return service


def grid_sampler(world: World, grid: GridService | FeederGrid, step_s: float) -> Generator[Any, Any, None]:
    """Record the solved grid every ``step_s``, after everything else at that instant has acted, and at
    each instant a switch, a branch's status or a fault changes.

    The samples are step functions (a value holds until the next one): a fault that a fuse clears in
    50 ms, sampled only on the 5-minute grid, would hold its fault current for five minutes in every plot.
    Sampling the grid again once a switching or fault action has been applied (behind everything else
    due at that instant) gives each discrete state its true duration. Load and setpoint changes wait for
    the next step, as before. One instant and grid version are sampled once.
    """
    sample = feeder_sample(world, grid) if isinstance(grid, FeederGrid) else _network_sample(world, grid)
    last: list[tuple[float, int]] = []

    def take() -> None:
        key = (world.now, grid.version)
        if not last or last[0] != key:
            last[:] = [key]
            sample()

    def after_instant() -> Generator[Any, Any, None]:
        yield world.timeout(0)  # behind the other actions of this instant (a trip and its reclose, ...)
        take()

    previous = grid.on_change

    def on_change(action: Any, change: Change) -> None:
        if previous is not None:
            previous(action, change)
        if change in (Change.TOPOLOGY, Change.FAULT):
            world.process(after_instant())

    grid.on_change = on_change
    while True:
        # A zero delay queues the sample behind every event already due now,
        # so loads and setpoints changed at this instant are in the solve.
        yield world.timeout(0)
        take()
        yield world.timeout(step_s)


def _network_sample(world: World, grid: GridService) -> Callable[[], None]:
    """A function that records the solved balanced network now."""
    net = grid.network
    buses = [(f"bus/{name}", name) for name in net.buses.name]
    branches = [(f"branch/{name}", name, rate) for name, rate in zip(net.branches.name, net.branches.rate_a_mva)]
    generators = [(f"gen/{name}", name) for name in net.generators.name]
    ders = [(f"der/{name}", name) for name in net.ders.name]
    loads = [(f"load/{name}", name) for name in net.loads.name]
    record = world.record

    def sample() -> None:
        m = grid.measurements()  # solves first if anything changed since the last solve
        for entity, name in buses:
            record(entity, "vm", m.bus_voltage(name).vm_pu, "pu")
        for entity, name, rate in branches:
            reading = m.branch(name)
            record(entity, "p_from", reading.p_mw, "MW")
            if math.isfinite(rate) and rate > 0:
                record(entity, "loading", 100.0 * math.hypot(reading.p_mw, reading.q_mvar) / rate, "%")
        for entity, name in generators:
            output = m.generator(name)
            record(entity, "p", output.p_mw, "MW")
            record(entity, "q", output.q_mvar, "Mvar")
        for entity, name in ders:
            record(entity, "p", m.der(name).p_mw, "MW")
        for entity, name in loads:
            record(entity, "served", m.load(name).p_mw, "MW")
        if m.system_frequency is not None:
            record("grid", "frequency", m.system_frequency.frequency_hz, "Hz")

    return sample
