"""DNP3 on real TCP against two independent masters: opendnp3 (the yadnp3 bindings, the reference implementation)
and dnp3py (pure Python).

The dnp3_feeder scenario runs paced to the wall clock with its relay and
recloser outstations behind one loopback port (no simulated master). An
opendnp3 master with its default startup -- disable unsolicited, clear the
restart IIN, integrity poll, non-LAN time synchronisation (delay measurement
then a time write), enable unsolicited -- must complete every task, read the
recloser's points as the device holds them, trip the recloser with a CROB
(direct operate) and a close by select-before-operate, be refused a locked
protection setting, and hear the breaker open by unsolicited response with a
time stamp from the clock it set.
"""

from __future__ import annotations

import time

import opendnp3 as dnp
import pytest
import yaml

from cosim.hil.config import Dnp3ServeConfig
from hiltools import ROOT, ServedWorld, settings, wait_until
from opendnp3_peer import Collector, Listener, MasterApp, command

SCENARIO = ROOT / "configs" / "dnp3_feeder.yaml"
RECLOSER = 20


@pytest.fixture
def served(tmp_path):
    spec = yaml.safe_load(SCENARIO.read_text())
    for actor in spec["actors"]:
        actor.pop("applications", None)  # the third-party master takes the simulated master's place
    scenario = tmp_path / "dnp3_hil.yaml"
    scenario.write_text(yaml.safe_dump(spec))
    world = ServedWorld(tmp_path / "out", settings(dnp3=Dnp3ServeConfig(port=0)), duration_s=120.0, scenario_path=scenario)
    with world:
        assert world.session.dnp3_server is not None
        yield world, world.session.dnp3_server


def test_opendnp3_master_polls_trips_and_hears_the_recloser(served):
    world, server = served
    manager = dnp.DNP3Manager(1)
    try:
        channel = manager.AddTCPClient("tcp", dnp.levels.NOTHING, dnp.ChannelRetry.Default(),
                                       [dnp.IPEndpoint("127.0.0.1", server.port)], "0.0.0.0", Listener())
        config = dnp.MasterStackConfig()
        config.link.LocalAddr, config.link.RemoteAddr = 1, RECLOSER
        config.master.timeSyncMode = dnp.TimeSyncMode.NonLAN
        config.master.responseTimeout = dnp.TimeDuration.Seconds(3)
        soe, app = Collector(), MasterApp()
        master = channel.AddMaster("master", soe, app, config)
        master.Enable()
        startup = {"DISABLE_UNSOLICITED", "CLEAR_RESTART", "STARTUP_INTEGRITY_POLL", "NON_LAN_TIME_SYNC",
                   "ENABLE_UNSOLICITED"}
        assert wait_until(lambda: startup <= {t for t, _ in app.tasks}, 15.0), app.tasks
        assert all(result == "SUCCESS" for task, result in app.tasks if task in startup), app.tasks

        device = world.world.service("devices")["feeder_recloser"]
        master.ScanClasses(dnp.ClassField.AllClasses(), soe)
        assert wait_until(lambda: soe.latest("IndexedAnalog", 0) is not None, 5.0)
        closed = soe.latest("IndexedBinary", 0)
        assert closed is not None and closed[2] is True and closed[3] & 0x01  # closed, ONLINE
        current = soe.latest("IndexedAnalog", 0)
        assert current[2] == float(device.store.get("current_a_a")) > 0  # counts of 1 A, as the device holds them
        voltage = soe.latest("IndexedAnalog", 4)
        assert voltage[2] == float(device.store.get("source_voltage_v"))

        trip = dnp.ControlRelayOutputBlock(dnp.OperationType.PULSE_ON, dnp.TripCloseCode.TRIP)
        tripped_at_ms = time.time() * 1000
        assert command(master.DirectOperate, trip, 0) == [("SUCCESS", "SUCCESS")]
        grid = world.world.service("grid")
        assert wait_until(lambda: grid.measurements().switch_closed("rec_sw") is False, 5.0)
        # the opening comes back unsolicited, stamped by the outstation's clock that the master synchronised
        assert wait_until(lambda: (p := soe.latest("IndexedBinary", 0, event=True)) is not None and p[2] is False, 10.0)
        heard_at_ms = time.time() * 1000
        opened = soe.latest("IndexedBinary", 0, event=True)
        assert opened[6], "the event came in an unsolicited response"
        # causal bounds, widened by the synchronisation's error (half a loopback round trip): after the command
        # left, before the report arrived
        assert tripped_at_ms - 1000 <= opened[4] <= heard_at_ms + 1000

        pickup = dnp.AnalogOutputInt16(300)
        assert command(master.DirectOperate, pickup, 0) == [("NOT_AUTHORIZED", "SUCCESS")]  # protection lock
        close = dnp.ControlRelayOutputBlock(dnp.OperationType.PULSE_ON, dnp.TripCloseCode.CLOSE)
        assert command(master.SelectAndOperate, close, 0) == [("SUCCESS", "SUCCESS")]
        assert wait_until(lambda: grid.measurements().switch_closed("rec_sw") is True, 5.0)
        assert server.counters.closed_malformed == 0 and server.counters.unknown_address == 0
    finally:
        manager.Shutdown()


