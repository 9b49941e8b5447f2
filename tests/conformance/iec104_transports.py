"""A controlling station's end for the IEC 104 conformance cases, over the simulated comm layer and real TCP.

Both transports run configs/iec104_feeder.yaml without its simulated master
(the cases are the master) and talk to the pole RTU's node (common address 2,
select-and-execute demanded):

* :func:`simulated`: APDUs through the comm network in simulated time, from
  the control centre's node; a connection closed by the station is a message
  the node server rejected (the simulated network's TCP close);
* :func:`tcp`: APDUs over a real TCP connection to :class:`LoopbackStation`, a
  loopback server on a free 127.0.0.1 port that hands each whole APDU of the
  stream to the node server through its TCP seam (``Iec104Server.receive``)
  and closes the socket when the station says the connection must close.

The world runs in the test's thread, stepped between reads, so both
transports are deterministic in simulated time.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from cosim.comm.iec104 import split
from cosim.comm.iec104.apci import ApciError
from cosim.runner import build_world
from cosim.scenario import load_scenario
from devices.protocols.iec104_station import Iec104Server
from hiltools import ROOT
from wire import SimulatedCarrier, never

SCENARIO = ROOT / "configs" / "iec104_feeder.yaml"
STATION_NODE, MASTER_NODE = "pole_radio", "scada"
COMMON_ADDRESS = 2
SLICE_S = 0.05


def conformance_scenario(folder: Path) -> Path:
    """The feeder scenario with no simulated master and no fault (the cases are the master and make the changes)."""
    spec = yaml.safe_load(SCENARIO.read_text())
    for actor in spec["actors"]:
        actor.pop("applications", None)
    spec.pop("events", None)
    path = folder / "iec104_conformance.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


class Simulated(SimulatedCarrier):
    """APDUs through the simulated network; ``closed`` once the station's node rejected one (clause 5.1 close)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(conformance_scenario(folder), MASTER_NODE, STATION_NODE, "iec104")
        self.sent: list[Any] = []

    def send(self, octets: bytes) -> None:
        self.frames.append((True, octets))
        self.sent.append(self.comm.send(self.node, self.peer, self.protocol, octets, len(octets)))

    def closed(self) -> bool:
        return any(message.status == "rejected" for message in self.sent)


class LoopbackStation:
    """The scenario's IEC 104 node server behind a TCP listener on 127.0.0.1 (a free port), pumped by :meth:`pump`."""

    def __init__(self, folder: Path) -> None:
        self.world, _ = build_world(load_scenario(conformance_scenario(folder)), None)
        self.world.run(1.0)  # devices up
        self.server = Iec104Server.of(self.world.service("comm"), STATION_NODE, self.world.log)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setblocking(False)
        self.port = int(self.listener.getsockname()[1])
        self.peers: dict[socket.socket, tuple[str, bytes]] = {}

    def pump(self, wait_s: float = 0.002) -> None:
        """Accept, hand every whole APDU read to the station, then run one slice of simulated time."""
        readable, _, _ = select.select([self.listener, *self.peers], [], [], wait_s)
        for sock in readable:
            if sock is self.listener:
                peer, address = self.listener.accept()
                self.peers[peer] = (f"tcp:{address[1]}", b"")
                continue
            name, buffer = self.peers[sock]
            data = sock.recv(65536)
            reason = None if data else "peer closed"
            try:
                apdus, buffer = split(buffer + data)
            except ApciError as error:  # not an APDU stream (clause 5): close
                apdus, reason = [], str(error)
            self.peers[sock] = (name, buffer)
            for apdu in apdus:
                reason = self.server.receive(name, apdu, sock.sendall)
                if reason is not None:
                    break
            if reason is not None:  # the station's close (clause 5.1), or the peer's
                self.server.close(name)
                del self.peers[sock]
                sock.close()
        self.world.run(self.world.now + SLICE_S)

    def stop(self) -> None:
        for sock in self.peers:
            sock.close()
        self.listener.close()


class Tcp:
    """A TCP connection to a :class:`LoopbackStation`; the carrier's ``wait`` pumps the station and reads replies."""

    def __init__(self, folder: Path) -> None:
        self.station = LoopbackStation(folder)
        self.world = self.station.world
        self.frames: list[tuple[bool, bytes]] = []
        self.sock = socket.create_connection(("127.0.0.1", self.station.port), timeout=5)
        self.sock.setblocking(False)
        self._eof = False
        self.station.pump()

    def send(self, octets: bytes) -> None:
        self.frames.append((True, octets))
        self.sock.sendall(octets)

    def _read(self) -> None:
        while not self._eof and select.select([self.sock], [], [], 0.002)[0]:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self._eof = True
                return
            self.frames.append((False, chunk))

    def wait(self, seconds: float, done: Callable[[], bool] = never) -> None:
        """Up to ``seconds`` of simulated time, the station pumped every slice, stopping once ``done``."""
        for _ in range(round(seconds / SLICE_S)):
            self.station.pump()
            self._read()
            if done():
                return

    def closed(self) -> bool:
        return self._eof

    def close(self) -> None:
        self.sock.close()
        self.station.stop()


TRANSPORTS: dict[str, Callable[[Path], Any]] = {"simulated": Simulated, "tcp": Tcp}
