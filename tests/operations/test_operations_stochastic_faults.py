"""Stochastic faults: drawn from failure rates on named streams, one at a time, cleared by a timer."""

from pathlib import Path

import yaml

from cosim.events.stochastic import StochasticFaultParams, fault_process
from cosim.grid import GridConfig, GridService, build_network
from cosim.kernel import World

CONFIG = Path(__file__).parents[2] / "configs" / "flisr_fibre.yaml"


def faults(seed: int) -> list[tuple]:
    world = World(seed)
    grid = GridService(build_network(GridConfig.model_validate(yaml.safe_load(CONFIG.read_text())["grid"]), CONFIG.parent), log=world.log)
    world.add_service("grid", grid)
    drawn = []
    world.log = lambda kind, **f: drawn.append((round(world.now, 3), kind, f.get("branch"), f.get("temporary")))  # type: ignore[method-assign]
    # 1000 f/km-yr on 3 km: about 0.34 faults an hour; a year's worth of a real feeder in a simulated week
    params = StochasticFaultParams(lines_km={"l1": 1.0, "l2": 1.0, "l3": 1.0}, failure_rate_per_km_year=1000.0,
                                   temporary_fraction=0.5, repair="timer", repair_mean_h=0.5)
    world.process(fault_process(world, params))
    world.run(7 * 24 * 3600.0)
    return drawn


def test_faults_are_drawn_and_cleared_and_reproducible():
    drawn = faults(3)
    applied = [d for d in drawn if d[1] == "stochastic_fault"]
    cleared = [d for d in drawn if d[1] == "fault_cleared"]
    assert 30 < len(applied) < 90
    assert len(cleared) >= len(applied) - 1
    assert {d[3] for d in applied} == {True, False} and {d[2] for d in applied} == {"l1", "l2", "l3"}
    assert drawn == faults(3) and drawn != faults(4)
