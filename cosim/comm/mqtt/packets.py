"""MQTT control packets as frozen dataclasses, with their MQTT 3.1.1 wire sizes.

Nothing is encoded in simulation; ``size_bytes`` is what the packet would
take on the wire (OASIS MQTT v3.1.1, section 3): a fixed header of one byte
plus the remaining-length varint, the variable header and the payload. The
network charges links for these sizes.
"""

from __future__ import annotations

from dataclasses import dataclass


def _remaining_length_bytes(n: int) -> int:
    """Bytes of the remaining-length varint (section 2.2.3): 7 bits per byte, max 4."""
    return 1 if n < 128 else 2 if n < 16384 else 3 if n < 2097152 else 4


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


Packet = Connect | ConnAck | Publish | PubAck | Subscribe | SubAck | PingReq | PingResp | Disconnect


def describe(packet: object) -> str:
    """A short trace description: packet type, topic, QoS, flags."""
    name = type(packet).__name__.upper()
    if isinstance(packet, Publish):
        flags = ("r" if packet.retain else "") + ("d" if packet.dup else "")
        return f"PUBLISH {packet.topic} q{packet.qos}{' ' + flags if flags else ''} id={packet.packet_id}"
    if isinstance(packet, (PubAck, SubAck)):
        return f"{name} id={packet.packet_id}"
    if isinstance(packet, Subscribe):
        return f"SUBSCRIBE {packet.topic_filter} q{packet.qos} id={packet.packet_id}"
    if isinstance(packet, Connect):
        return f"CONNECT {packet.client_id} clean={int(packet.clean_session)}"
    return name
