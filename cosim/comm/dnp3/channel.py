"""One end of a DNP3 association as octets: application fragments in and out through transport and link.

Sans-IO: :meth:`Dnp3Link.send` gives the octets of a fragment's link frames
(one TCP write, or one message through the simulated comm layer) and
:meth:`Dnp3Link.receive` takes octets as they arrive and returns the complete
fragments addressed to this end. User data goes in unconfirmed frames
(UNCONFIRMED_USER_DATA), as DNP3 over TCP does (IEEE 1815-2012, clause
9.2.6: link confirmation is not used over networks); a REQUEST_LINK_STATUS
(a master's keep-alive) gets its LINK_STATUS reply among the returned octets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .link import LinkError, LinkFrame, PrimaryFunction, SecondaryFunction, decode_frame, split_frames
from .transport import Reassembler, segment


@dataclass
class Received:
    """What :meth:`Dnp3Link.receive` found: fragments by source address, link replies to send, frames dropped."""

    fragments: list[tuple[int, bytes]] = field(default_factory=list)
    replies: bytes = b""
    dropped: list[str] = field(default_factory=list)


class Dnp3Link:
    """Link and transport state of one station (``address``) talking to peers; ``is_master`` sets DIR."""

    def __init__(self, address: int, is_master: bool) -> None:
        self.address, self.is_master = address, is_master
        self._sequence: dict[int, int] = {}
        self._reassembly: dict[int, Reassembler] = {}
        self._pending = b""

    def send(self, destination: int, fragment: bytes) -> bytes:
        """The octets of ``fragment`` as transport segments in unconfirmed link frames."""
        first = self._sequence.get(destination, 0)
        segments = segment(fragment, first)
        self._sequence[destination] = (first + len(segments)) & 0x3F
        return b"".join(LinkFrame(self.is_master, True, PrimaryFunction.UNCONFIRMED_USER_DATA, destination, self.address,
                                  s).encode() for s in segments)

    def receive(self, octets: bytes, stream: bool = True) -> Received:
        """Frames in ``octets``; ``stream``: keep an incomplete tail for the next call (TCP), else drop it."""
        out = Received()
        try:
            frames, rest = split_frames(self._pending + octets)
        except LinkError as error:
            self._pending = b""
            out.dropped.append(str(error))
            return out
        self._pending = rest if stream else b""
        if rest and not stream:
            out.dropped.append(f"{len(rest)} octets of an incomplete frame")
        for raw in frames:
            try:
                frame = decode_frame(raw)
            except LinkError as error:
                out.dropped.append(str(error))
                continue
            if frame.destination != self.address or frame.from_master == self.is_master:
                out.dropped.append(f"frame for address {frame.destination} (DIR {int(frame.from_master)})")
                continue
            if not frame.primary:
                continue  # link-layer ACK / LINK_STATUS: nothing rides on them here
            if frame.function == PrimaryFunction.REQUEST_LINK_STATUS:
                out.replies += LinkFrame(self.is_master, False, SecondaryFunction.LINK_STATUS, frame.source,
                                         self.address).encode()
            elif frame.function in (PrimaryFunction.RESET_LINK_STATES, PrimaryFunction.TEST_LINK_STATES):
                out.replies += LinkFrame(self.is_master, False, SecondaryFunction.ACK, frame.source, self.address).encode()
            elif frame.function in (PrimaryFunction.UNCONFIRMED_USER_DATA, PrimaryFunction.CONFIRMED_USER_DATA):
                if frame.function == PrimaryFunction.CONFIRMED_USER_DATA:
                    out.replies += LinkFrame(self.is_master, False, SecondaryFunction.ACK, frame.source,
                                             self.address).encode()
                fragment = self._reassembly.setdefault(frame.source, Reassembler()).push(frame.data)
                if fragment is not None:
                    out.fragments.append((frame.source, fragment))
            else:
                out.replies += LinkFrame(self.is_master, False, SecondaryFunction.NOT_SUPPORTED, frame.source,
                                         self.address).encode()
        return out
