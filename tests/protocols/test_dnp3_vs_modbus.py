"""The scenario pair: the same feeder and faults seen by SCADA over DNP3 (unsolicited + hourly integrity) and over
Modbus (2 s scans).

What it shows: DNP3's sequence of events gives the master every change of the
recloser's position, in order, within a link's latency, with the device's
time stamp; a 2 s scan misses the open/close cycles of a reclosing sequence
that are shorter than the scan and learns the rest up to a scan period late.
And report by exception costs a fraction of the messages. The figures are in
docs/protocols.md (measured with benchmarks/bench_dnp3.py).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cosim.cli import main

PAIR = Path(__file__).parents[2] / "configs" / "dnp3_vs_modbus"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for side in ("dnp3", "modbus"):
        out[side] = tmp_path_factory.mktemp(side) / "run"
        assert main(["run", str(PAIR / f"{side}.yaml"), "--out", str(out[side]), "--no-progress"]) == 0
    return out


def events(run: Path, kind: str) -> list[dict]:
    with (run / "events.jsonl").open() as f:
        return [e for e in map(json.loads, f) if e["kind"] == kind]


def recloser_positions(run: Path) -> list[tuple[float, bool]]:
    return [(e["time_s"], e["closed"]) for e in events(run, "device_action") if e["device"] == "feeder_recloser"]


def messages(run: Path, protocol: str) -> int:
    with (run / "messages.csv").open() as f:
        return sum(1 for r in csv.DictReader(f) if r["protocol"] == protocol)


def test_both_sides_see_the_same_grid(runs):
    positions = recloser_positions(runs["dnp3"])
    assert positions == recloser_positions(runs["modbus"])
    assert len(positions) == 11 and positions[-1][1] is False  # three faults; the last one ends in lockout


def test_dnp3_reports_every_change_in_order_within_the_links_latency(runs):
    positions = recloser_positions(runs["dnp3"])
    heard = [e for e in events(runs["dnp3"], "dnp3_binary_event") if e["outstation"] == "feeder_recloser" and e["index"] == 0]
    assert [e["value"] for e in heard] == [closed for _, closed in positions]
    assert all(e["unsolicited"] for e in heard)
    for (when, _), e in zip(positions, heard):
        assert when < e["time_s"] < when + 1.0  # LTE latency, not a scan period
        assert abs(e["stamp_ms"] / 1000 - (1_782_907_200 + when)) < 0.2  # the device's time of the change


def test_a_two_second_scan_misses_short_cycles_and_learns_late(runs):
    positions = recloser_positions(runs["modbus"])
    learned = [e for e in events(runs["modbus"], "scada_point_change")
               if e["device"] == "feeder_recloser" and e["point"] == "closed"]
    assert 0 < len(learned) < len(positions)  # a reclose interval shorter than the scan is invisible to it
    for e in learned:
        caused = max(t for t, closed in positions if closed == e["value"] and t <= e["time_s"])
        assert e["time_s"] - caused < 2.0 + 1.0  # at most one scan period (plus a poll's round trip) late


def test_report_by_exception_costs_a_fraction_of_the_messages(runs):
    dnp3, modbus = messages(runs["dnp3"], "dnp3"), messages(runs["modbus"], "modbus")
    assert 0 < dnp3 * 100 < modbus
