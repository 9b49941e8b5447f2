"""IEEE C37.118.2 on real TCP: the scenario's PMUs serve a real phasor data concentrator (port 4712).

The same streams the PMUs serve in simulated time (:mod:`devices.protocols.c37118_endpoint`)
are served here, one TCP port for all of them, routed by IDCODE as a PMU
station's port is. A PDC connects and sends command frames (C37.118.2
clause 6.5): send CFG-2 or the header frame, turn data transmission on or
off. With transmission on, every data frame the PMU produces goes to that
connection as the paced run produces it.

Wire behaviour:

* a byte stream whose next frame does not start with SYNC 0xAA cannot be
  re-synchronised: the connection is closed;
* a frame with a bad CHK, or a command for an unknown IDCODE, is dropped and
  logged (C37.118.2 defines no error response);
* a PDC that reads slower than the PMU writes loses data frames (counted)
  rather than growing the send buffer without bound;
* at most ``max_connections`` PDCs at once; commands beyond the SimPy
  thread's inbox capacity are dropped (counted ``busy``).

Commands run in the SimPy thread (through the inbox, :mod:`.bridge`), since
the frames are built from the devices' live points.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any, Callable

from cosim.comm.c37118 import CommandCode, CommandFrame, FrameError, decode_frame
from cosim.comm.c37118.frames import SYNC_BYTE

from .bridge import IoThread, SimInbox
from .tcp_listener import TcpListener

PREFIX_BYTES = 4  # SYNC (2) and FRAMESIZE (2): what is needed to find the frame's end
MIN_FRAME_BYTES = 18  # SYNC, FRAMESIZE, IDCODE, SOC, FRACSEC, CMD, CHK: the smallest frame (a command)
SEND_BUFFER_LIMIT = 1 << 20  # bytes waiting for a slow PDC beyond which data frames are dropped


class MalformedStream(Exception):
    """The stream is not C37.118 framing; the connection cannot continue."""


def frame_size(prefix: bytes) -> int:
    """Total bytes of the frame that starts with ``prefix`` (its first 4 bytes); raises MalformedStream."""
    if prefix[0] != SYNC_BYTE:
        raise MalformedStream(f"frame starts with 0x{prefix[0]:02x}, not SYNC 0xAA")
    size = int.from_bytes(prefix[2:4], "big")
    if size < MIN_FRAME_BYTES:
        raise MalformedStream(f"FRAMESIZE {size} is below the smallest frame ({MIN_FRAME_BYTES})")
    return size


@dataclass
class PdcCounters:
    connections: int = 0
    refused_connections: int = 0
    commands: int = 0
    bad_frames: int = 0
    busy: int = 0
    data_frames: int = 0
    dropped_slow: int = 0
    closed_malformed: int = 0


class _Connection:
    """One PDC's TCP connection; ``send`` runs in the I/O thread."""

    def __init__(self, writer: asyncio.StreamWriter, counters: PdcCounters) -> None:
        self.writer = writer
        self.counters = counters
        self.streaming: set[int] = set()  # IDCODEs with data transmission on (touched in the SimPy thread only)

    def send(self, frame: bytes, droppable: bool) -> None:
        if self.writer.is_closing():
            return
        if droppable and self.writer.transport.get_write_buffer_size() > SEND_BUFFER_LIMIT:
            self.counters.dropped_slow += 1
            return
        self.writer.write(frame)


Stream = Any
"""A :class:`devices.protocols.c37118_endpoint.PmuStream`: ``idcode``, ``config()``, ``header``, ``listeners``."""


class C37118TcpServer(TcpListener):
    """Serves the PMU ``streams`` on ``host:port`` (``port=0`` picks a free port)."""

    def __init__(self, streams: list[Stream], io: IoThread, inbox: SimInbox, host: str = "127.0.0.1",
                 port: int = 4712, max_connections: int = 8, log: Callable[..., None] | None = None) -> None:
        self.streams = {s.idcode: s for s in streams}
        if len(self.streams) != len(streams):
            raise ValueError("two PMUs served on one C37.118 port share an IDCODE")
        super().__init__(io, host, port)
        self.inbox = inbox
        self.max_connections = max_connections
        self.log = log or (lambda *_a, **_k: None)
        self.counters = PdcCounters()
        self._connections: list[_Connection] = []
        for stream in self.streams.values():
            stream.listeners.append(functools.partial(self._publish, stream.idcode))

    # -- I/O thread ------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._connections) >= self.max_connections:
            self.counters.refused_connections += 1
            writer.close()
            return
        connection = _Connection(writer, self.counters)
        self._connections.append(connection)
        self._writers.add(writer)
        self.counters.connections += 1
        loop = asyncio.get_running_loop()
        try:
            while True:
                prefix = await reader.readexactly(PREFIX_BYTES)
                frame = prefix + await reader.readexactly(frame_size(prefix) - PREFIX_BYTES)
                if not self.inbox.offer(functools.partial(self._command, connection, frame, loop)):
                    self.counters.busy += 1  # the simulation is flooded: the command is dropped, as a PMU would
        except MalformedStream as error:
            self.counters.closed_malformed += 1
            self.inbox.offer(functools.partial(self.log, "c37118_tcp_closed", reason=str(error)), force=True)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._connections.remove(connection)
            self._writers.discard(writer)
            self.inbox.offer(connection.streaming.clear, force=True)
            writer.close()

    # -- SimPy thread ----------------------------------------------------------------------
    def _command(self, connection: _Connection, frame: bytes, loop: asyncio.AbstractEventLoop) -> None:
        try:
            command = decode_frame(frame)
        except FrameError as error:
            self.counters.bad_frames += 1
            self.log("c37118_bad_frame", node="hil", src="tcp", error=str(error))
            return
        if not isinstance(command, CommandFrame):
            self.counters.bad_frames += 1
            self.log("c37118_bad_frame", node="hil", src="tcp", error=f"a {type(command).__name__} where a command was expected")
            return
        self.counters.commands += 1
        stream = self.streams.get(command.idcode)
        if stream is None:
            self.log("c37118_unknown_idcode", node="hil", src="tcp", idcode=command.idcode)
            return
        reply = stream.reply(command)
        if command.command == CommandCode.TURN_ON:
            connection.streaming.add(stream.idcode)
        elif command.command == CommandCode.TURN_OFF:
            connection.streaming.discard(stream.idcode)
        known = command.command in CommandCode._value2member_map_
        self.log("c37118_tcp_command", idcode=command.idcode,
                 command=CommandCode(command.command).name if known else f"0x{command.command:04x}")
        if reply is not None:
            loop.call_soon_threadsafe(connection.send, reply[1], False)

    def _publish(self, idcode: int, frame: bytes) -> None:
        """A PMU produced a data frame (SimPy thread): hand it to every connection streaming it."""
        for connection in list(self._connections):
            if idcode in connection.streaming:
                self.counters.data_frames += 1
                self.io.loop.call_soon_threadsafe(connection.send, frame, True)
