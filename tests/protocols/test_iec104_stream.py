"""IEC 60870-5-104 in simulated time: two RTUs as controlled stations report to a controlling station through comm.

The scenario's trace (every APDU's octets, in hex) is written as a pcap and
judged by tshark's IEC 104 dissectors (iec60870_104 for the APCI,
iec60870_asdu for the ASDU): every frame dissects with nothing malformed and
no expert error, the send and receive sequence numbers run without a gap per
direction, and the spontaneous single points tshark reads (station, IOA,
state, CP56Time2a) are the ones the master logged. The recloser's trip
reaches the master spontaneously with the RTU's synchronised time; the
operator's select-and-execute opens the switch; a direct execute is refused
by the RTU that demands a select.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from cosim.cli import main
from cosim.comm.pcap import Segment, write_pcap

SCENARIO = Path(__file__).parents[2] / "configs" / "iec104_feeder.yaml"
ADDRESSES = {"scada": "10.0.0.1", "substation": "10.0.1.1", "pole_radio": "10.0.1.2"}
COMMON_ADDRESS = {"sub_rtu": 1, "pole_rtu": 2}
START_US = round(datetime.datetime(2026, 7, 1, 12, tzinfo=datetime.timezone.utc).timestamp() * 1_000_000)
EXPERT_ERROR = "8388608"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("iec104") / "run"
    assert main(["run", str(SCENARIO), "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def pcap(run, tmp_path_factory) -> tuple[Path, list[dict]]:
    with (run / "messages.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["protocol"] == "iec104" and r["status"] == "delivered"]
    segments = []
    for r in rows:
        ports = [40000 if node == "scada" else 2404 for node in (r["src"], r["dst"])]
        segments.append(Segment(float(r["done_s"]), (ADDRESSES[r["src"]], ports[0]), (ADDRESSES[r["dst"]], ports[1]),
                                bytes.fromhex(r["info"])))
    path = tmp_path_factory.mktemp("pcap") / "iec104.pcap"
    write_pcap(path, segments)
    return path, rows


def events(run: Path, kind: str) -> list[dict]:
    with (run / "events.jsonl").open() as f:
        return [e for e in map(json.loads, f) if e["kind"] == kind]


def tshark(path: Path, *fields: str, display: str = "iec60870_104") -> list[list[str]]:
    args = ["tshark", "-r", str(path), "-Y", display, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=;"]
    for name in fields:
        args += ["-e", name]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env={**os.environ, "TZ": "UTC"})
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines() if line]


def test_every_apdu_of_the_trace_dissects_cleanly_in_sequence(pcap):
    path, rows = pcap
    lines = tshark(path, "ip.src", "ip.dst", "iec60870_104.type", "iec60870_104.tx", "iec60870_104.rx",
                   "iec60870_asdu.typeid", "_ws.malformed", "_ws.expert.severity")
    assert len(lines) == len(rows)
    next_tx: dict[tuple[str, str], int] = {}
    types: Counter = Counter()
    for src, dst, frame_type, tx, _rx, typeid, malformed, severity in lines:
        assert not malformed and EXPERT_ERROR not in severity.split(";")
        if int(frame_type, 16) == 0:  # I format: N(S) counts up by one per direction (no loss on these links)
            assert int(tx) == next_tx.get((src, dst), 0)
            next_tx[(src, dst)] = int(tx) + 1
            types[int(typeid)] += 1
    # interrogations, clock syncs, commands, both monitored types in both forms
    assert {100, 103, 45, 1, 13, 30, 36} <= set(types)


def test_tshark_reads_the_spontaneous_points_the_master_logged(run, pcap):
    lines = tshark(pcap[0], "iec60870_asdu.addr", "iec60870_asdu.ioa", "iec60870_asdu.siq.spi",
                   "iec60870_asdu.cp56time", display="iec60870_asdu.typeid == 30")
    seen = Counter()
    for address, ioas, states, stamps in lines:
        for ioa, state, stamp in zip(ioas.split(";"), states.split(";"), stamps.split(";")):
            moment = datetime.datetime.strptime(stamp.replace(" UTC", "")[:-3], "%b %d, %Y %H:%M:%S.%f")
            ms = round(moment.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
            seen[(int(address), int(ioa), state in ("1", "True"), ms)] += 1
    logged = Counter((COMMON_ADDRESS[e["station"]], e["ioa"], e["value"], e["stamp_ms"])
                     for e in events(run, "iec104_spontaneous") if e["ioa"] < 1000)
    assert logged and seen == logged


def test_the_recloser_trip_arrives_spontaneously_with_the_rtus_synchronised_time(run):
    trip = next(e for e in events(run, "device_action") if e["device"] == "feeder_recloser" and e["closed"] is False)
    offset = [e["offset_ms"] for e in events(run, "iec104_clock_sync")
              if e["device"] == "pole_rtu" and e["time_s"] < trip["time_s"]][-1]
    heard = next(e for e in events(run, "iec104_spontaneous")
                 if e["station"] == "pole_rtu" and e["ioa"] == 1 and e["value"] is False)
    # The RTU's clock is the device clock plus the offset the master's clock sync set (the sync's latency: 104
    # sends no delay compensation); the tag is the instant of the step that saw the switch open.
    assert heard["stamp_ms"] == (START_US + round(trip["time_s"] * 1e6)) // 1000 + offset
    assert -1000 < offset <= 0 and heard["time_s"] - trip["time_s"] < 1.0


def test_select_and_execute_operates_and_a_direct_execute_is_refused(run, pcap):
    results = [(e["ioa"], e["select_before_operate"], e["result"]) for e in events(run, "iec104_command")
               if "actor" in e]
    assert results == [(2001, True, "confirmed"), (2002, False, "refused"), (2002, True, "confirmed")]
    actions = [(e["device"], e["closed"]) for e in events(run, "device_action") if e["time_s"] >= 1800]
    assert actions == [("pole_rtu", False), ("pole_rtu", True)]
    commands = tshark(pcap[0], "iec60870_asdu.causetx", "iec60870_asdu.nega", "iec60870_asdu.ioa",
                      "iec60870_asdu.sco.se", "iec60870_asdu.sco.on", display="iec60870_asdu.typeid == 45")
    # (cause, negative, IOA, select, on): select/con, execute/con/term; refused execute; select/con, execute/con/term
    as_bits = [(int(c), n in ("1", "True"), int(i), s in ("1", "True"), o in ("1", "True"))
               for c, n, i, s, o in commands]
    assert as_bits == [
        (6, False, 2001, True, True), (7, False, 2001, True, True), (6, False, 2001, False, True),
        (7, False, 2001, False, True), (10, False, 2001, False, True),
        (6, False, 2002, False, True), (7, True, 2002, False, True),
        (6, False, 2002, True, True), (7, False, 2002, True, True), (6, False, 2002, False, True),
        (7, False, 2002, False, True), (10, False, 2002, False, True)]


def test_the_first_interrogation_answers_the_bus_voltage_the_grid_solved(run, pcap):
    with (run / "timeseries.csv").open() as f:
        vm_pu = next(float(r["value"]) for r in csv.DictReader(f) if r["entity"] == "bus/sub_mv" and r["quantity"] == "vm")
    lines = tshark(pcap[0], "iec60870_asdu.addr", "iec60870_asdu.ioa", "iec60870_asdu.float",
                   display="iec60870_asdu.typeid == 13 && iec60870_asdu.causetx == 20")
    address, ioas, values = lines[0]
    answered = dict(zip(map(int, ioas.split(";")), map(float, values.split(";"))))
    # sub_rtu's bus_kv: the 11 kV bus's magnitude in kV, in a u16 of 0.01 kV, sent as a short float
    assert int(address) == 1 and answered[1001] == pytest.approx(round(vm_pu * 11, 2), rel=1e-6)
