"""Modbus TCP on real sockets: a server edge around the sans-IO core, and a client transport.

Both are thin: MBAP framing over a byte stream (Modbus Messaging on TCP/IP
Implementation Guide v1.0b, 3.1.3: the MBAP ``length`` field says how many
bytes follow it) and nothing else. Requests are answered by the same
:class:`~cosim.comm.modbus.server.ModbusServer` as in simulation, so unit-id
rules and exception codes are identical in simulation and on the wire; the
handling runs in the SimPy thread (see :mod:`.bridge` for why).

Wire behaviour of the server edge:

* a header that is not Modbus (protocol id not 0, length outside 2..254)
  closes the connection: the stream cannot be re-synchronised, which is what
  the codec's ``MalformedFrame`` means;
* a request the core does not answer (broadcast to unit 0) gets no reply;
* when the SimPy thread's inbox is full the edge answers 06 SERVER DEVICE
  BUSY itself, without touching simulation state;
* at most ``max_connections`` clients at once; more are closed on accept.
"""

from __future__ import annotations

import asyncio
import functools
import struct
from dataclasses import dataclass
from typing import Any, Callable, Generator

import simpy

from cosim.comm.modbus.codec import MBAP_LENGTH, MalformedFrame
from cosim.comm.modbus.datamodel import ExceptionCode
from cosim.comm.modbus.server import ModbusServer

from .bridge import IoThread, SimInbox
from .tcp_listener import TcpListener

HEADER_BYTES = 6  # transaction id, protocol id, length: what is needed to find the frame's end
MAX_LENGTH_FIELD = 254  # unit id + 253-byte PDU


def frame_length(header: bytes) -> int:
    """Bytes that follow the 6-byte MBAP prefix ``header``; raises MalformedFrame."""
    protocol, length = int.from_bytes(header[2:4], "big"), int.from_bytes(header[4:6], "big")
    if protocol != 0:
        raise MalformedFrame(f"protocol identifier {protocol} is not 0 (Modbus)")
    if not 2 <= length <= MAX_LENGTH_FIELD:
        raise MalformedFrame(f"MBAP length {length} outside 2..{MAX_LENGTH_FIELD}")
    return length


async def read_adu(reader: asyncio.StreamReader) -> bytes:
    """One whole ADU from the stream (IncompleteReadError at EOF, MalformedFrame on garbage)."""
    header = await reader.readexactly(HEADER_BYTES)
    return header + await reader.readexactly(frame_length(header))


def busy_response(adu: bytes) -> bytes:
    """Exception 06 to ``adu``, built in the I/O thread without the codec (whose pymodbus framer the
    SimPy thread may be using at the same moment)."""
    return struct.pack(">HHHBBB", int.from_bytes(adu[0:2], "big"), 0, 3, adu[6], adu[7] | 0x80,
                       int(ExceptionCode.SERVER_DEVICE_BUSY))


RequestObserver = Callable[[bytes, "bytes | None"], None]
"""Called in the SimPy thread after each request: ``(request_adu, response_adu_or_None)``."""


@dataclass
class EdgeCounters:
    connections: int = 0
    refused_connections: int = 0
    requests: int = 0
    busy: int = 0
    closed_malformed: int = 0
    closed_idle: int = 0


