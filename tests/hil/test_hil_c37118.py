"""PMUs served over IEEE C37.118.2 on real TCP, read by an independent PDC (the `synchrophasor` package).

The scenario is configs/pmu_c37118.yaml served in real time. The client is
pypmu's PDC (`synchrophasor`), which sends the commands and parses the header
and CFG-2 frames with its own code (a command frame carries its ``pdc_id`` as
IDCODE, so it is given the PMU's). The data frames it receives are judged by
tshark's synchrophasor dissector.
"""

from __future__ import annotations

import calendar
import collections
import collections.abc
import socket
import subprocess

import pytest

# synchrophasor 1.0.0a0 still spells collections.Sequence, removed in Python 3.10: restore the alias it means.
collections.Sequence = collections.abc.Sequence  # type: ignore[attr-defined]

from synchrophasor.frame import ConfigFrame2, HeaderFrame  # noqa: E402
from synchrophasor.pdc import Pdc  # noqa: E402

from cosim.comm.c37118 import CommandCode, CommandFrame  # noqa: E402
from cosim.comm.pcap import Segment, write_pcap  # noqa: E402
from cosim.hil.config import C37118ServeConfig  # noqa: E402

from hiltools import ROOT, ServedWorld, read_frames, settings, wait_until  # noqa: E402

SCENARIO = ROOT / "configs" / "pmu_c37118.yaml"
START_SOC = calendar.timegm((2026, 7, 1, 12, 0, 0))  # the scenario's run.start_utc


@pytest.fixture()
def served(tmp_path):
    with ServedWorld(tmp_path, settings(c37118=C37118ServeConfig(port=0)), duration_s=60.0, scenario_path=SCENARIO) as world:
        yield world


def pdc_for(served: ServedWorld, idcode: int) -> Pdc:
    port = next(e.port for e in served.session.pmu_endpoints if e.idcode == idcode)
    pdc = Pdc(pdc_id=idcode, pmu_ip="127.0.0.1", pmu_port=port, buffer_size=4)  # 4: its reader takes one frame at a time
    pdc.run()
    return pdc


def test_a_pdc_reads_header_and_cfg2_and_tshark_reads_a_second_of_data(served, tmp_path):
    assert sorted((e.device_id, e.idcode) for e in served.session.pmu_endpoints) == [("pmu_b1", 11), ("pmu_b2", 12)]
    pdc = pdc_for(served, 11)
    try:
        header = pdc.get_header()
        assert isinstance(header, HeaderFrame)
        assert "gridcosim PMU pmu_b1 at bus b1" in header.get_header()  # it returns str() of the bytes
        config = pdc.get_config("cfg2")
        assert isinstance(config, ConfigFrame2)
        assert config.get_id_code() == 11
        assert config.get_station_name().strip() == "SUB_B1"
        assert config.get_data_rate() == 30
        assert config.get_fnom() == 50
        assert [name.strip() for name in config.get_channel_names()[:2]] == ["V1", "I1"]
        assert config.get_time_base() == 1_000_000
        pdc.start()
        frames = read_frames(pdc.pmu_socket, 30)
    finally:
        pdc.quit()
    # pypmu reads a floating-point FREQ as a deviation from nominal (it refuses 50.0), where C37.118.2
    # Table 5, Wireshark and openPDC read it as the actual frequency: tshark judges the data frames.
    assert all(f[0] == 0xAA and (f[1] >> 4) & 0x7 == 0 for f in frames)
    client, pmu = ("127.0.0.2", 40000), ("127.0.0.1", 4712)
    segments = [Segment(0.0, client, pmu, CommandFrame(11, 0, 0, CommandCode.SEND_CFG2).encode()),
                Segment(0.0, pmu, client, config.convert2bytes())]
    segments += [Segment(0.1 + k / 30, pmu, client, f) for k, f in enumerate(frames)]
    pcap = tmp_path / "hil_c37118.pcap"
    write_pcap(pcap, segments)
    out = subprocess.run(["tshark", "-r", str(pcap), "-d", "tcp.port==4712,synphasor", "-Y", "synphasor.frtype == 0",
                          "-T", "fields", "-e", "synphasor.checksum.status", "-e", "_ws.malformed",
                          "-e", "synphasor.actual_frequency_value", "-e", "synphasor.fracsec_raw", "-e", "frame.number"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines() if line]
    assert len(rows) == 30
    assert all(r[0] == "1" and not r[1] for r in rows), "every data frame: good checksum, not malformed"
    assert all(49.0 < float(r[2]) < 51.0 for r in rows)
    fracsec = [int(r[3]) for r in rows]
    soc = [int.from_bytes(f[6:10], "big") for f in frames]
    assert all(START_SOC <= s <= START_SOC + 60 for s in soc)
    assert all(0 <= f < 1_000_000 for f in fracsec)
    stamps = [s * 1_000_000 + f for s, f in zip(soc, fracsec)]
    # One frame every 1/30 s of the PMU's clock, in microseconds (the time base): 33,333 or 33,334 apart.
    assert {b - a for a, b in zip(stamps, stamps[1:])} <= {33_333, 33_334}


def test_transmission_turns_off_and_unknown_idcodes_are_ignored(served):
    port = served.session.pmu_endpoints[0].port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(CommandFrame(999, 0, 0, CommandCode.TURN_ON).encode())  # no PMU 999: logged, nothing sent
        raw.sendall(CommandFrame(12, 0, 0, CommandCode.TURN_ON).encode())
        first = raw.recv(4)
        assert first[0] == 0xAA and (first[1] >> 4) & 0x7 == 0  # a data frame
        raw.sendall(CommandFrame(12, 0, 0, CommandCode.TURN_OFF).encode())
        assert wait_until(lambda: not any(12 in c.streaming for c in served.session.pdc_servers[0]._connections))
    assert wait_until(lambda: served.session.pdc_servers[0].counters.commands >= 3)


def test_a_stream_that_is_not_c37118_is_closed_and_a_bad_check_word_is_dropped(served):
    server = served.session.pdc_servers[0]
    port = served.session.pmu_endpoints[0].port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        bad = bytearray(CommandFrame(11, 0, 0, CommandCode.SEND_CFG2).encode())
        bad[-1] ^= 0xFF
        raw.sendall(bytes(bad))
        assert wait_until(lambda: server.counters.bad_frames == 1)
        raw.sendall(CommandFrame(11, 0, 0, CommandCode.SEND_CFG2).encode())  # the connection still works
        assert raw.recv(2) == bytes([0xAA, 0x32])  # SYNC of a CFG-2 frame (type 3), version 2 (C37.118.2-2011)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\n\r\n")
        raw.settimeout(5)
        assert raw.recv(16) == b""  # closed by the server
    assert wait_until(lambda: server.counters.closed_malformed == 1)
