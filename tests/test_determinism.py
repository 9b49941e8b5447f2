"""One seed, identical result files; another seed, different ones; new actors leave others' draws alone."""

import csv
import json
from pathlib import Path

import yaml

from cosim.runner import run_scenario
from cosim.scenario import load_scenario

QUICKSTART = Path(__file__).parents[1] / "configs" / "quickstart.yaml"


def digests(out_dir: Path) -> dict:
    return {name: item["sha256"] for name, item in json.loads((out_dir / "manifest.json").read_text())["files"].items()}


def test_same_seed_gives_byte_identical_files(tmp_path):
    scenario = load_scenario(QUICKSTART)
    run_scenario(scenario, tmp_path / "one")
    run_scenario(scenario, tmp_path / "two")
    first, second = digests(tmp_path / "one"), digests(tmp_path / "two")
    assert "timeseries.csv" in first
    assert first == second
    for name in first:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_another_seed_gives_other_results(tmp_path):
    scenario = load_scenario(QUICKSTART)
    run_scenario(scenario, tmp_path / "one")
    run_scenario(scenario.with_run(seed=scenario.spec.run.seed + 1), tmp_path / "two")
    assert digests(tmp_path / "one")["timeseries.csv"] != digests(tmp_path / "two")["timeseries.csv"]


def series_of(out_dir: Path, entity: str) -> list[tuple[str, str, str]]:
    with open(out_dir / "timeseries.csv") as handle:
        return [(r["time_s"], r["quantity"], r["value"]) for r in csv.DictReader(handle) if r["entity"] == entity]


def test_adding_an_actor_does_not_change_another_actors_draws(tmp_path):
    data = yaml.safe_load(QUICKSTART.read_text())
    data["actors"].insert(0, {"id": "home_0", "domain": "Customer", "role": "Home", "peak_kw": 6, "applications": [{"kind": "load_profile"}]})
    bigger = tmp_path / "bigger.yaml"
    bigger.write_text(yaml.safe_dump(data))
    run_scenario(load_scenario(QUICKSTART), tmp_path / "base")
    run_scenario(load_scenario(bigger), tmp_path / "bigger")
    assert series_of(tmp_path / "base", "home_1") == series_of(tmp_path / "bigger", "home_1")
    assert series_of(tmp_path / "bigger", "home_0")
