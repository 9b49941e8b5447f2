"""Communication links carried by another HELICS federate, typically a network simulator such as ns-3.

Why: gridcosim's own link model (latency distributions, bandwidth, loss,
outages) is enough for most studies, but a network researcher wants the
packets of a chosen link to cross *their* simulator -- with its MAC, its
routing, its congestion -- while devices and SCADA stay here.

How: each end of a carried link is a HELICS endpoint, declared in the
federate's own JSON configuration with ``"info": "link/<link name>/<node>"``.
A message that crosses the link from node A to node B is sent, at the
simulated time it enters the link, from A's endpoint to B's endpoint. The
federation decides what happens on the way: a network simulator takes it with
a reroute filter on A's endpoint and sends it on to B's endpoint after its own
delay, or drops it; HELICS delay filters do the same without a simulator.
When it reaches B's endpoint it continues through gridcosim's network from B,
at the time HELICS delivers it. A message that never comes back is traced as
dropped (``not_returned``) when the run ends.

The HELICS message carries the message's id in its first 8 bytes, padded
with zeros to the message's size, so the carrying simulator sees packets of
the true size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import helics

from ..comm.network import CommNetwork, Message

INFO_PREFIX = "link/"
ID_BYTES = 8


@dataclass(frozen=True, order=True)
class LinkEnd:
    """One end of a carried link: the link's name and the node at that end."""

    link: str
    node: str

    @classmethod
    def parse(cls, info: str) -> LinkEnd | None:
        """``link/<link>/<node>`` -> LinkEnd; None for endpoints that are not link ends (other info)."""
        if not info.startswith(INFO_PREFIX):
            return None
        parts = info[len(INFO_PREFIX):].split("/")
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"endpoint info {info!r}: expected 'link/<link name>/<node>'")
        return cls(parts[0], parts[1])


class HelicsLinkCarrier:
    """Sends the messages of carried links through HELICS endpoints and brings them back in."""

    def __init__(self, network: CommNetwork, endpoints: dict[LinkEnd, Any]) -> None:
        self.network = network
        self.endpoints = dict(sorted(endpoints.items()))
        self.names = {end: helics.helicsEndpointGetName(handle) for end, handle in self.endpoints.items()}
        self.in_flight: dict[int, Message] = {}
        self.sent = 0
        self.returned = 0
        self.unknown = 0

    @classmethod
    def attach(cls, federate: Any, network: CommNetwork | None) -> HelicsLinkCarrier | None:
        """The carrier for the link ends declared on ``federate``'s endpoints, or None when it declares none.

        Raises ValueError naming the endpoint when a link or node does not
        exist or a link has only one end declared.
        """
        endpoints: dict[LinkEnd, Any] = {}
        for index in range(helics.helicsFederateGetEndpointCount(federate)):
            handle = helics.helicsFederateGetEndpointByIndex(federate, index)
            end = LinkEnd.parse(helics.helicsEndpointGetInfo(handle))
            if end is None:
                continue
            if end in endpoints:
                raise ValueError(f"endpoint {helics.helicsEndpointGetName(handle)}: link end {end.link}/{end.node} declared twice")
            endpoints[end] = handle
        if not endpoints:
            return None
        if network is None:
            raise ValueError("endpoints carry comm links, but the scenario has no comm section")
        links = sorted({end.link for end in endpoints})
        for name in links:
            link = network.links.get(name)
            if link is None:
                raise ValueError(f"endpoint info link/{name}/...: no such link (have: {', '.join(sorted(network.links))})")
            declared = {end.node for end in endpoints if end.link == name}
            if declared != {link.a, link.b}:
                raise ValueError(f"link {name}: declare one endpoint for each end, link/{name}/{link.a} and "
                                 f"link/{name}/{link.b} (declared: {', '.join(sorted(declared))})")
        carrier = cls(network, endpoints)
        for name in links:
            network.carry_externally(name, carrier)
        return carrier

    def carry(self, msg: Message, from_node: str, to_node: str) -> None:
        """Send ``msg`` from the link's endpoint at ``from_node`` to the one at ``to_node``, now."""
        link = msg._link
        assert link is not None
        source = self.endpoints[LinkEnd(link.name, from_node)]
        data = msg.msg_id.to_bytes(ID_BYTES, "big") + bytes(max(0, msg.size_bytes - ID_BYTES))
        helics.helicsEndpointSendBytesTo(source, data, self.names[LinkEnd(link.name, to_node)])
        self.in_flight[msg.msg_id] = msg
        self.sent += 1

    def deliver_arrivals(self) -> int:
        """Put every message HELICS has delivered to a link end back into the network, now; returns how many."""
        count = 0
        for handle in self.endpoints.values():
            while helics.helicsEndpointHasMessage(handle):
                data = helics.helicsMessageGetBytes(helics.helicsEndpointGetMessage(handle))
                msg = self.in_flight.pop(int.from_bytes(bytes(data[:ID_BYTES]), "big"), None)
                if msg is None:  # a copy (a cloning filter) or a message that is not ours
                    self.unknown += 1
                    continue
                self.returned += 1
                count += 1
                self.network.external_arrival(msg)
        return count

    def finish(self) -> None:
        """Trace every message still out in the federation as dropped (``not_returned``)."""
        for msg_id in sorted(self.in_flight):
            self.network.external_not_returned(self.in_flight[msg_id])
        self.in_flight.clear()
