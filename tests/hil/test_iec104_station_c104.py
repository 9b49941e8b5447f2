"""Our IEC 104 controlled station (the simulated-time one) on real TCP, driven by c104's client (lib60870) as master.

The RTUs of configs/iec104_feeder.yaml run in a World; a loopback socket
hands the octets of c104's connection to the pole RTU's node server
(:meth:`Iec104Server.receive`, the seam a TCP edge uses) and steps the world
between APDUs, as a paced run would. c104 decodes every APDU our station
sends: the STARTDT confirmation, the interrogation answer (untimed types,
cause 20, the values in the RTU's store), the clock synchronisation
confirmation, the select-and-execute confirmations, and the spontaneous
M_SP_TB_1 of the switch the command opened, time-tagged with the RTU's clock.
c104 creates each monitored object when the interrogation first names it (in
the untimed type the standard prescribes for cause 20); the time-tagged
spontaneous ASDU for the same object then reaches its unexpected-message
callback, decoded by c104 all the same.
"""

from __future__ import annotations

import datetime
import socket
import threading

import c104

from cosim.comm.iec104 import split
from cosim.kernel import World
from cosim.scenario import load_scenario
from cosim.wiring.comm import attach_comm
from cosim.wiring.devices import attach_devices
from cosim.wiring.grid import attach_grid
from devices.protocols.iec104_station import Iec104Server

from hiltools import ROOT, free_port, wait_until

SCENARIO = ROOT / "configs" / "iec104_feeder.yaml"


def test_c104s_master_interrogates_synchronises_operates_and_hears_our_station():
    scenario = load_scenario(SCENARIO)
    world = World(scenario.spec.run.seed, None)
    attach_grid(world, scenario)
    attach_comm(world, scenario)
    attach_devices(world, scenario)
    world.run(1.0)
    rtu = world.service("devices")["pole_rtu"]
    server = Iec104Server.of(world.service("comm"), "pole_radio", world.log)
    lock = threading.Lock()
    listener = socket.create_server(("127.0.0.1", port := free_port()))

    def serve() -> None:
        connection, _ = listener.accept()
        buffer = b""
        while data := connection.recv(4096):
            apdus, buffer = split(buffer + data)
            with lock:
                for apdu in apdus:
                    assert server.receive("tcp", apdu, connection.sendall) is None
                    world.run(world.now + 0.1)  # the RTU takes a select or an operate at its next wake

    threading.Thread(target=serve, daemon=True).start()
    heard: list[tuple[int, int, int, object, object]] = []

    def on_unexpected(connection, message, cause):
        # The point exists in its interrogation type; a time-tagged ASDU for it is "unexpected", decoded all the same.
        heard.append((int(message.type), int(message.cot), message.io_address, message.info.value,
                      message.info.recorded_at))

    on_unexpected.__annotations__ = {"connection": c104.Connection, "message": c104.IncomingMessage,
                                     "cause": c104.Umc, "return": None}
    new_points: list[tuple[int, int]] = []

    def on_new_point(client, station, io_address, point_type):
        new_points.append((io_address, int(point_type)))
        station.add_point(io_address=io_address, type=point_type)

    on_new_point.__annotations__ = {"client": c104.Client, "station": c104.Station, "io_address": int,
                                    "point_type": c104.Type, "return": None}
    client = c104.Client(tick_rate_ms=50, command_timeout_ms=3000)
    client.on_new_point(callable=on_new_point)
    connection = client.add_connection(ip="127.0.0.1", port=port, init=c104.Init.NONE)
    connection.on_unexpected_message(callable=on_unexpected)
    station = connection.add_station(common_address=2)
    open_command = station.add_point(io_address=2001, type=c104.Type.C_SC_NA_1,
                                     command_mode=c104.CommandMode.SELECT_AND_EXECUTE)
    client.start()
    try:
        assert wait_until(lambda: connection.is_connected, 10)
        assert connection.unmute() and wait_until(lambda: connection.state == c104.ConnectionState.OPEN, 10)
        assert connection.interrogation(common_address=2, cause=c104.Cot.ACTIVATION, qualifier=c104.Qoi.STATION)
        assert wait_until(lambda: len(new_points) >= 2, 5), (heard, new_points)
        with lock:
            closed, current = bool(rtu.store.get("rec_closed")), float(rtu.store.get("rec_a"))
        assert wait_until(lambda: station.get_point(io_address=1001).value == current, 5)
        interrogated = {(p.io_address, int(p.type)): p.value for p in station.points if p.io_address < 2000}
        assert interrogated == {(1, int(c104.Type.M_SP_NA_1)): closed, (1001, int(c104.Type.M_ME_NC_1)): current}
        assert closed and current > 0

        assert connection.clock_sync(common_address=2)  # c104 waits for our positive ACT_CON
        open_command.value = True
        assert open_command.transmit(cause=c104.Cot.ACTIVATION)  # select, then execute: both confirmed
        assert wait_until(lambda: any(kind == int(c104.Type.M_SP_TB_1) for kind, *_ in heard), 5), heard
        kind, cause, ioa, value, recorded_at = next(h for h in heard if h[0] == int(c104.Type.M_SP_TB_1))
        assert (cause, ioa, value) == (int(c104.Cot.SPONTANEOUS), 1, False)
        with lock:
            station_ms = server.stations[2].now_ms()
        stamp_ms = round(recorded_at.astimezone(datetime.timezone.utc).timestamp() * 1000)  # c104: naive local time
        assert abs(station_ms - stamp_ms) <= 1000  # the tag is the RTU's (synchronised) clock of the step that saw it
        assert rtu.operations == 1
    finally:
        client.stop()
        listener.close()
