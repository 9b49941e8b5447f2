"""The FLISR feeder's RTUs as IEC 60870-5-104 controlled stations, driven by c104's own client (a 104 master).

The master interrogates the station, reads the switch position and current,
opens the switch with a single command, and must then receive the new
position and the current spontaneously (cause 3), time-tagged with the run's
clock -- exactly what a front end expects of a controlled station.
"""

from __future__ import annotations

import datetime
import threading

import c104
import pytest

from cosim.hil.config import Iec104ServeConfig
from cosim.hil.session import HilError

from hiltools import ROOT, ServedWorld, free_port, settings, wait_until

SCENARIO = ROOT / "configs" / "flisr_fibre.yaml"


class Master:
    """c104's client with the points of station 1 (rtu_s2): position, fault indicator, current, open command."""

    def __init__(self, port: int) -> None:
        self.client = c104.Client(tick_rate_ms=50, command_timeout_ms=2000)
        self.connection = self.client.add_connection(ip="127.0.0.1", port=port, init=c104.Init.NONE)  # the test interrogates itself (no race with an automatic one)
        station = self.connection.add_station(common_address=1)
        self.closed = station.add_point(io_address=1, type=c104.Type.M_SP_TB_1)
        self.current = station.add_point(io_address=1001, type=c104.Type.M_ME_TF_1)
        self.open_command = station.add_point(io_address=2001, type=c104.Type.C_SC_NA_1)
        self.received: list[tuple[int, object, object]] = []
        self._lock = threading.Lock()
        def receive(point, previous_info, message):
            with self._lock:
                self.received.append((point.io_address, message.cot, point.value))
            return c104.ResponseState.SUCCESS

        # c104 checks a callback's parameter names and types (this module's annotations are strings)
        receive.__annotations__ = {"point": c104.Point, "previous_info": c104.Information,
                                   "message": c104.IncomingMessage, "return": c104.ResponseState}
        for point in (self.closed, self.current):
            point.on_receive(callable=receive)
        self.client.start()

    def spontaneous(self, ioa: int) -> list[object]:
        with self._lock:
            return [value for address, cot, value in self.received if address == ioa and cot == c104.Cot.SPONTANEOUS]

    def stop(self) -> None:
        self.client.stop()


def test_a_104_master_interrogates_operates_and_hears_the_change_spontaneously(tmp_path):
    port = free_port()
    bench = settings(iec104=Iec104ServeConfig(port=port, expose=["rtu_s2", "rtu_s3"]))
    began = datetime.datetime.now(datetime.timezone.utc)
    with ServedWorld(tmp_path, bench, duration_s=120.0, scenario_path=SCENARIO) as served:
        master = Master(port)
        try:
            assert wait_until(lambda: master.connection.is_connected, 20)
            # Init.NONE leaves the connection muted: STARTDT is sent here, and confirmed before anything else.
            assert master.connection.state == c104.ConnectionState.OPEN or master.connection.unmute()
            assert wait_until(lambda: master.connection.state == c104.ConnectionState.OPEN, 20)
            # Judged by the answer's points, not by c104's own 2 s wait for ACT_CON (which a loaded machine can miss).
            assert master.connection.interrogation(common_address=1, cause=c104.Cot.ACTIVATION, qualifier=c104.Qoi.STATION,
                                                   wait_for_response=False)
            assert wait_until(lambda: master.closed.value is True and master.current.value > 1.0, 20)
            before = master.current.value
            master.open_command.value = True
            # The station confirms when the simulation takes the command; c104's client does not always
            # match that ACT_CON while spontaneous traffic flows, so the test judges the command by its effect.
            master.open_command.transmit(cause=c104.Cot.ACTIVATION)
            assert wait_until(lambda: False in master.spontaneous(1), 10), master.received
            assert wait_until(lambda: any(v < 0.01 * before for v in master.spontaneous(1001)), 10), master.received
            stamp = master.closed.recorded_at
        finally:
            master.stop()
        counters = served.session.iec104.counters
        assert (counters.commands, counters.commands_refused, counters.command_errors) == (1, 0, 0)
    events = [line for line in (tmp_path / "events.jsonl").read_text().splitlines() if '"iec104_command"' in line]
    assert len(events) == 1 and '"point": "open_command"' in events[0]
    # The tag is the run's clock: a served run without run.start_utc starts at the wall clock, and the
    # simulation never runs ahead of it. (c104 hands the tag back as naive local time.)
    stamp = stamp.astimezone(datetime.timezone.utc)
    assert began - datetime.timedelta(seconds=1) <= stamp <= datetime.datetime.now(datetime.timezone.utc)


def test_only_rtus_of_the_scenario_can_be_served(tmp_path):
    bench = settings(iec104=Iec104ServeConfig(port=free_port(), expose=["rtu_s2", "recloser_1"]))
    served = ServedWorld(tmp_path, bench, duration_s=10.0, scenario_path=SCENARIO)
    with pytest.raises(HilError, match="iec104.expose: 'recloser_1' is not an RTU"):
        served.session.start()
    served.session.close()
    served.world.recorder.close()
