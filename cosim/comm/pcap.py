"""Write a message trace's bytes as a classic pcap file, so that Wireshark/tshark can judge them.

Each payload becomes one IPv4/TCP segment of a per-direction byte stream
(sequence numbers advance by the payload length; every segment carries PSH
and ACK), between two loopback addresses per conversation. Timestamps are the
simulated send times. Link type 101 (raw IPv4): no Ethernet header to invent.
Nothing here opens a socket; the file is for dissectors.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

LINKTYPE_RAW = 101


@dataclass(frozen=True)
class Segment:
    """One payload sent at ``time_s`` from (address, port) to (address, port)."""

    time_s: float
    src: tuple[str, int]
    dst: tuple[str, int]
    payload: bytes


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f">{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ip(address: str) -> bytes:
    return bytes(int(part) for part in address.split("."))


def write_pcap(path: Path, segments: list[Segment]) -> None:
    """Write ``segments`` (in order) as one pcap file; TCP and IP checksums are computed."""
    sequence: dict[tuple[tuple[str, int], tuple[str, int]], int] = {}
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW))
        for ident, segment in enumerate(segments):
            flow = (segment.src, segment.dst)
            seq = sequence.get(flow, 1000)
            ack = sequence.get((segment.dst, segment.src), 1000)
            sequence[flow] = (seq + len(segment.payload)) & 0xFFFFFFFF
            src_ip, dst_ip = _ip(segment.src[0]), _ip(segment.dst[0])
            tcp = struct.pack(">HHIIBBHHH", segment.src[1], segment.dst[1], seq, ack, 5 << 4, 0x18, 65535, 0, 0)
            pseudo = src_ip + dst_ip + struct.pack(">BBH", 0, 6, len(tcp) + len(segment.payload))
            tcp = tcp[:16] + struct.pack(">H", _checksum(pseudo + tcp + segment.payload)) + tcp[18:]
            total = 20 + len(tcp) + len(segment.payload)
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, ident & 0xFFFF, 0x4000, 64, 6, 0, src_ip, dst_ip)
            ip = ip[:10] + struct.pack(">H", _checksum(ip)) + ip[12:]
            packet = ip + tcp + segment.payload
            seconds = int(segment.time_s)
            micros = int(round((segment.time_s - seconds) * 1e6))
            if micros >= 1_000_000:
                seconds, micros = seconds + 1, micros - 1_000_000
            out.write(struct.pack("<IIII", seconds, micros, len(packet), len(packet)))
            out.write(packet)
