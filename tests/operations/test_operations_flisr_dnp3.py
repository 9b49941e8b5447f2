"""FLISR from DNP3 reports: configs/flisr_dnp3.yaml against configs/flisr_fibre.yaml (Modbus scans).

The same feeders, devices, fault and DMS; only SCADA's protocol differs. Over
DNP3 the recloser's lockout and the RTUs' fault-passage indicators reach the
DMS as time-stamped events in unsolicited responses, with an integrity poll an
hour instead of 2 s and 10 s scans. The DMS must locate, isolate and restore
exactly as over Modbus (same located section, same switching, same customers
back, same return to normal) on a fraction of the messages.
"""

from __future__ import annotations

import collections
import csv
import json
from pathlib import Path

import pytest

from cosim.runner import build_world, finish_recording, start_recording
from cosim.scenario import load_scenario

CONFIGS = Path(__file__).parents[2] / "configs"


def run(name: str, out: Path):
    scenario = load_scenario(CONFIGS / f"{name}.yaml")
    world, _ = build_world(scenario, out)
    start_recording(world, scenario, out)
    world.run(scenario.spec.run.duration)
    finish_recording(world, scenario, out, "completed", None, 0.0)
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    truth = list(csv.DictReader((out / "outages_truth.csv").open()))
    messages = collections.Counter(r["protocol"] for r in csv.DictReader((out / "messages.csv").open()))
    return world.service("dms/control_centre"), events, truth, messages


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return {name: run(name, tmp_path_factory.mktemp(name)) for name in ("flisr_fibre", "flisr_dnp3")}


def ok_commands(events: list[dict]) -> list[tuple[str, str]]:
    return [(e["device"], e["command"]) for e in events if e["kind"] == "scada_command" and e["outcome"] == "ok"]


def sustained(truth: list[dict]) -> set[str]:
    return {r["load_point"] for r in truth if float(r["end_s"]) - float(r["start_s"]) > 60.0}


def test_the_dms_restores_from_dnp3_reports_as_from_modbus_polls(runs):
    modbus_dms, modbus_events, modbus_truth, _ = runs["flisr_fibre"]
    dnp3_dms, dnp3_events, dnp3_truth, _ = runs["flisr_dnp3"]
    [over_modbus], [over_dnp3] = modbus_dms.incidents, dnp3_dms.incidents
    assert over_dnp3.device == over_modbus.device == "rec1"
    assert over_dnp3.faulted_buses == over_modbus.faulted_buses == ("n2",)
    assert over_dnp3.ties_closed == over_modbus.ties_closed == ("tie",) and not over_dnp3.failed_steps
    assert ok_commands(dnp3_events) == ok_commands(modbus_events)  # open s2, s3; reset, close rec1; close tie; back
    assert sustained(dnp3_truth) == sustained(modbus_truth) == {"lp_n2"}  # only the faulted section waits
    assert dnp3_dms.states == dnp3_dms.graph.normal_states()
    assert over_dnp3.downstream_restored_s - over_dnp3.detected_s < 5.0


def test_the_lockout_arrives_as_a_time_stamped_unsolicited_event(runs):
    _, events, _, _ = runs["flisr_dnp3"]
    lockout = next(e for e in events if e["kind"] == "recloser_lockout")
    seen = next(e for e in events if e["kind"] == "scada_point_change" and e["device"] == "rec1"
                and e["point"] == "locked_out" and e["value"] is True)
    assert seen["via"] == "report" and seen["event_s"] == pytest.approx(lockout["time_s"], abs=1e-3)  # device's stamp
    assert seen["time_s"] - lockout["time_s"] < 0.1  # fibre latency, not a scan period
    indicator = next(e for e in events if e["kind"] == "scada_point_change" and e["device"] == "rtu_s2"
                     and e["point"] == "fault_indicator" and e["value"] is True)
    assert indicator["via"] == "report"
    [incident] = runs["flisr_dnp3"][0].incidents
    assert incident.detected_s < runs["flisr_fibre"][0].incidents[0].detected_s  # no scan to wait for


def test_dnp3_costs_a_fraction_of_the_messages(runs):
    modbus, dnp3 = runs["flisr_fibre"][3], runs["flisr_dnp3"][3]
    assert "modbus" not in dnp3 and dnp3["dnp3"] > 0
    assert dnp3["dnp3"] * 100 < modbus["modbus"]  # hourly integrity polls and events vs 2 s / 10 s scans
    assert dnp3["mqtt"] == modbus["mqtt"]  # the crew channel is the same
