"""DNP3 in simulated time: a relay and a recloser report to a SCADA master through the comm network.

The scenario's trace (every DNP3 message's link frames, in hex) is written as
a pcap and judged by tshark's DNP3 dissector: every frame valid with good
header and block CRCs, nothing malformed, and the binary events tshark reads
in the unsolicited responses -- outstation, point, state and time stamp --
are the ones the master logged. The operator's select-before-operate trip
opens the recloser, and the master learns it from the unsolicited event.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from cosim.cli import main
from cosim.comm.pcap import Segment, write_pcap

SCENARIO = Path(__file__).parents[2] / "configs" / "dnp3_feeder.yaml"
ADDRESSES = {"scada": "10.0.0.1", "substation": "10.0.1.1", "recloser_radio": "10.0.1.2"}
LINK_ADDRESS = {"sub_relay": 10, "feeder_recloser": 20}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dnp3") / "run"
    assert main(["run", str(SCENARIO), "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def pcap(run, tmp_path_factory) -> tuple[Path, int]:
    with (run / "messages.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["protocol"] == "dnp3" and r["status"] == "delivered"]
    segments = []
    for r in rows:
        ports = [40000 if node == "scada" else 20000 for node in (r["src"], r["dst"])]
        segments.append(Segment(float(r["done_s"]), (ADDRESSES[r["src"]], ports[0]), (ADDRESSES[r["dst"]], ports[1]),
                                bytes.fromhex(r["info"])))
    path = tmp_path_factory.mktemp("pcap") / "dnp3.pcap"
    write_pcap(path, segments)
    return path, len(rows)


def events(run: Path, kind: str) -> list[dict]:
    with (run / "events.jsonl").open() as f:
        return [e for e in map(json.loads, f) if e["kind"] == kind]


def tshark(*args: str) -> str:
    done = subprocess.run(["tshark", "-d", "tcp.port==20000,dnp3", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TZ": "UTC"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_frame_of_the_trace_dissects_cleanly(pcap):
    path, count = pcap
    out = tshark("-r", str(path), "-Y", "dnp3", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=;",
                 "-e", "dnp.hdr.CRC.status", "-e", "dnp.data_chunk.CRC.status", "-e", "_ws.malformed",
                 "-e", "_ws.expert.severity", "-e", "dnp3.al.func")
    lines = [line.split("\t") for line in out.splitlines() if line]
    assert len(lines) == count
    for header, chunks, malformed, severity, function in lines:
        assert header == "1" and set(chunks.split(";")) == {"1"} and not malformed and function
        assert "8388608" not in severity.split(";"), "no expert error"
    functions = Counter(int(line[4]) for line in lines)
    assert functions[130] >= 4 and functions[0] >= functions[130]  # unsolicited responses, each confirmed


def _tshark_binary_events(path: Path) -> Counter:
    text = tshark("-r", str(path), "-Y", "dnp3.al.func==130", "-V")
    found: Counter = Counter()
    source, in_binary = None, False
    for line in text.splitlines():
        if line.startswith("Frame "):
            source, in_binary = None, False
        elif (m := re.match(r"^\s{8}Source: (\d+)$", line)):
            source = int(m.group(1))
        elif "Object(s):" in line:
            in_binary = "(Obj:02, Var:02)" in line
        elif in_binary and (m := re.search(r"Point Number (\d+) .*Value: (\d), Timestamp: (.+)$", line)):
            stamp = datetime.datetime.strptime(m.group(3).strip()[:-3], "%b %d, %Y %H:%M:%S.%f")
            ms = round(stamp.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
            found[(source, int(m.group(1)), bool(int(m.group(2))), ms)] += 1
    return found


def test_tshark_reads_the_events_the_master_logged(run, pcap):
    logged = Counter((LINK_ADDRESS[e["outstation"]], e["index"], e["value"], e["stamp_ms"])
                     for e in events(run, "dnp3_binary_event") if e["unsolicited"])
    assert logged and _tshark_binary_events(pcap[0]) == logged


def test_the_operator_trips_by_select_before_operate_and_hears_it_unsolicited(run, pcap):
    controls = {e["action"]: e for e in events(run, "dnp3_control")}
    assert controls["trip"]["status"] == "SUCCESS" and controls["close"]["status"] == "SUCCESS"
    opened = [e for e in events(run, "device_action") if e["device"] == "feeder_recloser" and e["closed"] is False]
    assert any(1800 <= e["time_s"] < 1801 for e in opened)  # the SBO at 30 min opened it
    heard = [e for e in events(run, "dnp3_binary_event")
             if e["outstation"] == "feeder_recloser" and e["index"] == 0 and e["value"] is False and e["time_s"] >= 1800]
    assert heard and heard[0]["unsolicited"] and heard[0]["time_s"] < 1801
    out = tshark("-r", str(pcap[0]), "-Y", "dnp3.al.func==3 || dnp3.al.func==4 || dnp3.al.func==5 || "
                 "(dnp3.al.func==129 && dnp3.al.ctrlstatus)", "-T", "fields", "-e", "dnp3.al.func",
                 "-e", "dnp3.ctl.trip", "-e", "dnp3.al.ctrlstatus")
    # select, its echo, operate, its echo: trip (code 2); then direct operate close (code 1); every status SUCCESS
    assert [line.split("\t") for line in out.splitlines()] == [
        ["3", "2", "0"], ["129", "2", "0"], ["4", "2", "0"], ["129", "2", "0"], ["5", "1", "0"], ["129", "1", "0"]]


def test_the_master_synchronised_the_clocks(run):
    # Events are stamped with the outstation's corrected clock: within the links' one-way jitter of the true time.
    start_ms = round(datetime.datetime(2026, 7, 1, 12, tzinfo=datetime.timezone.utc).timestamp() * 1000)
    for e in events(run, "dnp3_binary_event"):
        assert abs(e["stamp_ms"] - (start_ms + e["time_s"] * 1000)) < 1000 * max(1.0, e["detection_s"] + 0.2)
    assert all(0 <= e["detection_s"] < 1 for e in events(run, "dnp3_binary_event") if e["unsolicited"])


def test_a_corrupt_frame_is_dropped_and_logged():
    from cosim.comm import CommNetwork, Delay
    from cosim.comm.dnp3 import AppControl, Dnp3Link, FunctionCode, ObjectHeader, Qualifier, Request
    from cosim.kernel import World
    from devices.protocols.dnp3_endpoint import Dnp3Endpoint, Dnp3Station
    from devices.protocols.dnp3_outstation import Outstation
    from devices.protocols.dnp3_points import RECLOSER
    from devices.registermaps import DeviceKind, standard_map
    from devices.registerstore import RegisterStore

    world = World(seed=1)
    network = CommNetwork(world)
    for node in ("scada", "rtu"):
        network.add_node(node)
    network.add_link("scada", "rtu", Delay.fixed(0.01), 1e6)
    logged: list[str] = []
    store = RegisterStore(standard_map(DeviceKind.RECLOSER))
    station = Dnp3Station(world, Outstation(RECLOSER, store, lambda: 0), 20, 1, 5.0, "rec")
    Dnp3Endpoint.of(network, "rtu", lambda kind, **fields: logged.append(kind)).add(station)
    world.log = lambda kind, **fields: logged.append(kind)  # type: ignore[method-assign]
    answers: list[bytes] = []
    network.attach("scada", "dnp3", lambda message: answers.append(bytes(message.payload)))
    good = Dnp3Link(1, True).send(20, Request(AppControl(0), FunctionCode.READ, (ObjectHeader(60, 1, Qualifier.ALL),)).encode())
    network.send("scada", "rtu", "dnp3", good[:-1] + bytes([good[-1] ^ 0xFF]), len(good))
    world.run(1.0)
    assert logged == ["dnp3_frame_dropped"] and answers == []
    network.send("scada", "rtu", "dnp3", good, len(good))
    world.run(2.0)
    assert len(answers) == 2  # the null unsolicited response and the answer to the read


def test_an_unconfirmed_report_is_retried_then_resent_to_a_new_connection():
    from cosim.comm.dnp3 import AppControl, Dnp3Link, FunctionCode, ObjectHeader, Qualifier, Request, decode_response
    from cosim.kernel import World
    from devices.protocols.dnp3_endpoint import Dnp3Station
    from devices.protocols.dnp3_outstation import Outstation
    from devices.protocols.dnp3_points import RECLOSER
    from devices.registermaps import DeviceKind, standard_map
    from devices.registerstore import RegisterStore

    world = World(seed=1)
    station = Dnp3Station(world, Outstation(RECLOSER, RegisterStore(standard_map(DeviceKind.RECLOSER)), lambda: 0),
                          20, 1, 5.0, "rec")
    master = Dnp3Link(1, True)
    first: list[bytes] = []
    second: list[bytes] = []

    def sent_to(box: list[bytes]):
        return lambda octets, kind: box.append(octets)

    read = Request(AppControl(0), FunctionCode.READ, (ObjectHeader(1, 2, Qualifier.ALL),)).encode()
    peer_a = sent_to(first)
    station.receive(master.send(20, read), peer_a, stream=False)
    null = [f for f in first if decode_response(master.receive(f).fragments[0][1]).control.unsolicited]
    assert len(null) == 1  # the null unsolicited response, unconfirmed
    world.run(11.0)
    assert len(first) == 2 + 2  # response, null report, and two retries 5 s apart
    station.connect(None)  # the connection dropped
    world.run(20.0)
    assert len(first) == 4
    station.receive(master.send(20, read), sent_to(second), stream=False)
    kinds = [decode_response(master.receive(f).fragments[0][1]).function for f in second]
    assert kinds == [FunctionCode.RESPONSE, FunctionCode.UNSOLICITED_RESPONSE]  # resent on the new connection


def test_without_unsolicited_the_master_learns_events_by_its_event_polls(tmp_path):
    import yaml

    spec = yaml.safe_load(SCENARIO.read_text())
    master = spec["actors"][2]["applications"][0]["params"]
    master.update(unsolicited=False, event_poll_s=5, commands=[])
    spec["run"]["duration"] = "15min"
    path = tmp_path / "polled.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    heard = [e for e in events(tmp_path / "run", "dnp3_binary_event") if e["outstation"] == "feeder_recloser"]
    opened = [e for e in heard if e["index"] == 0 and e["value"] is False]
    assert opened and not any(e["unsolicited"] for e in heard)
    assert 600 < opened[0]["time_s"] <= 605 + 1  # the next 5 s event poll after the 10 min trip
