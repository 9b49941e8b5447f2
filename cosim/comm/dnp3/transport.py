"""DNP3 transport function (IEEE 1815-2012, clause 8): cut application fragments into link-frame segments and back.

Each segment is one header octet (FIN 0x80, FIR 0x40, a 6-bit sequence number
that increments modulo 64 per segment) and at most 249 octets of the fragment,
so that a segment fills one link frame's 250 octets of user data. The receiver
accepts a segment with FIR at any time (it starts a new fragment), and
otherwise only the next sequence number; anything else discards the partial
fragment (clause 8.2.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

FIN = 0x80
FIR = 0x40
MAX_SEGMENT_DATA = 249
MAX_FRAGMENT = 2048 * 8  # reassembly cap: a peer cannot make us hold more than this


def segment(fragment: bytes, first_sequence: int) -> list[bytes]:
    """The transport segments of ``fragment``, numbered from ``first_sequence`` (mod 64)."""
    if not fragment:
        raise ValueError("an empty fragment has no segments")
    pieces = [fragment[i:i + MAX_SEGMENT_DATA] for i in range(0, len(fragment), MAX_SEGMENT_DATA)]
    out = []
    for number, piece in enumerate(pieces):
        header = ((first_sequence + number) & 0x3F) | (FIR if number == 0 else 0) | (FIN if number == len(pieces) - 1 else 0)
        out.append(bytes([header]) + piece)
    return out


@dataclass
class Reassembler:
    """Rebuilds fragments from segments received in order; ``discarded`` counts segments thrown away."""

    _buffer: bytearray = field(default_factory=bytearray)
    _expected: int | None = None
    discarded: int = 0

    def push(self, segment_octets: bytes) -> bytes | None:
        """Take one segment; returns the complete fragment when this segment finishes one."""
        if not segment_octets:
            self.discarded += 1
            return None
        header, data = segment_octets[0], segment_octets[1:]
        sequence = header & 0x3F
        if header & FIR:
            if self._expected is not None:
                self.discarded += 1  # an unfinished fragment is abandoned
            self._buffer = bytearray()
        elif self._expected is None or sequence != self._expected:
            self.discarded += 1
            self._buffer, self._expected = bytearray(), None
            return None
        self._buffer += data
        if len(self._buffer) > MAX_FRAGMENT:
            self.discarded += 1
            self._buffer, self._expected = bytearray(), None
            return None
        if header & FIN:
            fragment = bytes(self._buffer)
            self._buffer, self._expected = bytearray(), None
            return fragment
        self._expected = (sequence + 1) & 0x3F
        return None
