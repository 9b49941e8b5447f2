"""DNP3 over real TCP: the outstations of a world's devices behind one listening port.

A thin edge around the same :class:`~devices.protocols.dnp3_endpoint.Dnp3Station`
objects the simulated network uses: the I/O thread only cuts the byte stream
into link frames (:func:`cosim.comm.dnp3.split_frames`, no simulation state),
and hands them to the SimPy thread through the inbox (see :mod:`.bridge`),
where each frame goes to the station whose link address it names. Stations
write back through the connection that spoke to them, so unsolicited
responses reach the master on its own connection (IEEE 1815-2012 over TCP,
clause 9.2.6 and IEEE 1815 Annex: DNP3 over TCP/IP, port 20000).

Wire behaviour: a stream that does not start with a frame header closes the
connection (it cannot be re-synchronised); when the inbox is full the frames
are dropped (DNP3 masters retry on their response timeout); at most
``max_connections`` connections at once. Binding defaults to loopback.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cosim.comm.dnp3 import LinkError, split_frames

from .bridge import IoThread, SimInbox
from .tcp_listener import TcpListener

if TYPE_CHECKING:
    from devices.protocols.dnp3_endpoint import Dnp3Station, Send

DNP3_PORT = 20000  # IANA-registered DNP3 port; tests and benches bind a free one


@dataclass
class Dnp3EdgeCounters:
    connections: int = 0
    refused_connections: int = 0
    frames: int = 0
    busy: int = 0
    closed_malformed: int = 0
    unknown_address: int = 0


class Dnp3TcpServer(TcpListener):
    """Serves ``stations`` (link address -> station) on ``host:port``; ``port=0`` picks a free one."""

    def __init__(self, stations: Mapping[int, Dnp3Station], io: IoThread, inbox: SimInbox, host: str = "127.0.0.1",
                 port: int = 0, max_connections: int = 16) -> None:
        super().__init__(io, host, port)
        self.stations = dict(stations)
        self.inbox = inbox
        self.max_connections = max_connections
        self.counters = Dnp3EdgeCounters()

    # -- I/O thread --------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._writers) >= self.max_connections:
            self.counters.refused_connections += 1
            writer.close()
            return
        self._writers.add(writer)
        self.counters.connections += 1
        loop = asyncio.get_running_loop()

        def send(octets: bytes, _kind: str) -> None:  # called in the SimPy thread
            loop.call_soon_threadsafe(_write, writer, octets)

        pending = b""
        try:
            while True:
                chunk = await reader.read(4096)
                if not chunk:
                    break
                frames, pending = split_frames(pending + chunk)
                if not frames:
                    continue
                self.counters.frames += len(frames)
                if not self.inbox.offer(functools.partial(self._deliver, frames, send)):
                    self.counters.busy += 1
        except LinkError:
            self.counters.closed_malformed += 1
        except ConnectionError:
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            self.inbox.offer(functools.partial(self._gone, send), force=True)

    # -- SimPy thread ------------------------------------------------------------------
    def _deliver(self, frames: list[bytes], send: Send) -> None:
        for frame in frames:
            station = self.stations.get(int.from_bytes(frame[4:6], "little"))
            if station is None:
                self.counters.unknown_address += 1
                continue
            station.receive(frame, send, stream=False)

    def _gone(self, send: Send) -> None:
        for station in self.stations.values():
            if station.peer is send:
                station.connect(None)


def _write(writer: asyncio.StreamWriter, octets: bytes) -> None:
    if not writer.is_closing():
        writer.write(octets)


def world_stations(world: Any) -> dict[int, Dnp3Station]:
    """The DNP3 stations of a world's devices, by link address (empty without devices)."""
    if not world.has_service("devices"):
        return {}
    found: dict[int, Dnp3Station] = {}
    devices = world.service("devices")
    for device_id in devices:
        station: Dnp3Station | None = getattr(devices[device_id], "endpoints", {}).get("dnp3")
        if station is not None:
            if station.address in found:
                raise ValueError(f"two DNP3 outstations with link address {station.address} cannot share a port")
            found[station.address] = station
    return found
