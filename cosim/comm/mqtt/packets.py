"""MQTT control packets as frozen dataclasses, with their MQTT 3.1.1 wire sizes.

Nothing is encoded in simulation; ``size_bytes`` is what the packet would
take on the wire (OASIS MQTT v3.1.1, section 3): a fixed header of one byte
plus the remaining-length varint, the variable header and the payload. The
network charges links for these sizes.
"""

from __future__ import annotations

from dataclasses import dataclass


MAX_REMAINING_LENGTH = 268_435_455
"""The largest remaining length four varint bytes can say (2.2.3); a longer packet cannot be sent."""


def _remaining_length_bytes(n: int) -> int:
    """Bytes of the remaining-length varint (section 2.2.3): 7 bits per byte, max 4."""
    return 1 if n < 128 else 2 if n < 16384 else 3 if n < 2097152 else 4


def remaining_length(packet: "Packet") -> int:
    """The remaining length of ``packet``: everything after the fixed header (2.2.3)."""
    size = packet.size_bytes()
    for varint in (1, 2, 3, 4):  # size = 1 + varint bytes + remaining (_with_fixed_header)
        if _remaining_length_bytes(size - 1 - varint) == varint:
            return size - 1 - varint
    return size - 5  # beyond what four varint bytes can say: still the length it would need


def _string(s: str) -> int:
    return 2 + len(s.encode("utf-8"))


def _with_fixed_header(remaining: int) -> int:
    return 1 + _remaining_length_bytes(remaining) + remaining


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False


@dataclass(frozen=True)
class Connect:
    client_id: str
    clean_session: bool
    keep_alive_s: float
    will: Will | None = None

    def size_bytes(self) -> int:
        remaining = 10 + _string(self.client_id)  # "MQTT" name(6) + level(1) + flags(1) + keep-alive(2)
        if self.will is not None:
            remaining += _string(self.will.topic) + 2 + len(self.will.payload)
        return _with_fixed_header(remaining)


@dataclass(frozen=True)
class ConnAck:
    session_present: bool

    def size_bytes(self) -> int:
        return 4


@dataclass(frozen=True)
class Publish:
    topic: str
    payload: bytes
    qos: int
    retain: bool = False
    dup: bool = False
    packet_id: int = 0  # 0 for QoS 0

    def size_bytes(self) -> int:
        return _with_fixed_header(_string(self.topic) + (2 if self.qos else 0) + len(self.payload))


@dataclass(frozen=True)
class PubAck:
    packet_id: int

    def size_bytes(self) -> int:
        return 4


@dataclass(frozen=True)
class PubRec:
    """QoS 2, first answer to a PUBLISH: received (4.3.3)."""

    packet_id: int

    def size_bytes(self) -> int:
        return 4


@dataclass(frozen=True)
class PubRel:
    """QoS 2, the sender's answer to PUBREC: release the packet id (4.3.3)."""

    packet_id: int

    def size_bytes(self) -> int:
        return 4


@dataclass(frozen=True)
class PubComp:
    """QoS 2, the last answer: complete; the packet id may be reused (4.3.3)."""

    packet_id: int

    def size_bytes(self) -> int:
        return 4


@dataclass(frozen=True)
class Subscribe:
    packet_id: int
    topic_filter: str
    qos: int

    def size_bytes(self) -> int:
        return _with_fixed_header(2 + _string(self.topic_filter) + 1)


@dataclass(frozen=True)
class SubAck:
    packet_id: int
    granted_qos: int  # 0x80 = failure (invalid filter)

    def size_bytes(self) -> int:
        return 5


@dataclass(frozen=True)
class Unsubscribe:
    packet_id: int
    topic_filter: str

    def size_bytes(self) -> int:
        return _with_fixed_header(2 + _string(self.topic_filter))


@dataclass(frozen=True)
class UnsubAck:
    packet_id: int

    def size_bytes(self) -> int:
        return 4


@dataclass(frozen=True)
class ConnectionClosed:
    """Not an MQTT packet: the TCP FIN/RST a client's stack sends when the client ends without DISCONNECT.

    A crashed or killed client process has its socket closed by its operating
    system, so a real broker learns of the loss at once (and publishes the
    will); the simulated client sends this in :meth:`SimMqttClient.abort`.
    Sized as the bare TCP segment's payload: nothing.
    """

    def size_bytes(self) -> int:
        return 0


@dataclass(frozen=True)
class PingReq:
    def size_bytes(self) -> int:
        return 2


@dataclass(frozen=True)
class PingResp:
    def size_bytes(self) -> int:
        return 2


@dataclass(frozen=True)
class Disconnect:
    def size_bytes(self) -> int:
        return 2


Packet = (Connect | ConnAck | Publish | PubAck | PubRec | PubRel | PubComp | Subscribe | SubAck | Unsubscribe
          | UnsubAck | PingReq | PingResp | Disconnect | ConnectionClosed)


def describe(packet: object) -> str:
    """A short trace description: packet type, topic, QoS, flags."""
    name = type(packet).__name__.upper()
    if isinstance(packet, Publish):
        flags = ("r" if packet.retain else "") + ("d" if packet.dup else "")
        return f"PUBLISH {packet.topic} q{packet.qos}{' ' + flags if flags else ''} id={packet.packet_id}"
    if isinstance(packet, (PubAck, PubRec, PubRel, PubComp, SubAck, UnsubAck)):
        return f"{name} id={packet.packet_id}"
    if isinstance(packet, Subscribe):
        return f"SUBSCRIBE {packet.topic_filter} q{packet.qos} id={packet.packet_id}"
    if isinstance(packet, Unsubscribe):
        return f"UNSUBSCRIBE {packet.topic_filter} id={packet.packet_id}"
    if isinstance(packet, ConnectionClosed):
        return "connection closed without DISCONNECT"
    if isinstance(packet, Connect):
        return f"CONNECT {packet.client_id} clean={int(packet.clean_session)}"
    return name