class ModbusTcpServer(TcpListener):
    """Serves ``server`` (units and their register banks) on ``host:port`` over real TCP.

    ``port=0`` picks a free port (see :attr:`port` after :meth:`start`). Binding
    defaults to loopback: exposing a simulated grid to a network is a choice.
    """

    def __init__(self, server: ModbusServer, io: IoThread, inbox: SimInbox, host: str = "127.0.0.1",
                 port: int = 0, max_connections: int = 32, observer: RequestObserver | None = None,
                 idle_timeout_s: float | None = 60.0, max_connections_per_client: int = 8) -> None:
        super().__init__(io, host, port)
        self.server = server
        self.inbox = inbox
        self.max_connections = max_connections
        # Silent sockets would hold the connection slots for good: a connection that sends no request for
        # idle_timeout_s wall seconds is closed, and one client address may hold only so many slots.
        self.idle_timeout_s = idle_timeout_s
        self.max_connections_per_client = max_connections_per_client
        self._per_client: dict[str, int] = {}
        self.observer = observer
        self.counters = EdgeCounters()
        self._open = 0

    # -- I/O thread --------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        client = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        if self._open >= self.max_connections or self._per_client.get(client, 0) >= self.max_connections_per_client:
            self.counters.refused_connections += 1
            writer.close()
            return
        self._open += 1
        self._per_client[client] = self._per_client.get(client, 0) + 1
        self._writers.add(writer)
        self.counters.connections += 1
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    adu = await asyncio.wait_for(read_adu(reader), self.idle_timeout_s)
                except asyncio.TimeoutError:
                    self.counters.closed_idle += 1
                    break
                self.counters.requests += 1
                answer: asyncio.Future[bytes | None] = loop.create_future()
                if not self.inbox.offer(functools.partial(self._handle, adu, answer, loop)):
                    self.counters.busy += 1
                    writer.write(busy_response(adu))
                else:
                    response = await answer
                    if response is None:
                        continue
                    writer.write(response)
                await writer.drain()
        except MalformedFrame:
            self.counters.closed_malformed += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._open -= 1
            self._per_client[client] -= 1
            if not self._per_client[client]:
                del self._per_client[client]
            self._writers.discard(writer)
            writer.close()

    # -- SimPy thread ------------------------------------------------------------------
    def _handle(self, adu: bytes, answer: "asyncio.Future[bytes | None]", loop: asyncio.AbstractEventLoop) -> None:
        response = self.server.handle(adu)
        if self.observer is not None:
            self.observer(adu, response)
        loop.call_soon_threadsafe(_resolve, answer, response)


def _succeed(event: simpy.Event, value: Any) -> None:
    event.succeed(value)


def _resolve(future: "asyncio.Future[Any]", value: Any) -> None:
    if not future.done():
        future.set_result(value)


class TcpModbusTransport:
    """:class:`cosim.comm.interfaces.ModbusTransport` over a real TCP connection.

    The exchange is a SimPy generator like the simulated one: the process waits
    on a SimPy event that the I/O thread triggers through the inbox, so the
    simulation keeps running meanwhile. ``timeout_s`` is simulated seconds,
    turned into wall seconds with the loop's ``speed``. One connection, opened
    on first use and re-opened after any failure; a timeout also closes it, so a
    late answer can never be read as the answer to the next request.
    """

    def __init__(self, host: str, port: int, env: simpy.Environment, io: IoThread, inbox: SimInbox,
                 speed: float = 1.0, connect_timeout_s: float = 1.0) -> None:
        self.host, self.port = host, port
        self.env, self.io, self.inbox = env, io, inbox
        self.speed = speed
        self.connect_timeout_s = connect_timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock: asyncio.Lock | None = None
        self.connects = 0
        self.failures = 0

    def exchange(self, adu: bytes, timeout_s: float | None) -> Generator[Any, Any, bytes | None]:
        done = self.env.event()
        wall_timeout = None if timeout_s is None else timeout_s / self.speed
        future = self.io.submit(self._roundtrip(adu, wall_timeout))

        def hand_back(f: Any) -> None:
            result = None if f.cancelled() or f.exception() is not None else f.result()
            self.inbox.offer(functools.partial(_succeed, done, result), force=True)

        future.add_done_callback(hand_back)
        answer: bytes | None = yield done
        return answer

    def close(self) -> None:
        if self._writer is not None and not self.io.loop.is_closed():
            self.io.loop.call_soon_threadsafe(self._drop)

    # -- I/O thread --------------------------------------------------------------------
    async def _roundtrip(self, adu: bytes, wall_timeout: float | None) -> bytes | None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            try:
                if self._writer is None:
                    self._reader, self._writer = await asyncio.wait_for(
                        asyncio.open_connection(self.host, self.port), self.connect_timeout_s)
                    self.connects += 1
                assert self._reader is not None and self._writer is not None
                self._writer.write(adu)
                await self._writer.drain()
                if wall_timeout is None:
                    return None
                return await asyncio.wait_for(self._matching(self._reader, adu[0:2]), wall_timeout)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, MalformedFrame):
                self.failures += 1
                self._drop()
                return None

    @staticmethod
    async def _matching(reader: asyncio.StreamReader, transaction_id: bytes) -> bytes:
        while True:
            frame = await read_adu(reader)
            if frame[0:2] == transaction_id and len(frame) >= MBAP_LENGTH:
                return frame

    def _drop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
