"""DNP3 conformance: one list of cases (dnp3_cases.CASES) over the simulated comm layer and real TCP, tshark on
every case's octets, and the cases an opendnp3 master can express played by opendnp3 (yadnp3) itself.

The third-party master speaks through its own API, so its plays check the
outcome the case's clause asks for (a task's result, a control status, the
value or event it decoded, the breaker in the grid), not our octets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import opendnp3 as dnp
import pytest

from dnp3_cases import CASES, Case, Master
from dnp3_transports import MASTER, RECLOSER, TRANSPORTS, served_world
from hiltools import ServedWorld, wait_until
from opendnp3_peer import Collector, Listener, MasterApp, command
from wire import Outcome, assert_clean, dissect, play_all



@pytest.fixture(scope="module", params=sorted(TRANSPORTS))
def played(request, tmp_path_factory) -> list[Outcome]:
    """Every case over one transport, each on a fresh outstation, then tshark once over all their octets."""
    folder = tmp_path_factory.mktemp(f"dnp3-{request.param}")
    outcomes = play_all(CASES, lambda: TRANSPORTS[request.param](folder), lambda case, t: Master(t).play(case))
    dissect(outcomes, folder / "cases.pcap", 20000, ["-d", "tcp.port==20000,dnp3", "-Y", "dnp3"],
            ["dnp.hdr.CRC.status", "dnp.data_chunk.CRC.status"])
    return outcomes


@pytest.mark.parametrize("number", range(len(CASES)), ids=[c.name for c in CASES])
def test_dnp3_case(number: int, played: list[Outcome]) -> None:
    """The outstation behaves as the case's clause asks, and tshark's DNP3 dissector finds every link header and
    data block CRC good in the case's octets."""
    outcome = played[number]
    outcome.raise_error()
    assert_clean(outcome)
    for row in outcome.rows:
        assert set(row["dnp.hdr.CRC.status"].split(";")) == {"1"}, row
        assert set(row["dnp.data_chunk.CRC.status"].split(";")) <= {"1", ""}, row


# -- the third-party peer: opendnp3's master plays the cases it can express --------------------------------------

def _closed(world: ServedWorld) -> bool | None:
    return world.world.service("grid").measurements().switch_closed("rec_sw")


def _trip(master: Any, world: ServedWorld, select_before_operate: bool = False) -> None:
    trip = dnp.ControlRelayOutputBlock(dnp.OperationType.PULSE_ON, dnp.TripCloseCode.TRIP)
    call = master.SelectAndOperate if select_before_operate else master.DirectOperate
    assert command(call, trip, 0) == [("SUCCESS", "SUCCESS")]
    assert wait_until(lambda: _closed(world) is False, 5.0)


def _opened_event(soe: Collector, unsolicited: bool) -> tuple:
    assert wait_until(lambda: (p := soe.latest("IndexedBinary", 0, event=True)) is not None and p[2] is False, 5.0)
    opened = soe.latest("IndexedBinary", 0, event=True)
    assert opened[6] is unsolicited
    return opened


def play_integrity(master: Any, soe: Collector, app: MasterApp, world: ServedWorld) -> None:
    device = world.world.service("devices")["feeder_recloser"]
    master.ScanClasses(dnp.ClassField.AllClasses(), soe)
    assert wait_until(lambda: soe.latest("IndexedAnalog", 4) is not None, 5.0)
    assert soe.latest("IndexedBinary", 0)[2] is True
    assert soe.latest("IndexedAnalog", 4)[2] == float(device.store.get("source_voltage_v"))


def play_clear_restart(master: Any, soe: Collector, app: MasterApp, world: ServedWorld) -> None:
    assert ("CLEAR_RESTART", "SUCCESS") in app.tasks


def play_event_poll(master: Any, soe: Collector, app: MasterApp, world: ServedWorld) -> None:
    _trip(master, world)

    def polled() -> bool:  # an event poll, again until the device has buffered its event
        master.ScanClasses(dnp.ClassField.AllEventClasses(), soe)
        return wait_until(lambda: soe.latest("IndexedBinary", 0, event=True) is not None, 0.5)

    assert wait_until(polled, 10.0)
    _opened_event(soe, unsolicited=False)


