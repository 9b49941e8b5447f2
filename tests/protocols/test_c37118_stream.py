"""C37.118.2 in simulated time: PMUs answer a PDC's commands and stream frames through the comm network.

The trace's frames are written as a pcap and judged by tshark's synchrophasor
dissector: every frame valid with a good checksum, and the frequencies tshark
reads are the ones the PDC recorded. The frequency dip after the generator
trip comes from the grid's area model, seen through the frames.
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest

from cosim.cli import main
from cosim.comm.pcap import Segment, write_pcap

SCENARIO = Path(__file__).parents[2] / "configs" / "pmu_c37118.yaml"
ADDRESSES = {"control_centre": "10.0.0.1", "sub_b1": "10.0.1.1", "sub_b2": "10.0.1.2"}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pmu") / "run"
    assert main(["run", str(SCENARIO), "--until", "16s", "--out", str(out), "--no-progress"]) == 0
    return out


def frames(run: Path) -> list[dict[str, str]]:
    with (run / "messages.csv").open() as f:
        return [r for r in csv.DictReader(f) if r["protocol"] == "c37118" and r["status"] == "delivered"]


def test_the_pdc_gets_both_configurations_and_thirty_frames_a_second(run):
    rows = frames(run)
    kinds = [r["kind"] for r in rows]
    assert kinds.count("cfg2") == 2 and kinds.count("command") == 4  # send CFG-2 and turn on, per PMU
    data_times = sorted(float(r["sent_s"]) for r in rows if r["kind"] == "data" and r["src"] == "sub_b1")
    assert len([t for t in data_times if 5.0 <= t < 15.0]) == 300


def test_tshark_reads_every_frame_and_the_pdcs_frequencies(run, tmp_path):
    rows = frames(run)
    pcap = tmp_path / "c37118.pcap"
    segments = []
    for r in rows:
        src_port = 4712 if r["src"].startswith("sub_") else 40000
        dst_port = 4712 if r["dst"].startswith("sub_") else 40000
        segments.append(Segment(float(r["done_s"]), (ADDRESSES[r["src"]], src_port), (ADDRESSES[r["dst"]], dst_port),
                                bytes.fromhex(r["info"])))
    write_pcap(pcap, segments)
    fields = subprocess.run(["tshark", "-r", str(pcap), "-d", "tcp.port==4712,synphasor", "-Y", "synphasor", "-T", "fields",
                             "-e", "synphasor.frtype", "-e", "synphasor.checksum.status", "-e", "_ws.malformed",
                             "-e", "synphasor.idcode_stream_source", "-e", "synphasor.actual_frequency_value"],
                            capture_output=True, text=True, timeout=120)
    assert fields.returncode == 0, fields.stderr
    lines = [line.split("\t") for line in fields.stdout.splitlines() if line]
    assert len(lines) == len(rows)
    assert all(line[1] == "1" and not line[2] for line in lines), "every frame: good checksum, not malformed"
    tshark_freq = [float(line[4]) for line in lines if int(line[0], 16) == 0 and line[3] == "11"]
    with (run / "timeseries.csv").open() as f:
        pdc_freq = [float(r["value"]) for r in csv.DictReader(f)
                    if r["entity"] == "control_centre/pmu11" and r["quantity"] == "frequency"]
    assert tshark_freq == pytest.approx(pdc_freq, abs=1e-4)
    before, after = pdc_freq[: 9 * 30], pdc_freq[12 * 30:]
    assert min(before) == pytest.approx(50.0) and max(after) < 49.8  # the trip at 10 s pulls the area down


def test_a_malformed_frame_is_rejected_and_logged():
    from cosim.comm import CommNetwork, Delay
    from cosim.comm.c37118 import CommandCode, CommandFrame
    from cosim.kernel import World
    from devices.protocols.c37118_endpoint import C37118Endpoint, PmuStream

    world = World(seed=1)
    network = CommNetwork(world)
    for node in ("pdc", "sub"):
        network.add_node(node)
    network.add_link("pdc", "sub", Delay.fixed(0.01), 1e6)
    logged: list[str] = []
    endpoint = C37118Endpoint.of(network, "sub", lambda kind, **fields: logged.append(kind))
    endpoint.add(PmuStream(11, lambda: b"cfg-bytes", "header", lambda: b"data"))
    answers: list[bytes] = []
    network.attach("pdc", "c37118", lambda message: answers.append(bytes(message.payload)))
    good = CommandFrame(11, 0, 0, CommandCode.SEND_CFG2).encode()
    bad = network.send("pdc", "sub", "c37118", good[:-1] + bytes([good[-1] ^ 0xFF]), len(good))
    world.run(1.0)
    assert bad.status == "rejected" and "CRC" in bad.reason and logged == ["c37118_bad_frame"] and answers == []
    network.send("pdc", "sub", "c37118", good, len(good))
    world.run(2.0)
    assert answers == [b"cfg-bytes"]
