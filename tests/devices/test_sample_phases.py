"""Periodic samples: aligned in batch runs, spread over the period when the layer asks (served runs)."""

from __future__ import annotations

from pathlib import Path

from cosim.runner import build_world
from cosim.scenario.loader import load_scenario

QUICKSTART = Path(__file__).parents[2] / "configs" / "quickstart.yaml"
METERS = ("meter_factory_1", "meter_home_1", "meter_office_1")  # periodic (energy registers), 300 s period


def run_to(spread: bool, until_s: float):
    world, _ = build_world(load_scenario(QUICKSTART).with_run(duration=until_s + 1), None)
    layer = world.service("devices")
    layer.spread_sample_phases = spread
    world.env.run(until=until_s)
    return layer


def next_samples(spread: bool, until_s: float) -> list[float]:
    layer = run_to(spread, until_s)
    return [layer[m]._next_sample_s for m in METERS]


def test_batch_runs_sample_every_periodic_device_at_the_same_instants():
    assert next_samples(False, 1000.0) == [1200.0] * 3


def test_spread_samples_fall_at_distinct_deterministic_phases_within_one_period():
    first = next_samples(True, 1000.0)
    assert len(set(first)) == 3 and all(1000.0 < due <= 1300.0 for due in first)
    assert next_samples(True, 1000.0) == first  # deterministic
    layer = run_to(True, 1000.0 + 300.0 * 7)
    for meter in METERS:  # the phase is kept, period after period: the instant is on the device's grid
        due, offset = layer[meter]._next_sample_s, layer.sample_phase(meter) * 300.0
        ticks = round((due - offset) / 300.0)
        assert due == ticks * 300.0 + offset and 3100.0 < due <= 3400.0
