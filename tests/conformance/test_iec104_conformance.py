"""IEC 60870-5-104 conformance: one list of cases (iec104_cases.CASES) over the simulated comm layer and real TCP,
tshark's IEC 104 dissectors on every case's octets, and c104 (lib60870) as a third-party controlling station.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c104
import pytest

from hiltools import wait_until
from iec104_cases import CASES, Master
from iec104_transports import COMMON_ADDRESS, TRANSPORTS, LoopbackStation
from wire import Outcome, assert_clean, dissect, play_all


@pytest.fixture(scope="module", params=sorted(TRANSPORTS))
def played(request, tmp_path_factory) -> list[Outcome]:
    """Every case over one transport, each on a fresh station, then tshark once over all their octets."""
    folder = tmp_path_factory.mktemp(f"iec104-{request.param}")
    outcomes = play_all(CASES, lambda: TRANSPORTS[request.param](folder), lambda case, t: Master(t).play(case))
    dissect(outcomes, folder / "cases.pcap", 2404, ["-d", "tcp.port==2404,iec60870_104", "-Y", "iec60870_104"],
            ["iec60870_104.type", "iec60870_asdu.typeid", "iec60870_asdu.causetx"])
    return outcomes


@pytest.mark.parametrize("number", range(len(CASES)), ids=[c.name for c in CASES])
def test_iec104_case(number: int, played: list[Outcome]) -> None:
    """The station behaves as the case's clause asks, and tshark dissects every APDU of the case without a
    malformed packet or an expert error."""
    outcome = played[number]
    outcome.raise_error()
    assert_clean(outcome)
    # tshark reads every ASDU the case expects from the station, with its type and cause
    read = Counter((int(t), int(c)) for row in outcome.rows if row["tcp.srcport"] == "2404" and row["iec60870_asdu.typeid"]
                   for t, c in zip(row["iec60870_asdu.typeid"].split(";"), row["iec60870_asdu.causetx"].split(";")))
    expected = Counter((int(r.type_id), int(r.cause)) for step in CASES[number].steps for r in step.replies
                       if r.type_id is not None and r.cause is not None)
    assert not expected - read, (expected, read)


# -- the third-party peer: c104's client (lib60870) plays the cases it can express ---------------------------------

class Pumped:
    """A :class:`LoopbackStation` pumped by a background thread; ``lock`` guards the world for reads."""

    def __init__(self, folder: Path) -> None:
        self.station = LoopbackStation(folder)
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.lock:
                self.station.pump(0.005)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.station.stop()


def play_general_interrogation(connection: Any, points: dict[int, Any], pumped: Pumped) -> None:
    assert connection.interrogation(common_address=COMMON_ADDRESS, cause=c104.Cot.ACTIVATION,
                                    qualifier=c104.Qoi.STATION)
    rtu = pumped.station.world.service("devices")["pole_rtu"]
    with pumped.lock:
        closed, current = bool(rtu.store.get("rec_closed")), float(rtu.store.get("rec_a"))
    assert wait_until(lambda: points[1].value == closed and points[1001].value == current, 5.0)
    assert closed and current > 0


def play_select_execute(connection: Any, points: dict[int, Any], pumped: Pumped) -> None:
    points[2001].value = True
    assert points[2001].transmit(cause=c104.Cot.ACTIVATION)  # select, then execute: c104 waits for both ACT_CONs
    grid = pumped.station.world.service("grid")

    def opened() -> bool:
        with pumped.lock:
            return grid.measurements().switch_closed("rec_sw") is False

    assert wait_until(opened, 5.0)


def play_execute_without_select(connection: Any, points: dict[int, Any], pumped: Pumped) -> None:
    points[2002].value = True
    assert not points[2002].transmit(cause=c104.Cot.ACTIVATION)  # a direct execute: confirmed negatively


def play_clock_sync(connection: Any, points: dict[int, Any], pumped: Pumped) -> None:
    before_ms = time.time() * 1000
    assert connection.clock_sync(common_address=COMMON_ADDRESS)  # c104 waits for our positive ACT_CON
    with pumped.lock:
        station_ms = pumped.station.server.stations[COMMON_ADDRESS].now_ms()
    # the station's clock is now c104's wall clock (not the scenario's 2026), give or take the loopback's trip
    assert before_ms - 1000 <= station_ms <= time.time() * 1000 + 1000


def play_stopdt(connection: Any, points: dict[int, Any], pumped: Pumped) -> None:
    assert connection.mute() and wait_until(lambda: connection.state == c104.ConnectionState.OPEN_MUTED, 5.0)
    assert connection.unmute() and wait_until(lambda: connection.state == c104.ConnectionState.OPEN, 5.0)
    play_general_interrogation(connection, points, pumped)


def play_unknown_ioa(connection: Any, points: dict[int, Any], pumped: Pumped) -> None:
    points[2099].value = True
    assert not points[2099].transmit(cause=c104.Cot.ACTIVATION)  # cause 47, negative


PEER_PLAYS: dict[str, Callable[[Any, dict[int, Any], Pumped], None]] = {
    "general_interrogation": play_general_interrogation, "select_execute": play_select_execute,
    "execute_without_select": play_execute_without_select, "clock_sync": play_clock_sync, "stopdt": play_stopdt,
    "unknown_ioa": play_unknown_ioa,
}


@pytest.mark.parametrize("name", sorted(PEER_PLAYS))
def test_iec104_case_against_c104(name: str, tmp_path: Path) -> None:
    """c104's client connects over real TCP, starts data transfer (STARTDT) and plays the case through its API."""
    pumped = Pumped(tmp_path)
    client = c104.Client(tick_rate_ms=50, command_timeout_ms=3000)
    try:
        connection: Any = client.add_connection(ip="127.0.0.1", port=pumped.station.port, init=c104.Init.NONE)
        station: Any = connection.add_station(common_address=COMMON_ADDRESS)
        mode = c104.CommandMode.SELECT_AND_EXECUTE
        points = {1: station.add_point(io_address=1, type=c104.Type.M_SP_NA_1),
                  1001: station.add_point(io_address=1001, type=c104.Type.M_ME_NC_1),
                  2001: station.add_point(io_address=2001, type=c104.Type.C_SC_NA_1, command_mode=mode),
                  2002: station.add_point(io_address=2002, type=c104.Type.C_SC_NA_1),
                  2099: station.add_point(io_address=2099, type=c104.Type.C_SC_NA_1)}
        client.start()
        assert wait_until(lambda: connection.is_connected, 10.0)
        assert connection.unmute() and wait_until(lambda: connection.state == c104.ConnectionState.OPEN, 10.0)
        PEER_PLAYS[name](connection, points, pumped)
        assert connection.is_connected  # the station closed nothing
    finally:
        client.stop()
        pumped.stop()