def play_unsolicited(master: Any, soe: Collector, app: MasterApp, world: ServedWorld) -> None:
    assert ("ENABLE_UNSOLICITED", "SUCCESS") in app.tasks
    _trip(master, world)
    _opened_event(soe, unsolicited=True)


def play_select_before_operate(master: Any, soe: Collector, app: MasterApp, world: ServedWorld) -> None:
    _trip(master, world, select_before_operate=True)


def play_direct_operate(master: Any, soe: Collector, app: MasterApp, world: ServedWorld) -> None:
    _trip(master, world)


def play_analog_output(master: Any, soe: Collector, app: MasterApp, world: ServedWorld) -> None:
    assert command(master.DirectOperate, dnp.AnalogOutputInt16(45), 1) == [("SUCCESS", "SUCCESS")]
    master.ScanRange(dnp.GroupVariationID(40, 1), 0, 1, soe)
    assert wait_until(lambda: (p := soe.latest("IndexedAnalogOutputStatus", 1)) is not None and p[2] == 45.0, 5.0)


def play_time_sync(master: Any, soe: Collector, app: MasterApp, world: ServedWorld) -> None:
    assert ("NON_LAN_TIME_SYNC", "SUCCESS") in app.tasks or ("LAN_TIME_SYNC", "SUCCESS") in app.tasks
    before_ms = time.time() * 1000
    _trip(master, world)
    stamp_ms = _opened_event(soe, unsolicited=True)[4]
    # stamped by the clock opendnp3 set (its wall clock), not the scenario's start_utc in 2026; widened by
    # the synchronisation's error (half a loopback round trip)
    assert before_ms - 1000 <= stamp_ms <= time.time() * 1000 + 1000


PLAYS: dict[str, Callable[[Any, Collector, MasterApp, ServedWorld], None]] = {
    "integrity": play_integrity, "clear_restart": play_clear_restart, "event_poll": play_event_poll,
    "unsolicited": play_unsolicited, "select_before_operate": play_select_before_operate,
    "direct_operate": play_direct_operate, "analog_output": play_analog_output, "time_sync": play_time_sync,
    "time_sync_lan": play_time_sync,
}
PEER_CASES = [c for c in CASES if c.peer is not None]


@pytest.mark.parametrize("case", PEER_CASES, ids=[c.name for c in PEER_CASES])
def test_dnp3_case_against_opendnp3(case: Case, tmp_path: Path) -> None:
    """opendnp3's master (yadnp3) with its default startup, then the case's task, on real TCP."""
    assert case.peer is not None
    world = served_world(tmp_path, unsolicited=case.peer != "event_poll")
    manager = dnp.DNP3Manager(1)
    try:
        server = world.session.dnp3_server
        channel = manager.AddTCPClient("tcp", dnp.levels.NOTHING, dnp.ChannelRetry.Default(),
                                       [dnp.IPEndpoint("127.0.0.1", server.port)], "0.0.0.0", Listener())
        config = dnp.MasterStackConfig()
        config.link.LocalAddr, config.link.RemoteAddr = MASTER, RECLOSER
        config.master.timeSyncMode = dnp.TimeSyncMode.LAN if case.peer == "time_sync_lan" else dnp.TimeSyncMode.NonLAN
        config.master.responseTimeout = dnp.TimeDuration.Seconds(3)
        soe, app = Collector(), MasterApp()
        master = channel.AddMaster("master", soe, app, config)
        master.Enable()
        startup = {"CLEAR_RESTART", "STARTUP_INTEGRITY_POLL", "LAN_TIME_SYNC" if case.peer == "time_sync_lan"
                   else "NON_LAN_TIME_SYNC"}
        assert wait_until(lambda: startup <= {t for t, _ in app.tasks}, 10.0), app.tasks
        PLAYS[case.peer](master, soe, app, world)
        assert server.counters.closed_malformed == 0 and server.counters.unknown_address == 0
    finally:
        manager.Shutdown()
        world.stop()
