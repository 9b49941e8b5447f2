"""Story: a permanent fault on F1 -> recloser lockout -> SCADA alarm over comm -> DMS isolates and
closes the tie -> healthy customers back, faulted section waits for the crew -> indices.
Fibre and degraded cellular (configs/flisr_fibre.yaml, configs/flisr_cellular.yaml).

Field devices are the stand-ins of standins.py until the devices layer binds real ones.
"""

import csv
import json
from pathlib import Path

import pytest

from cosim.runner import build_world
from cosim.scenario import load_scenario
from standins import attach_standins

CONFIGS = Path(__file__).parents[2] / "configs"
FAULT_AT_S = 3600.0


def run(name: str, out: Path):
    scenario = load_scenario(CONFIGS / f"{name}.yaml")
    world, _ = build_world(scenario, out)
    attach_standins(world)
    world.run(scenario.spec.run.duration)
    world.recorder.close(status="completed")
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    outages = {source: list(csv.DictReader((out / f"{table}.csv").open())) for source, table in (("oms", "outages"), ("truth", "outages_truth"))}
    return world.service("dms/control_centre"), events, outages


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return {name: run(name, tmp_path_factory.mktemp(name)) for name in ("flisr_fibre", "flisr_cellular")}


def sustained(rows, lp):
    return [r for r in rows if r["load_point"] == lp and r["kind"].startswith("sustained")]


def test_fibre_story(runs):
    dms, events, outages = runs["flisr_fibre"]
    [incident] = dms.incidents
    assert incident.device == "rec1" and incident.faulted_buses == ("n2",) and incident.ties_closed == ("tie",)
    assert not incident.failed_steps
    kinds = [e["kind"] for e in events]
    assert "scada_alarm" in kinds and kinds.index("flisr_located") < kinds.index("flisr_isolated") < kinds.index("flisr_restored")
    # healthy customers up and downstream of the faulted section: back seconds after the lockout is seen
    assert incident.downstream_restored_s - incident.detected_s < 5.0
    truth = outages["truth"]
    assert not sustained(truth, "lp_n1") and not sustained(truth, "lp_n3") and not sustained(truth, "lp_m1")
    # the faulted section waits for the crew's repair, then the DMS goes back to normal
    [waits] = sustained(truth, "lp_n2")
    assert float(waits["end_s"]) >= incident.repaired_s - 2.0 and incident.normal_s >= incident.repaired_s
    assert dms.states == dms.graph.normal_states()


def test_oms_agrees_with_the_grid_truth(runs):
    for name, (dms, events, outages) in runs.items():
        oms = {r["load_point"]: float(r["duration_s"]) for r in outages["oms"] if r["kind"].startswith("sustained")}
        truth = {r["load_point"]: float(r["duration_s"]) for r in outages["truth"] if r["kind"].startswith("sustained")}
        assert oms.keys() == truth.keys(), name
        for lp in oms:
            assert oms[lp] == pytest.approx(truth[lp], abs=10.0), (name, lp)  # a poll scan plus the truth's 1 s step
        indices = {e["source"]: e for e in events if e["kind"] == "reliability_indices"}
        assert indices["oms"]["system_saifi_per_year"] == pytest.approx(indices["truth"]["system_saifi_per_year"])
        assert indices["oms"]["system_saidi_hours_per_year"] == pytest.approx(indices["truth"]["system_saidi_hours_per_year"], rel=0.01)
        assert indices["oms"]["rec2_saifi_per_year"] == 0.0


def test_restoration_takes_longer_over_degraded_cellular(runs):
    fibre, _, fibre_outages = runs["flisr_fibre"]
    cellular, events, cellular_outages = runs["flisr_cellular"]
    fast, slow = fibre.incidents[0], cellular.incidents[0]
    assert slow.downstream_restored_s - FAULT_AT_S > fast.downstream_restored_s - FAULT_AT_S + 300.0
    # the customers beyond the fault see a sustained interruption over cellular, a momentary one over fibre
    assert sustained(cellular_outages["truth"], "lp_n3") and not sustained(fibre_outages["truth"], "lp_n3")
    assert any(e["kind"] == "scada_command" and e["outcome"] != "ok" for e in events)
    assert any(e["kind"] == "scada_comm_alarm" and e["status"] == "lost" for e in events)
