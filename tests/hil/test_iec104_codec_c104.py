"""Our IEC 104 controlling-station codec on real TCP against c104 (Fraunhofer FIT, built on lib60870) as the server.

c104 decodes every request we build (STARTDT, general interrogation, clock
synchronisation, select then execute of a single command) and we decode
every APDU it sends (U confirmations, the interrogation answer with its
CP56Time2a tags, command confirmations and terminations, a spontaneous
single point). The values, tags and the command c104's station received are
compared with what was put in on the other side.
"""

from __future__ import annotations

import datetime
import socket
import threading
import time
from collections.abc import Callable

import c104

from cosim.comm.iec104 import Asdu, Cause, SinglePoint, TypeId, UFunction, split
from cosim.operations.iec104_master import Heard, Iec104MasterSession

from hiltools import free_port

STAMP = datetime.datetime(2026, 7, 1, 12, 0, 0, 250000, tzinfo=datetime.timezone.utc)
STAMP_MS = round(STAMP.timestamp() * 1000)


class Front:
    """Our session on a blocking loopback socket; acknowledges as :class:`Connection` asks."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.session = Iec104MasterSession()
        self.buffer = b""

    def exchange(self, requests: list[bytes], done: Callable[[Heard], bool]) -> list[Heard]:
        for octets in requests:
            self.socket.sendall(octets)
        heard: list[Heard] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            self.buffer += self.socket.recv(4096)
            apdus, self.buffer = split(self.buffer)
            for apdu in apdus:
                result = self.session.receive(apdu)
                assert result.error is None, result.error
                for reply in result.replies:
                    self.socket.sendall(reply)
                heard.append(result)
                if done(result):
                    return heard
        raise TimeoutError(heard)


def asdus(heard: list[Heard]) -> list[Asdu]:
    return [asdu for h in heard for asdu in h.asdus]


def test_our_controlling_station_and_c104s_server_understand_each_other():
    port = free_port()
    server = c104.Server(ip="127.0.0.1", port=port, tick_rate_ms=50)
    station = server.add_station(common_address=3)
    status = station.add_point(io_address=1, type=c104.Type.M_SP_TB_1)
    current = station.add_point(io_address=1001, type=c104.Type.M_ME_TF_1)
    command = station.add_point(io_address=2001, type=c104.Type.C_SC_NA_1,
                                command_mode=c104.CommandMode.SELECT_AND_EXECUTE)
    status.info = c104.SingleInfo(on=True, recorded_at=STAMP)
    current.info = c104.ShortInfo(actual=12.5, recorded_at=STAMP)
    received: list[tuple[int, bool, bool]] = []
    lock = threading.Lock()
    synced: list[datetime.datetime] = []

    def on_receive(point, previous_info, message):
        with lock:
            received.append((point.io_address, bool(point.value), bool(message.is_select_command)))
        return c104.ResponseState.SUCCESS

    on_receive.__annotations__ = {"point": c104.Point, "previous_info": c104.Information,
                                  "message": c104.IncomingMessage, "return": c104.ResponseState}
    command.on_receive(callable=on_receive)

    def on_clock_sync(server, ip, date_time):
        synced.append(date_time)
        return c104.ResponseState.SUCCESS

    on_clock_sync.__annotations__ = {"server": c104.Server, "ip": str, "date_time": datetime.datetime,
                                     "return": c104.ResponseState}
    server.on_clock_sync(callable=on_clock_sync)
    server.start()
    try:
        deadline = time.monotonic() + 5
        while not server.is_running and time.monotonic() < deadline:
            time.sleep(0.01)
        front = Front(port)
        session = front.session
        started = front.exchange([session.start()], lambda h: bool(h.functions))
        assert started[-1].functions == [UFunction.STARTDT_CON]

        answer = asdus(front.exchange(session.interrogation(3),
                                      lambda h: any(a.cause is Cause.ACTIVATION_TERMINATION for a in h.asdus)))
        assert [(a.type_id, a.cause) for a in answer][0] == (TypeId.C_IC_NA_1, Cause.ACTIVATION_CON)
        assert session.points[3][1].value is True and session.points[3][1].time_ms == STAMP_MS
        assert session.points[3][1001].value == 12.5 and session.points[3][1001].cause is Cause.INTERROGATED_BY_STATION

        sync_ms = STAMP_MS + 60_000
        confirmed = asdus(front.exchange(session.clock_sync(3, sync_ms),
                                         lambda h: any(a.type_id is TypeId.C_CS_NA_1 for a in h.asdus)))
        assert confirmed[-1].cause is Cause.ACTIVATION_CON and not confirmed[-1].negative
        assert synced and round(synced[0].timestamp() * 1000) == sync_ms

        for select in (True, False):
            confirmation = asdus(front.exchange(session.command(3, 2001, True, select=select),
                                                lambda h: any(a.type_id is TypeId.C_SC_NA_1 for a in h.asdus)))
            assert confirmation[-1].cause is Cause.ACTIVATION_CON and not confirmation[-1].negative
        assert received == [(2001, True, False)]  # c104 hands its callback the execute, after our select

        status.info = c104.SingleInfo(on=False, recorded_at=STAMP + datetime.timedelta(seconds=1))
        status.transmit(cause=c104.Cot.SPONTANEOUS)
        spontaneous = asdus(front.exchange([], lambda h: any(a.cause is Cause.SPONTANEOUS for a in h.asdus)))[-1]
        assert spontaneous.type_id is TypeId.M_SP_TB_1 and spontaneous.common_address == 3
        assert spontaneous.objects[0].element == SinglePoint(False, 0, spontaneous.objects[0].element.time)
        assert spontaneous.objects[0].element.time.utc_ms == STAMP_MS + 1000
        front.socket.close()
    finally:
        server.stop()
