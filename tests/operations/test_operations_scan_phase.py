"""A SCADA master's scan phase: all devices polled at the same instants, or their first polls spread over the scan.

A front end with a long scan list does not send every request at once; with
``scan_phase: spread`` the i-th of n devices is first polled i/n of its scan
period after the start (then every period after each poll), so the requests
of a large population come as a steady stream instead of one burst per scan.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from cosim.runner import build_world, finish_recording, start_recording
from cosim.scenario import load_scenario

POINTS = [{"name": "bus_kv", "kind": "analog", "source": "bus/mv:v_kv", "data_type": "u16", "scale": 0.01},
          {"name": "cb_closed", "kind": "status", "source": "switch/cb:closed"}]


def first_polls(tmp_path: Path, phase: str) -> dict[str, list[float]]:
    """Send times of the requests from the master to each of four RTUs in 150 s with a 60 s scan."""
    rtus = [f"rtu{i}" for i in range(4)]
    scenario = {
        "name": f"scan_{phase}", "run": {"duration": "150s", "step": "150s", "seed": 1},
        "actors": [{"id": "utility", "domain": "Distribution", "role": "Feeder owner"},
                   {"id": "cc", "domain": "Operations", "role": "SCADA", "applications": [
                       {"kind": "scada_master", "params": {"node": "control", "scan_s": 60, "poll": rtus,
                                                           "scan_phase": phase}}]}],
        "grid": {"base_mva": 100, "frequency_hz": 50,
                 "buses": [{"name": "src", "base_kv": 11}, {"name": "mv", "base_kv": 11}],
                 "generators": [{"name": "g", "bus": "src", "slack": True}],
                 "lines": [{"name": "feeder", "from_bus": "src", "to_bus": "mv", "r_ohm": 0.6, "x_ohm": 0.7}],
                 "switches": [{"name": "cb", "branch": "feeder", "bus": "src", "kind": "breaker"}],
                 "loads": [{"name": "load", "bus": "mv", "p_mw": 1.0, "q_mvar": 0.2}]},
        "comm": {"nodes": [{"id": "control"}] + [{"id": r} for r in rtus],
                 "links": [{"a": "control", "b": r, "profile": "lan"} for r in rtus]},
        "devices": [{"id": r, "kind": "rtu", "node": r, "unit_id": 1, "actor": "utility",
                     "params": {"points": POINTS}} for r in rtus],
    }
    path = tmp_path / phase / "scenario.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    loaded = load_scenario(path)
    out = path.parent / "out"
    world, _ = build_world(loaded, out)
    start_recording(world, loaded, out)
    world.run(loaded.spec.run.duration)
    finish_recording(world, loaded, out, "completed", None, 0.0)
    sent: dict[str, list[float]] = {r: [] for r in rtus}
    with (out / "messages.csv").open() as rows:
        for row in csv.DictReader(rows):
            if row["protocol"] == "modbus" and row["kind"] == "request":
                sent[row["dst"]].append(float(row["sent_s"]))
    return sent


def test_aligned_scans_poll_every_device_at_the_start(tmp_path: Path) -> None:
    sent = first_polls(tmp_path, "aligned")
    assert [times[0] for times in sent.values()] == [0.0] * 4


def test_spread_scans_start_each_device_a_fraction_of_the_scan_later_and_keep_the_period(tmp_path: Path) -> None:
    sent = first_polls(tmp_path, "spread")
    assert [times[0] for times in sent.values()] == [0.0, 15.0, 30.0, 45.0]
    for times in sent.values():
        polls = sorted(set(times))  # a poll reads two tables: two requests, milliseconds apart
        starts = [t for i, t in enumerate(polls) if i == 0 or t - polls[i - 1] > 1.0]
        assert len(starts) >= 2
        assert 60.0 <= starts[1] - starts[0] < 61.0  # the scan period, plus the poll's own time
