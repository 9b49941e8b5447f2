"""gridcosim inside a mosaik world: household profiles from mosaik-csv drive the feeder's loads.

The reference is the profile file itself, played by mosaik-csv (a third-party
simulator) through mosaik: each household's smart meter must measure exactly
the demand mosaik delivered, at the interval it applied to, in-process, in a
separate process and event-based alike.
"""

from __future__ import annotations

import bisect
import csv
import json
import sys
from pathlib import Path

import mosaik
import pytest

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "configs" / "cosimulation"
sys.path.insert(0, str(EXAMPLE))
import mosaik_households as example  # noqa: E402


def profile() -> dict[int, dict[str, float]]:
    with (EXAMPLE / "household_profiles.csv").open() as f:
        rows = list(csv.reader(f))[1:]
    header, body = rows[0], rows[1:]
    return {900 * k: {name: float(value) for name, value in zip(header[1:], row[1:])} for k, row in enumerate(body)}


def run(tmp_path: Path, config: dict, *, event_based: bool = False) -> tuple[dict, Path]:
    out_dir, collected = tmp_path / "run", tmp_path / "collected.json"
    world = mosaik.World(config)
    # Event-based: the same scenario with the grid started without a step size.
    example.build(world, out_dir=str(out_dir), collected=str(collected), step_size=None if event_based else 900)
    with world:  # shuts the world down (and its simulators' processes) when the run is over
        world.run(until=example.END_S)
    return json.loads(collected.read_text()), out_dir


def meter_series(out_dir: Path, meter: str) -> dict[float, float]:
    with (out_dir / "timeseries.csv").open() as f:
        return {float(r["time_s"]): float(r["value"]) for r in csv.DictReader(f)
                if r["entity"] == f"device/{meter}" and r["quantity"] == "p"}


def assert_meters_follow_the_profile(out_dir: Path) -> None:
    expected = profile()
    for k, meter in enumerate(("meter_1", "meter_2", "meter_3"), start=1):
        seen = meter_series(out_dir, meter)
        times = sorted(seen)
        # The meter samples when the grid changes (its series is a step function, the grid being constant between
        # actions): 5 minutes into each interval the reading in effect is that interval's demand.
        for start, values in expected.items():
            t = start + 300.0
            in_effect = seen[times[bisect.bisect_right(times, t) - 1]]
            assert in_effect == pytest.approx(values[f"house_{k}"] * 1000.0, rel=1e-6), (meter, t)
        assert len(expected) == 96 and times[0] == 0.0


def test_time_based_in_process(tmp_path):
    collected, out_dir = run(tmp_path, example.SIM_CONFIG)
    assert_meters_follow_the_profile(out_dir)
    voltages = {bus: collected[f"Grid-0.Bus-{bus}"]["vm_pu"] for bus in ("n1", "n2", "n3")}
    assert all(len(series) == 96 for series in voltages.values())
    # Down the feeder the voltage falls while households draw more than the PV gives.
    evening = str(19 * 3600)
    assert voltages["n1"][evening] > voltages["n2"][evening] > voltages["n3"][evening]
    # Every input is logged as coming from outside.
    kinds = [json.loads(line)["kind"] for line in (out_dir / "events.jsonl").read_text().splitlines()]
    assert kinds.count("external_input") == 96 * 4


def test_separate_process_gives_the_same_run(tmp_path):
    in_process, _ = run(tmp_path / "a", example.SIM_CONFIG)
    config = dict(example.SIM_CONFIG, Grid={"cmd": f"{sys.executable} -m cosim.coupling.mosaik_sim %(addr)s", "cwd": str(ROOT)})
    separate, out_dir = run(tmp_path / "b", config)
    assert separate == in_process
    assert_meters_follow_the_profile(out_dir)


def test_event_based_grid_matches_time_based_at_the_profile_steps(tmp_path):
    time_based, _ = run(tmp_path / "a", example.SIM_CONFIG)
    event_based, out_dir = run(tmp_path / "b", example.SIM_CONFIG, event_based=True)
    assert_meters_follow_the_profile(out_dir)
    for source, attrs in time_based.items():
        for attr, series in attrs.items():
            for t, value in series.items():
                assert event_based[source][attr][t] == pytest.approx(value, rel=1e-9)
