"""The grid inside a run: loads follow customers, solves only on change, events strike the grid."""

import csv
import json
from pathlib import Path

import yaml

from cosim.runner import build_world, run_scenario
from cosim.scenario import load_scenario

QUICKSTART = Path(__file__).parents[1] / "configs" / "quickstart.yaml"


def rows(out: Path, entity: str, quantity: str) -> list[tuple[float, float]]:
    with open(out / "timeseries.csv") as handle:
        return [(float(r["time_s"]), float(r["value"])) for r in csv.DictReader(handle) if r["entity"] == entity and r["quantity"] == quantity]


def test_customer_demand_reaches_the_grid_and_the_slack_balances_it(tmp_path):
    run_scenario(load_scenario(QUICKSTART), tmp_path)
    demand = dict(rows(tmp_path, "factory_1", "demand_p"))
    served = dict(rows(tmp_path, "load/factory_1", "served"))
    assert demand and set(demand) == set(served)
    for time_s, kw in demand.items():
        assert abs(served[time_s] * 1000.0 - kw) < 1e-6
    slack = dict(rows(tmp_path, "gen/thermal_gen", "p"))
    wind = dict(rows(tmp_path, "der/wind", "p"))
    # The grid records losses at every solve, and an instant may see several (the wind farm's report lands a
    # moment after the sample, over the farm's network): the sampled state is the last one solved before it.
    losses: dict[float, float] = {}
    last = float("nan")
    with open(tmp_path / "timeseries.csv") as handle:
        for r in csv.DictReader(handle):
            if (r["entity"], r["quantity"]) == ("grid", "losses"):
                last = float(r["value"])
            elif (r["entity"], r["quantity"]) == ("gen/thermal_gen", "p"):
                losses[float(r["time_s"])] = last
    loads = [dict(rows(tmp_path, f"load/{n}", "served")) for n in ("home_1", "office_1", "factory_1")]
    pv = dict(rows(tmp_path, "der/home_1_pv", "p"))
    for time_s in slack:
        supply = slack[time_s] + wind[time_s] + pv[time_s]
        assert abs(supply - sum(load[time_s] for load in loads) - losses[time_s]) < 1e-6


def test_grid_solves_only_when_something_changed():
    scenario = load_scenario(QUICKSTART)
    world, _ = build_world(scenario, None)
    grid = world.service("grid")
    world.run(1.0)
    # t = 0: the field devices may read the configured state before the applications
    # set their first values, so one solve for that state, one after the actions and one
    # when the wind farm's report reaches its park controller over the farm's network
    at_start = grid.solve_count
    assert 1 <= at_start <= 3
    world.run(3 * 900.0 + 1.0)
    # then two solves per step at t = 900, 1800, 2700 (the customers' loads, then the wind
    # farm's output once its report has arrived) -- not one per action (5 per step)
    # nor one per device sample (the relay and RTU sample every minute)
    assert grid.solve_count == at_start + 6
    grid.measurements()
    assert grid.solve_count == at_start + 6


def test_opening_the_feeder_breaker_leaves_customers_unserved(tmp_path):
    data = yaml.safe_load(QUICKSTART.read_text())
    data["run"]["duration"] = "6h"
    data["events"] = [
        {"at": "2h", "kind": "open_switch", "target": "switch/feeder_cb"},
        {"at": "3h", "kind": "close_switch", "target": "switch/feeder_cb"},
    ]
    path = tmp_path / "outage.yaml"
    path.write_text(yaml.safe_dump(data))
    run_scenario(load_scenario(path), tmp_path / "out")
    unserved = dict(rows(tmp_path / "out", "grid", "customers_unserved"))
    assert unserved[7200.0] == 3 and unserved[9900.0] == 3
    assert unserved[6300.0] == 0 and unserved[10800.0] == 0
    assert dict(rows(tmp_path / "out", "bus/f3", "vm"))[8100.0] == 0.0
    events = [json.loads(line) for line in open(tmp_path / "out" / "events.jsonl")]
    assert [e["event"] for e in events if e["kind"] == "scheduled_event"] == ["open_switch", "close_switch"]
