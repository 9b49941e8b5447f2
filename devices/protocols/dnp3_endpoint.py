"""DNP3 outstations on the wire: one station per device, carried by the simulated comm layer or a TCP socket.

A :class:`Dnp3Station` joins a device's :class:`~devices.protocols.dnp3_outstation.Outstation`
to its link layer and its peer. It runs in the SimPy thread in both cases:

* in simulated time the node's :class:`Dnp3Endpoint` (protocol ``dnp3``)
  hands each message's octets to the station addressed by the first frame's
  destination, and the station answers to the node that sent them; the trace's
  ``info`` column holds the octets in hex, so a trace becomes a pcap for tshark;
* in hardware-in-the-loop a TCP edge (``cosim.hil.dnp3_tcp``) gives the octets
  of a connection and takes the station's writes.

Unsolicited responses go to the peer that last sent the station a valid
request from its master's address (over TCP: the master's connection), as
there is no association before a master connects. An unconfirmed one is resent identically every ``confirm_timeout_s``
simulated seconds until it is confirmed or the peer changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cosim.comm.dnp3 import Dnp3Link, FunctionCode
from devices.protocols.dnp3_outstation import Outstation
from devices.protocols.node_endpoint import NodeEndpoint

PROTOCOL = "dnp3"

Send = Callable[[bytes, str], None]
"""Writes octets to the station's peer; the second argument names the fragment (for the trace)."""


def fragment_kind(fragment: bytes) -> str:
    """The function name of an application fragment, for the trace's ``kind`` column."""
    try:
        return FunctionCode(fragment[1]).name.lower() if len(fragment) > 1 else "fragment"
    except ValueError:
        return f"function_{fragment[1]:02x}"


class Dnp3Station:
    """One outstation's link end, its peer and its unsolicited retry timer (SimPy thread only)."""

    def __init__(self, world: Any, outstation: Outstation, address: int, master_address: int,
                 confirm_timeout_s: float, device_id: str) -> None:
        self.world, self.outstation = world, outstation
        self.address, self.master_address = address, master_address
        self.confirm_timeout_s = confirm_timeout_s
        self.device_id = device_id
        self.link = Dnp3Link(address, is_master=False)
        self.peer: Send | None = None
        self._timer_token = 0
        self._timer_running = False
        self.dropped = 0

    def connect(self, peer: Send | None) -> None:
        """A new peer (a master's connection or node); None when it went away. Reports then go there."""
        if peer is not self.peer:
            self.link = Dnp3Link(self.address, is_master=False)  # a new connection starts a new link
        self.peer = peer
        self.report()

    def receive(self, octets: bytes, peer: Send, stream: bool) -> None:
        """Octets from ``peer``; answers each complete request, then looks for something to report.

        The peer becomes the station's master (where reports go) only with a valid request from its address.
        """
        received = self.link.receive(octets, stream=stream)
        if received.replies:
            peer(received.replies, "link_status")
        for reason in received.dropped:
            self.dropped += 1
            self.world.log("dnp3_frame_dropped", device=self.device_id, reason=reason)
        for source, fragment in received.fragments:
            if source != self.master_address:
                self.world.log("dnp3_unknown_master", device=self.device_id, source=source)
                continue
            self.peer = peer
            answer = self.outstation.handle(fragment)
            if answer is not None:
                peer(self.link.send(source, answer), fragment_kind(answer))
        self.report()

    def scan(self) -> None:
        """After the device's step: buffer events, then report them unsolicited if allowed."""
        self.outstation.scan()
        self.report()

    def report(self) -> None:
        """Send an unsolicited response if one is due; an outstanding one with no timer (its peer went away and
        another came) is resent to the present peer."""
        if self.peer is None:
            return
        fragment = self.outstation.unsolicited()
        if fragment is None:
            if self.outstation.unsolicited_outstanding() is None or self._timer_running:
                return
            fragment = self.outstation.retry_unsolicited()
            if fragment is None:
                return
        self.peer(self.link.send(self.master_address, fragment), fragment_kind(fragment))
        self._timer_token += 1
        self._timer_running = True
        self.world.process(self._retry(self._timer_token, self.outstation.unsolicited_outstanding()))

    def _retry(self, token: int, sequence: int | None) -> Any:
        try:
            while True:
                yield self.world.timeout(self.confirm_timeout_s)
                if token != self._timer_token or self.outstation.unsolicited_outstanding() != sequence:
                    return  # confirmed, or a newer report owns the timer
                fragment = self.outstation.retry_unsolicited()
                if fragment is None or self.peer is None:
                    return
                self.peer(self.link.send(self.master_address, fragment), "unsolicited_retry")
        finally:
            if token == self._timer_token:
                self._timer_running = False


class Dnp3Endpoint(NodeEndpoint):
    """The ``dnp3`` handler of one comm node, shared by the outstations on it (routed by link address)."""

    protocol = PROTOCOL

    def __init__(self, comm: Any, node: str, log: Callable[..., None]) -> None:
        self.stations: dict[int, Dnp3Station] = {}
        self._peers: dict[str, Send] = {}
        super().__init__(comm, node, log)

    def add(self, station: Dnp3Station) -> None:
        if station.address in self.stations:
            raise ValueError(f"node {self.node!r}: two DNP3 outstations with link address {station.address}")
        self.stations[station.address] = station

    def peer(self, dst: str) -> Send:
        """The send function towards node ``dst`` (one per node, so a station can tell its peer changed)."""
        if dst not in self._peers:
            def send(octets: bytes, kind: str) -> None:
                self.comm.send(self.node, dst, PROTOCOL, octets, len(octets), kind=kind, info=octets.hex())
            self._peers[dst] = send
        return self._peers[dst]

    def _receive(self, message: Any) -> None:
        octets = bytes(message.payload)
        if len(octets) < 6 or octets[:2] != b"\x05\x64":
            message.status, message.reason = "rejected", "not a DNP3 link frame"
            self.log("dnp3_frame_dropped", node=self.node, src=message.src, reason="no start octets")
            return
        station = self.stations.get(int.from_bytes(octets[4:6], "little"))
        if station is None:
            message.status, message.reason = "rejected", "no outstation at that link address"
            self.log("dnp3_unknown_address", node=self.node, src=message.src, address=int.from_bytes(octets[4:6], "little"))
            return
        station.receive(octets, self.peer(message.src), stream=False)
