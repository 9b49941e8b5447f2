"""RBTS Bus 2 co-simulated for a day (configs/rbts_bus2.yaml): a lateral fault is cleared by its 'fuse'
(a fast relay on the lateral head) and only LP1 waits for the crew; a main-section fault on F1 is cleared
by the feeder breaker's relay and feeder F1 (LP1-LP7) waits for the repair; the other feeders never notice."""

import csv
import json
from pathlib import Path

from cosim.runner import run_scenario
from cosim.scenario import load_scenario

CONFIG = Path(__file__).parents[2] / "configs" / "rbts_bus2.yaml"


def test_fuse_and_breaker_relays_coordinate_and_the_dms_restores_after_repair(tmp_path):
    assert run_scenario(load_scenario(CONFIG), tmp_path).status == "completed"
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    trips = [(e["device"], e["element"]) for e in events if e["kind"] == "relay_trip"]
    assert trips == [("fuse_lp1", "50"), ("relay_cb_s1", "51")]  # each fault cleared by one device: coordination
    truth = list(csv.DictReader((tmp_path / "outages_truth.csv").open()))
    first = {r["load_point"] for r in truth if float(r["start_s"]) < 12 * 3600}
    second = {r["load_point"] for r in truth if float(r["start_s"]) >= 12 * 3600}
    assert first == {"lp1"} and second == {f"lp{i}" for i in range(1, 8)}
    assert all(r["kind"] == "sustained" for r in truth)  # both repaired within the day
    assert sum(e["kind"] == "flisr_normal" for e in events) == 2