def test_a_stream_that_is_not_dnp3_is_closed(served):
    import socket

    _world, server = served
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(100) == b""  # closed without an answer
    assert wait_until(lambda: server.counters.closed_malformed == 1, 5.0)


class Values:
    """dnp3py's SOE handler: every decoded value as (callback, unsolicited?, index, value, timestamp)."""

    def __init__(self) -> None:
        self.got: list[tuple[str, bool, int, object, object]] = []

    def __getattr__(self, name: str):
        if not name.startswith("on_"):
            raise AttributeError(name)

        def take(values, info) -> None:
            self.got += [(name, info.is_unsolicited, v.index, v.value, v.timestamp) for v in values]
        return take

    def static(self, name: str) -> dict[int, object]:
        return {index: value for n, _u, index, value, stamp in self.got if n == name and stamp is None}


def test_dnp3py_master_reads_and_trips_the_recloser(served):
    """A second, independent peer: dnp3py 0.6 (pure Python, IEEE 1815-2012) as master over the same port."""
    import asyncio
    import datetime

    from dnp3.core.enums import ControlCode
    from dnp3.master.commands import CommandBuilder
    from dnp3.master.config import MasterConfig
    from dnp3.master.master import Master
    from dnp3.master.tcp_runner import MasterTcpRunner

    world, server = served
    device = world.world.service("devices")["feeder_recloser"]
    current_before = float(device.store.get("current_a_a"))  # steady until the trip below
    values = Values()

    async def session() -> tuple[object, object]:
        master = Master(config=MasterConfig(address=1, outstation_address=RECLOSER), handler=values)
        async with MasterTcpRunner(master=master, port=server.port, response_timeout=5.0) as runner:
            await runner.integrity_poll()
            await runner.enable_unsolicited()
            trip = CommandBuilder().add_crob(0, ControlCode.LATCH_OFF).build_direct_operate()
            operated = await runner.request(master.build_direct_operate(trip))
            report = None
            for _ in range(5):
                report = await runner.listen_unsolicited(timeout=5.0)
                if report is not None and any(n == "on_binary_input" and u for n, u, *_ in values.got):
                    break
            return operated, report

    operated, report = asyncio.run(session())
    assert values.static("on_binary_input")[0] is True
    assert values.static("on_analog_input")[0] == current_before > 0
    assert values.static("on_analog_output") == {0: float(device.store.get("pickup_a")),
                                                 1: float(device.store.get("reset_time_s"))}
    assert len(values.static("on_binary_output")) == 3
    assert operated and report is not None and report.is_unsolicited
    assert world.world.service("grid").measurements().switch_closed("rec_sw") is False
    opened = [(stamp, value) for n, u, index, value, stamp in values.got if n == "on_binary_input" and u and index == 0]
    assert opened and opened[-1][1] is False
    # no time sync here: the stamp is the outstation's clock, the scenario's start_utc plus simulated time
    start = datetime.datetime(2026, 7, 1, 12, tzinfo=datetime.timezone.utc)
    assert 0 <= (opened[-1][0] - start).total_seconds() <= world.world.now
