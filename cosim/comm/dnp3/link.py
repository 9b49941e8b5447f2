"""DNP3 data link layer (IEEE 1815-2012, clause 9): frames with a CRC on the header and on every 16-octet block.

A frame is ``0x05 0x64``, LENGTH, CONTROL, DESTINATION, SOURCE and a CRC over
those eight octets, then the user data in blocks of at most 16 octets, each
followed by its own CRC. LENGTH counts CONTROL, the two addresses and the user
data (5..255), never the CRCs. Addresses and CRCs are little-endian. The CRC is
CRC-16/DNP: polynomial 0x3D65 processed bit-reversed (0xA6BC), initial value 0,
result complemented (clause 9.2.5).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

START = b"\x05\x64"
HEADER_OCTETS = 10  # start (2), length, control, destination (2), source (2), CRC (2)
BLOCK_OCTETS = 16
MAX_USER_DATA = 250  # LENGTH is one octet and counts the 5 octets of control and addresses
BROADCAST_MIN = 0xFFFD  # 0xFFFD..0xFFFF are broadcast addresses (clause 9.2.4.1.4)


class LinkError(ValueError):
    """A frame that is not DNP3 or whose CRC does not match: the octets are dropped, never answered."""


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA6BC if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc_dnp(data: bytes) -> int:
    """CRC-16/DNP of ``data`` (the catalogue's check value for b"123456789" is 0xEA82)."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return ~crc & 0xFFFF


def _with_crc(block: bytes) -> bytes:
    return block + crc_dnp(block).to_bytes(2, "little")


class PrimaryFunction(enum.IntEnum):
    """Link function codes of frames with PRM = 1 (clause 9.2.4.1.3, Table 9-1)."""

    RESET_LINK_STATES = 0
    TEST_LINK_STATES = 2
    CONFIRMED_USER_DATA = 3
    UNCONFIRMED_USER_DATA = 4
    REQUEST_LINK_STATUS = 9


class SecondaryFunction(enum.IntEnum):
    """Link function codes of frames with PRM = 0 (Table 9-2)."""

    ACK = 0
    NACK = 1
    LINK_STATUS = 11
    NOT_SUPPORTED = 15


DIR = 0x80  # set on frames a master sends
PRM = 0x40  # set on primary (initiating) frames
FCB = 0x20
FCV_DFC = 0x10  # FCV on primary frames, DFC on secondary ones


@dataclass(frozen=True)
class LinkFrame:
    """One link frame: ``from_master`` is DIR, ``primary`` is PRM; ``function`` is the 4-bit code."""

    from_master: bool
    primary: bool
    function: int
    destination: int
    source: int
    data: bytes = b""
    fcb: bool = False
    fcv_dfc: bool = False

    def control(self) -> int:
        return ((DIR if self.from_master else 0) | (PRM if self.primary else 0) | (FCB if self.fcb else 0)
                | (FCV_DFC if self.fcv_dfc else 0) | (self.function & 0x0F))

    def encode(self) -> bytes:
        if len(self.data) > MAX_USER_DATA:
            raise ValueError(f"{len(self.data)} octets of user data; a frame carries at most {MAX_USER_DATA}")
        for address in (self.destination, self.source):
            if not 0 <= address <= 0xFFFF:
                raise ValueError(f"link address {address} outside 0..65535")
        header = START + bytes([5 + len(self.data), self.control()]) + self.destination.to_bytes(2, "little") \
            + self.source.to_bytes(2, "little")
        out = bytearray(_with_crc(header))
        for offset in range(0, len(self.data), BLOCK_OCTETS):
            out += _with_crc(self.data[offset:offset + BLOCK_OCTETS])
        return bytes(out)


def frame_octets(length_field: int) -> int:
    """Octets on the wire of a frame whose LENGTH field is ``length_field`` (header, blocks and their CRCs)."""
    user = length_field - 5
    return HEADER_OCTETS + user + 2 * -(-user // BLOCK_OCTETS)


def decode_frame(raw: bytes) -> LinkFrame:
    """Decode exactly one frame; raises LinkError (bad start, length, or any CRC)."""
    if len(raw) < HEADER_OCTETS or raw[:2] != START:
        raise LinkError("not a DNP3 frame (start octets 0x05 0x64 missing)")
    length = raw[2]
    if length < 5:
        raise LinkError(f"LENGTH {length} below 5")
    if len(raw) != frame_octets(length):
        raise LinkError(f"{len(raw)} octets for LENGTH {length} (expected {frame_octets(length)})")
    if crc_dnp(raw[:8]) != int.from_bytes(raw[8:10], "little"):
        raise LinkError("header CRC mismatch")
    data = bytearray()
    position = HEADER_OCTETS
    remaining = length - 5
    while remaining:
        size = min(BLOCK_OCTETS, remaining)
        block = raw[position:position + size]
        if crc_dnp(block) != int.from_bytes(raw[position + size:position + size + 2], "little"):
            raise LinkError(f"CRC mismatch in the data block at octet {position}")
        data += block
        position += size + 2
        remaining -= size
    control = raw[3]
    return LinkFrame(bool(control & DIR), bool(control & PRM), control & 0x0F, int.from_bytes(raw[4:6], "little"),
                     int.from_bytes(raw[6:8], "little"), bytes(data), bool(control & FCB), bool(control & FCV_DFC))


def split_frames(stream: bytes) -> tuple[list[bytes], bytes]:
    """Cut a byte stream into whole frames; returns (frames, the incomplete rest).

    Raises LinkError when the stream does not start with a frame header (a TCP
    stream that lost its framing cannot be re-synchronised reliably).
    """
    frames = []
    position = 0
    while len(stream) - position >= 3:
        if stream[position:position + 2] != START:
            raise LinkError(f"no start octets at stream offset {position}")
        size = frame_octets(max(stream[position + 2], 5))
        if len(stream) - position < size:
            break
        frames.append(stream[position:position + size])
        position += size
    return frames, stream[position:]
