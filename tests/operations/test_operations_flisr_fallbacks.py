"""Stories of FLISR off the happy path, on the two-feeder system of configs/flisr_fibre.yaml moved about:

- a fault in the recloser's own zone: the recloser stays open as the isolating device, the tie restores
  the rest, and after the repair the DMS resets the lockout before closing it (customers back at once);
- a switch whose RTU cannot be reached: the DMS isolates at the next reachable switch beyond it, restores
  what it can, and a crew opens the silent switch by hand so the rest comes back before the repair;
- a tie too weak for the load beyond the fault: the power flow on the DMS model refuses it and those
  customers wait for the repair;
- operator and processing delays: the plan waits for them.
"""

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cosim.runner import run_scenario
from cosim.scenario import load_scenario

CONFIG = Path(__file__).parents[2] / "configs" / "flisr_fibre.yaml"
FAULT_AT_S = 3600.0


def run(tmp_path: Path, edit) -> tuple[Any, list[dict], list[dict]]:
    spec = yaml.safe_load(CONFIG.read_text())
    edit(spec)
    dms = next(a for a in spec["actors"] if a["id"] == "control_centre")["applications"][1]["params"]
    dms["network_model"] = "scenario.yaml"  # the DMS's model is the edited system itself
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "out"
    result = run_scenario(load_scenario(path), out)
    assert result.status == "completed"
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    truth = list(csv.DictReader((out / "outages_truth.csv").open()))
    return events, truth


def dms_params(spec: dict) -> dict:
    return next(a for a in spec["actors"] if a["id"] == "control_centre")["applications"][1]["params"]


def crews_params(spec: dict) -> dict:
    return next(a for a in spec["actors"] if a["id"] == "substation")["applications"][0]["params"]


def outage(truth: list[dict], lp: str) -> list[tuple[float, float]]:
    return [(float(r["start_s"]), float(r["end_s"])) for r in truth if r["load_point"] == lp]


def first(events: list[dict], kind: str, **match: Any) -> dict:
    return next(e for e in events if e["kind"] == kind and all(e.get(k) == v for k, v in match.items()))


def test_fault_in_the_recloser_zone_keeps_it_open_then_resets_it_before_closing(tmp_path):
    def edit(spec):
        spec["events"] = [{"at": "1h", "kind": "fault", "target": "branch/l1", "params": {"fraction": 0.5}}]
    events, truth = run(tmp_path, edit)
    located = first(events, "flisr_located")
    assert located["upstream"] == "rec1" and located["buses"] == ["n1"]
    # isolation opens s2 only; the recloser is the other boundary and stays open; the tie feeds n2 and n3
    assert first(events, "flisr_isolated")["switches"] == ["rec1", "s2"]
    commands = [(e["device"], e["command"]) for e in events if e["kind"] == "scada_command" and e["outcome"] == "ok"]
    assert commands[:2] == [("rtu_s2", "open"), ("rtu_tie", "close")]
    for lp in ("lp_n2", "lp_n3"):
        assert max(end - start for start, end in outage(truth, lp)) < 120.0
    # after the repair: reset the lockout, then close; n1 back within a poll of the repair
    repaired = first(events, "flisr_repaired")["time_s"]
    after = [c for c, e in zip(commands, [e for e in events if e["kind"] == "scada_command" and e["outcome"] == "ok"]) if e["time_s"] >= repaired]
    assert after.index(("rec1", "reset")) < after.index(("rec1", "close"))
    *_shots, (_, back) = outage(truth, "lp_n1")  # the reclosing shots, then the sustained interruption
    assert repaired <= back < repaired + 60.0
    assert not [e for e in events if e["kind"] == "crew_order" and e["task"] != "repair"]
    assert first(events, "flisr_normal")["failed"] == []


def test_unreachable_switch_isolates_at_the_next_one_and_a_crew_narrows_the_zone(tmp_path):
    def edit(spec):
        for link in spec["comm"]["links"]:
            if link["b"] == "rtu_s3":  # the RTU of s3 is cut off for the whole story
                link["outages"] = [{"start_s": 1800, "duration_s": 36000}]
        dms_params(spec)["remote_patience_s"] = 300
        crews_params(spec)["crews"] = 2
        crews_params(spec)["repair_mean_h"] = 3
        spec["run"]["duration"] = "10h"
    events, truth = run(tmp_path, edit)
    widened = first(events, "flisr_isolation_widened", silent="s3")
    assert widened["buses"] == ["n2", "n3"]
    # upstream of the fault: back as soon as s2 is open and the recloser closed
    assert max(end for _, end in outage(truth, "lp_n1")) - FAULT_AT_S < 120.0
    # beyond the silent switch: back when a crew has opened s3 by hand and the tie is closed, before the repair
    done = first(events, "crew_work_done", task="open")
    n3_back = max(end for _, end in outage(truth, "lp_n3"))
    repaired = first(events, "flisr_repaired")["time_s"]
    assert done["time_s"] <= n3_back < repaired
    assert first(events, "flisr_narrowed")["switches"] == ["s3"]
    assert first(events, "flisr_normal")["time_s"] > repaired


def test_weak_tie_is_refused_and_the_customers_beyond_wait_for_the_repair(tmp_path):
    def edit(spec):
        for line in spec["grid"]["lines"]:
            if line["name"] == "lt":
                line["rate_a_mva"] = 0.5  # far below the 1.0 MW beyond the fault
    events, truth = run(tmp_path, edit)
    restored = first(events, "flisr_restored")
    assert restored["ties"] == [] and restored["stranded_customers"] == 250
    assert not [e for e in events if e["kind"] == "scada_command" and e["device"] == "rtu_tie" and e["command"] == "close"]
    repaired = first(events, "flisr_repaired")["time_s"]
    assert max(end for _, end in outage(truth, "lp_n3")) >= repaired
    assert max(end for _, end in outage(truth, "lp_n1")) - FAULT_AT_S < 120.0


def test_operator_and_processing_delays_hold_the_plan(tmp_path):
    def edit(spec):
        dms_params(spec).update(processing_delay_s=20.0, operator_delay_s=120.0)
    events, truth = run(tmp_path, edit)
    detected, located = first(events, "flisr_detected"), first(events, "flisr_located")
    assert located["time_s"] - detected["time_s"] == pytest.approx(20.0)
    first_command = next(e for e in events if e["kind"] == "scada_command" and e["command"] == "open")
    assert first_command["time_s"] >= located["time_s"] + 120.0
    assert max(end - start for start, end in outage(truth, "lp_n3")) > 140.0  # interrupted for the delays: no longer instantaneous
