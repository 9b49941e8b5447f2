"""One end of an IEC 104 connection, sans-IO: sequence numbers, the k/w windows and STARTDT/STOPDT/TESTFR.

IEC 60870-5-104:2006 clause 5.1 and 5.5: each end counts the I frames it
sent (V(S)) and received (V(R)); an I frame or an S frame acknowledges all I
frames up to its N(R). A sender stops at ``k`` unacknowledged I frames (12 by
default) and a receiver acknowledges at the latest after ``w`` (8), or when
its t2 timer runs out (the caller runs the timer and asks :meth:`Connection.ack`).
A controlled station sends I frames only between STARTDT and STOPDT
(clause 5.3); until then, or while the window is full, they wait in order.
An I frame it receives outside that interval (the controlling station must
not send one) is a protocol error that closes the connection, so no command
is ever executed on a connection whose data transfer is stopped.

A sequence error (an N(S) that is not V(R), or an N(R) acknowledging frames
never sent) means the connection must be closed (clause 5.1): the result says
so and the caller drops this object, as a TCP close would.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .apci import SEQUENCE_MODULO, ApciError, IFrame, SFrame, UFrame, UFunction, decode, encode, split

K_DEFAULT = 12
W_DEFAULT = 8


@dataclass
class Received:
    asdus: list[bytes] = field(default_factory=list)
    """The ASDUs of the I frames, in order."""
    replies: list[bytes] = field(default_factory=list)
    """APDUs to send now: U confirmations, an S frame when w frames wait for acknowledgement, I frames the ack released."""
    functions: list[UFunction] = field(default_factory=list)
    """U functions heard (a master waits for STARTDT_CON)."""
    error: str | None = None
    """Set when the connection must be closed (a bad APDU or a sequence error)."""


class Connection:
    """Sequence state of one connection; ``station`` is True for the controlled station's end."""

    def __init__(self, *, station: bool, k: int = K_DEFAULT, w: int = W_DEFAULT) -> None:
        self.station = station
        self.k, self.w = k, w
        self.send_seq = 0        # V(S)
        self.recv_seq = 0        # V(R)
        self.peer_acked = 0      # the oldest of our I frames not yet acknowledged
        self.unacked_received = 0
        self.started = False     # data transfer on (STARTDT done)
        self._waiting: deque[bytes] = deque()

    @property
    def outstanding(self) -> int:
        return (self.send_seq - self.peer_acked) % SEQUENCE_MODULO

    def u_frame(self, function: UFunction) -> bytes:
        return encode(UFrame(function))

    def send(self, asdu: bytes) -> list[bytes]:
        """Queue ``asdu``; the I frames that may go now (none while stopped or while k frames await acknowledgement)."""
        self._waiting.append(asdu)
        return self._release()

    def ack(self) -> bytes | None:
        """An S frame acknowledging what was received, if anything is unacknowledged (the t2 timer's action)."""
        if not self.unacked_received:
            return None
        self.unacked_received = 0
        return encode(SFrame(self.recv_seq))

    def receive(self, octets: bytes) -> Received:
        """The APDUs of one message (a segment of the stream holding whole APDUs)."""
        result = Received()
        try:
            apdus, rest = split(octets)
            if rest:
                raise ApciError(f"{len(rest)} octets after the last whole APDU")
            for raw in apdus:
                self._take(decode(raw), result)
        except ApciError as error:
            result.error = str(error)
            return result
        result.replies += self._release()
        if self.unacked_received >= self.w:
            s_frame = self.ack()
            assert s_frame is not None
            result.replies.append(s_frame)
        return result

    def _take(self, apdu: IFrame | SFrame | UFrame, result: Received) -> None:
        if isinstance(apdu, UFrame):
            result.functions.append(apdu.function)
            reply = {UFunction.STARTDT_ACT: UFunction.STARTDT_CON, UFunction.STOPDT_ACT: UFunction.STOPDT_CON,
                     UFunction.TESTFR_ACT: UFunction.TESTFR_CON}.get(apdu.function)
            if apdu.function is UFunction.STARTDT_ACT and self.station:
                self.started = True
            elif apdu.function is UFunction.STOPDT_ACT and self.station:
                self.started = False
                s_frame = self.ack()  # clause 5.3: acknowledge what was received before confirming STOPDT
                if s_frame is not None:
                    result.replies.append(s_frame)
            elif apdu.function is UFunction.STARTDT_CON and not self.station:
                self.started = True
            if reply is not None and (self.station or apdu.function is UFunction.TESTFR_ACT):
                result.replies.append(encode(UFrame(reply)))
            return
        self._acknowledged(apdu.recv_seq)
        if isinstance(apdu, IFrame):
            if self.station and not self.started:  # clause 5.3: no data transfer outside STARTDT..STOPDT
                raise ApciError("I frame while data transfer is stopped (no STARTDT, or after STOPDT)")
            if apdu.send_seq != self.recv_seq:
                raise ApciError(f"sequence error: N(S) {apdu.send_seq}, expected {self.recv_seq}")
            self.recv_seq = (self.recv_seq + 1) % SEQUENCE_MODULO
            self.unacked_received += 1
            result.asdus.append(apdu.asdu)

    def _acknowledged(self, recv_seq: int) -> None:
        if (recv_seq - self.peer_acked) % SEQUENCE_MODULO > self.outstanding:
            raise ApciError(f"sequence error: N(R) {recv_seq} acknowledges frames not sent (V(S) {self.send_seq})")
        self.peer_acked = recv_seq

    def _release(self) -> list[bytes]:
        frames: list[bytes] = []
        while self._waiting and (self.started or not self.station) and self.outstanding < self.k:
            asdu = self._waiting.popleft()
            frames.append(encode(IFrame(self.send_seq, self.recv_seq, asdu)))
            self.send_seq = (self.send_seq + 1) % SEQUENCE_MODULO
            self.unacked_received = 0  # an I frame carries N(R): it acknowledges too
        return frames
