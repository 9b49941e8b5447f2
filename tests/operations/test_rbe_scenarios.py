"""Report by exception against polling, on the FLISR fibre story (configs/flisr_fibre.yaml and configs/rbe/).

The three members of the pair differ only in how the field devices inform the
SCADA master: polled every 2 s / 10 s, status changes reported at once with
analogs still scanned (mixed), or everything by exception with one integrity
poll an hour (rbe). The runs stop at 1 h 5 min (the fault is at 1 h; FLISR
restores within a minute). What must differ is behaviour, not wall time:
SCADA learns each trip within the network latency instead of at the next scan,
the OMS sees every reclosing interruption the grid truth has, and Modbus
traffic falls by orders of magnitude; FLISR works the same in every mode.
"""

import csv
import json
from pathlib import Path

import pytest

from cosim.runner import build_world, finish_recording, start_recording
from cosim.scenario import load_scenario

CONFIGS = Path(__file__).parents[2] / "configs"
FAULT_AT_S = 3600.0
UNTIL_S = 3900.0
SCENARIOS = {"poll": CONFIGS / "flisr_fibre.yaml", "mixed": CONFIGS / "rbe" / "flisr_fibre_mixed.yaml",
             "rbe": CONFIGS / "rbe" / "flisr_fibre_rbe.yaml"}


def run(path: Path, out: Path):
    scenario = load_scenario(path)
    world, _ = build_world(scenario, out)
    start_recording(world, scenario, out)
    world.run(UNTIL_S)
    finish_recording(world, scenario, out, "completed", None, 0.0)
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    outages = {table: list(csv.DictReader((out / f"{table}.csv").open())) for table in ("outages", "outages_truth")}
    return world, events, outages


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return {mode: run(path, tmp_path_factory.mktemp(mode)) for mode, path in SCENARIOS.items()}


def seen_open(events, device):
    """Times SCADA learned that ``device``'s switch opened."""
    return [e["time_s"] for e in events if e["kind"] == "scada_point_change" and e["device"] == device
            and e["point"] in ("closed", "breaker_closed") and e["value"] is False]


def test_report_by_exception_sees_every_trip_within_network_latency(runs):
    latency = {}
    for mode in ("poll", "mixed", "rbe"):
        _world, events, _ = runs[mode]
        trips = [e["time_s"] for e in events if e["kind"] == "recloser_trip"]
        assert len(trips) == 4  # protection is the same in every mode
        seen = seen_open(events, "rec1")
        if mode == "poll":
            # a 2 s scan cannot see an open interval shorter than the scan: some trips pass unseen
            assert len(seen) < len(trips)
        else:
            assert len(seen) == len(trips)
            # each report comes from the device at the trip instant and crosses fibre: milliseconds, not a scan
            assert all(0 < s - t < 0.1 for s, t in zip(seen, trips))
        latency[mode] = seen[0] - trips[0]
    assert latency["rbe"] < 0.1 < latency["poll"]


def test_oms_counts_every_reclosing_interruption_only_with_reports(runs):
    for mode in ("poll", "mixed", "rbe"):
        _world, _events, outages = runs[mode]
        oms = sorted((r["load_point"], r["kind"]) for r in outages["outages"] if r["kind"] == "momentary")
        truth = sorted((r["load_point"], r["kind"]) for r in outages["outages_truth"] if r["kind"] == "momentary")
        assert (oms == truth) is (mode != "poll")


def test_flisr_isolates_and_restores_in_every_mode(runs):
    for mode in ("poll", "mixed", "rbe"):
        world, events, _ = runs[mode]
        [incident] = world.service("dms/control_centre").incidents
        assert incident.device == "rec1" and incident.faulted_buses == ("n2",) and incident.ties_closed == ("tie",)
        assert not incident.failed_steps
        assert any(e["kind"] == "flisr_restored" for e in events)


def test_message_counts_follow_the_mode(runs):
    polls = {mode: runs[mode][0].service("scada/control_centre").polls for mode in runs}
    reports = {mode: runs[mode][0].service("scada/control_centre").reports for mode in runs}
    modbus = {mode: runs[mode][0].service("comm").trace.by_protocol.get("modbus", 0) for mode in runs}
    assert reports["poll"] == 0 and reports["mixed"] > 0 and reports["rbe"] > reports["mixed"]
    assert polls["mixed"] == pytest.approx(polls["poll"], rel=0.05)  # mixed keeps the scan
    # rbe: an integrity poll per device at start and one an hour, plus the DMS's check-backs after commands
    assert polls["rbe"] < 50 and modbus["rbe"] * 100 < modbus["poll"]


def test_a_poll_only_master_keeps_the_modbus_path_for_reporting_devices(tmp_path):
    text = SCENARIOS["rbe"].read_text()
    text = text.replace("network_model: ../flisr_fibre.yaml", f"network_model: {CONFIGS / 'flisr_fibre.yaml'}")
    text = text.replace("          integrity_s: 3600", "          accept_reports: false\n          integrity_s: 3600")
    path = tmp_path / "poll_only.yaml"
    path.write_text(text)
    world, events, _ = run(path, tmp_path / "out")
    scada = world.service("scada/control_centre")
    # the devices still publish (nobody subscribed), the master scans every 2 s / 10 s as in the polling scenario
    assert scada.reports == 0 and scada.polls > 2000
    assert len(seen_open(events, "rec1")) < 4
    [incident] = world.service("dms/control_centre").incidents
    assert incident.ties_closed == ("tie",) and not incident.failed_steps
