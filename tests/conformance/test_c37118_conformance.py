"""IEEE C37.118.2 conformance: one list of command cases (c37118_cases.CASES) over the simulated comm layer and real
TCP, tshark's synchrophasor dissector on every case's octets, and pypmu's PDC (the ``synchrophasor`` package) asking
what it can.
"""

from __future__ import annotations

import collections
import collections.abc
import time
from collections.abc import Callable
from typing import Any

import pytest

from c37118_cases import CASES, DATA, IDCODE, TRANSPORTS, Case, Frame, play, read_frames, served_pmus
from hiltools import read_frames as whole_frames
from wire import Outcome, assert_clean, dissect, play_all

# synchrophasor 1.0.0a0 still spells collections.Sequence, removed in Python 3.10: restore the alias it means.
collections.Sequence = collections.abc.Sequence  # type: ignore[attr-defined]


@pytest.fixture(scope="module", params=sorted(TRANSPORTS))
def played(request, tmp_path_factory) -> list[Outcome]:
    folder = tmp_path_factory.mktemp(f"c37118-{request.param}")
    outcomes = play_all(CASES, lambda: TRANSPORTS[request.param](folder), play)
    dissect(outcomes, folder / "cases.pcap", 4712, ["-d", "tcp.port==4712,synphasor", "-Y", "synphasor"],
            ["synphasor.checksum.status"])
    return outcomes


@pytest.mark.parametrize("number", range(len(CASES)), ids=[c.name for c in CASES])
def test_c37118_case(number: int, played: list[Outcome]) -> None:
    """The PMU answers as the case's clause asks, and tshark reads every frame with a good checksum except the
    case's own corrupted command."""
    outcome, case = played[number], CASES[number]
    outcome.raise_error()
    assert_clean(outcome, deliberate=lambda row: row["synphasor.checksum.status"] == "0")
    bad = sum(c.corrupt for c in case.commands)
    statuses = [row["synphasor.checksum.status"] for row in outcome.rows]
    assert statuses.count("0") == bad and statuses.count("1") == len(statuses) - bad


# -- the third-party peer: pypmu's PDC -------------------------------------------------------------------------------

def peer_cfg(pdc: Any, version: str) -> None:
    from synchrophasor.frame import ConfigFrame1, ConfigFrame2

    config = pdc.get_config(version)
    assert isinstance(config, ConfigFrame1 if version == "cfg1" else ConfigFrame2)
    assert config.get_id_code() == IDCODE and config.get_data_rate() == 30 and config.get_time_base() == 1_000_000
    assert [name.strip() for name in config.get_channel_names()[:2]] == ["V1", "I1"]


def peer_header(pdc: Any) -> None:
    from synchrophasor.frame import HeaderFrame

    header = pdc.get_header()
    assert isinstance(header, HeaderFrame) and "gridcosim PMU pmu_b1" in header.get_header()


def data_frames(sock: Any, count: int) -> list[Frame]:
    """``count`` frames off the PDC's socket, each checked by our standard-derived reader."""
    sock.settimeout(3.0)
    return [frame for octets in whole_frames(sock, count) for frame in read_frames(octets)]


def peer_start(pdc: Any) -> None:
    pdc.get_config("cfg2")
    pdc.start()
    # pypmu decodes a floating-point FREQ as a deviation from nominal and refuses 50.0 (C37.118.2 Table 5 says
    # actual frequency; tshark and openPDC agree), so the data frames pypmu asked for are read off its socket.
    frames = data_frames(pdc.pmu_socket, 5)
    assert all(f.kind == DATA and f.idcode == IDCODE for f in frames)


def peer_stop(pdc: Any) -> None:
    import socket

    peer_start(pdc)
    pdc.stop()
    time.sleep(0.2)  # frames already on their way
    pdc.pmu_socket.settimeout(0.2)
    try:
        while pdc.pmu_socket.recv(65536):
            pass
    except socket.timeout:
        pass
    pdc.pmu_socket.settimeout(0.5)
    with pytest.raises(socket.timeout):
        pdc.pmu_socket.recv(65536)


PEER: dict[str, Callable[[Any], None]] = {
    "cfg2": lambda pdc: peer_cfg(pdc, "cfg2"), "cfg1": lambda pdc: peer_cfg(pdc, "cfg1"),
    "header": peer_header, "start": peer_start, "stop": peer_stop,
}
PEER_CASES = [c for c in CASES if c.peer is not None]


@pytest.fixture(scope="module")
def pmu_port(tmp_path_factory):
    served, port = served_pmus(tmp_path_factory.mktemp("pmu-peer"))
    yield port
    served.stop()


@pytest.mark.parametrize("case", PEER_CASES, ids=[c.name for c in PEER_CASES])
def test_c37118_case_against_pypmu(case: Case, pmu_port: int) -> None:
    from synchrophasor.pdc import Pdc

    assert case.peer is not None
    pdc = Pdc(pdc_id=IDCODE, pmu_ip="127.0.0.1", pmu_port=pmu_port, buffer_size=4)
    pdc.run()
    try:
        PEER[case.peer](pdc)
    finally:
        pdc.quit()
