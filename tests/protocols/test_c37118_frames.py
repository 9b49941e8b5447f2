"""C37.118.2 frames judged by others: tshark's synchrophasor dissector, and the standard's own CRC example.

A PMU's stream (command from the PDC, CFG-2, header, data frames) is written
as a pcap on TCP port 4712 and dissected; every frame must be recognised with
its type, a correct checksum and no malformed or expert-error mark, and the
values tshark reads must be the ones encoded.
"""

from __future__ import annotations

import math
import subprocess

import pytest

from cosim.comm.c37118 import (CommandCode, CommandFrame, ConfigFrame, DataFrame, FrameError, HeaderFrame, PhasorChannel,
                               PmuConfig, PmuData, crc_ccitt, decode_frame, split_stream)
from cosim.comm.c37118.frames import soc_fracsec
from cosim.comm.pcap import Segment, write_pcap

PMU = ("127.0.0.2", 4712)
PDC = ("127.0.0.1", 40001)
SOC = 1_782_864_000  # 2026-07-01 00:00:00 UTC
CONFIG = ConfigFrame(
    idcode=7, soc=SOC, fracsec=0, time_base=1_000_000, data_rate=30,
    pmus=(PmuConfig("SUB_A_PMU", 7, (PhasorChannel("VA"), PhasorChannel("VB"), PhasorChannel("VC"), PhasorChannel("IA", True)),
                    analogs=("P_MW",), digital_words=(tuple(f"BRK{i}" for i in range(16)),), nominal_hz=50.0, cfgcnt=3),),
)


def data(k: int) -> DataFrame:
    soc, count = soc_fracsec(SOC + k / 30.0, CONFIG.time_base)
    phasors = ((63_500.0, 0.01 * k), (63_400.0, 0.01 * k - 2.0944), (63_600.0, 0.01 * k + 2.0944), (410.0, -0.3))
    return DataFrame(7, soc, count, (PmuData(0x0000, phasors, 49.98 + 0.001 * k, -0.02, (12.5,), (0b101,)),))


def test_crc_matches_the_standards_check_value():
    # CRC-CCITT (0x1021, init 0xFFFF, no reflection) of "123456789" is 0x29B1: the published check value.
    assert crc_ccitt(b"123456789") == 0x29B1


def test_round_trip_and_refusals():
    raw = CONFIG.encode()
    assert decode_frame(raw) == CONFIG
    frame = data(3)
    assert decode_frame(frame.encode(CONFIG), CONFIG).pmus[0].digitals == (0b101,)
    with pytest.raises(FrameError, match="CRC"):
        decode_frame(raw[:-1] + bytes([raw[-1] ^ 1]))
    with pytest.raises(FrameError, match="configuration"):
        decode_frame(frame.encode(CONFIG))
    frames, rest = split_stream(raw + raw[:10])
    assert frames == [raw] and rest == raw[:10]


def test_fracsec_never_reaches_the_time_base():
    for k in range(3000):
        soc, count = soc_fracsec(SOC + k / 30.0 + 1e-12 * (k % 7), 1_000_000)
        assert 0 <= count < 1_000_000 and soc + count / 1e6 == pytest.approx(SOC + k / 30.0, abs=1e-6)


def test_tshark_dissects_every_frame(tmp_path):
    stream = [Segment(0.0, PDC, PMU, CommandFrame(7, SOC, 0, CommandCode.SEND_CFG2).encode()),
              Segment(0.01, PMU, PDC, CONFIG.encode()),
              Segment(0.02, PMU, PDC, HeaderFrame(7, SOC, 0, "gridcosim PMU SUB_A").encode())]
    stream += [Segment(0.1 + k / 30.0, PMU, PDC, data(k).encode(CONFIG)) for k in range(30)]
    path = tmp_path / "pmu.pcap"
    write_pcap(path, stream)
    fields = ["frame.number", "synphasor.frtype", "synphasor.idcode_stream_source", "synphasor.checksum.status", "_ws.malformed",
              "synphasor.bad_checksum"]
    out = subprocess.run(["tshark", "-r", str(path), "-d", "tcp.port==4712,synphasor", "-Y", "synphasor", "-T", "fields",
                          *[a for f in fields for a in ("-e", f)]], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines() if line]
    assert len(rows) == 33
    kinds = [r[1] for r in rows]
    assert [int(k, 16) for k in kinds[:3]] == [4, 3, 1] and {int(k, 16) for k in kinds[3:]} == {0}
    assert all(r[2] == "7" for r in rows)
    assert all(r[3] == "1" for r in rows), "checksum status must be Good (1 in tshark's enum) on every frame"
    assert not any(r[4] or r[5] for r in rows), "tshark marked a frame malformed or its checksum bad"
    verbose = subprocess.run(["tshark", "-r", str(path), "-d", "tcp.port==4712,synphasor", "-V", "-Y", "synphasor"],
                             capture_output=True, text=True, timeout=60).stdout
    assert "Malformed" not in verbose and "incorrect" not in verbose.lower()
    # The values tshark reads back: the station name, nominal frequency and the last frame's frequency.
    assert "SUB_A_PMU" in verbose and "50Hz" in verbose.replace(" ", "")
    freq = subprocess.run(["tshark", "-r", str(path), "-d", "tcp.port==4712,synphasor", "-Y", "synphasor.frtype == 0",
                           "-T", "fields", "-e", "synphasor.actual_frequency_value"], capture_output=True, text=True, timeout=60).stdout.split()
    assert [float(v) for v in freq] == pytest.approx([49.98 + 0.001 * k for k in range(30)], abs=1e-4)
    assert math.isclose(float(freq[0]), 49.98, abs_tol=1e-4)
