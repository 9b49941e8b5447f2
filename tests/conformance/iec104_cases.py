"""IEC 60870-5-104 conformance cases as data, and the controlling station that plays them.

A case is a list of steps: an APDU the master sends (a U function, an S
frame, an ASDU in an I frame with the master's own sequence numbers, or raw
ASDU octets our encoder would refuse to make) and what the controlled
station must answer -- the U confirmations and ASDUs (type, cause, P/N, IOAs)
in order, the acknowledgement it owes, or the connection's close. The
expectations come from the clauses of IEC 60870-5-104:2006 and
IEC 60870-5-101:2003 named in each case, not from the station's output.
The station is the pole RTU of configs/iec104_feeder.yaml (common address 2,
select-and-execute demanded): single point IOA 1 (rec_closed), float 1001
(rec_a), single commands 2001 (open) and 2002 (close).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from cosim.comm.iec104 import (
    Asdu,
    Cause,
    ClockSync,
    Cp56Time,
    InformationObject,
    Interrogation,
    SingleCommand,
    TypeId,
    UFunction,
    decode_asdu,
    encode_asdu,
    split,
)
from cosim.comm.iec104.apci import IFrame, SFrame, UFrame, decode, encode
from iec104_transports import COMMON_ADDRESS

T, C, U = TypeId, Cause, UFunction
SYNC_MS = round(datetime.datetime(2031, 3, 4, 5, 6, 7, 890000, tzinfo=datetime.timezone.utc).timestamp() * 1000)
"""A master time far from the scenario's 2026 clock."""


@dataclass(frozen=True)
class Reply:
    """One APDU the station must send: a U function, or an ASDU's type, cause and P/N (IOAs if given)."""

    u: UFunction | None = None
    type_id: int | None = None
    cause: Cause | None = None
    negative: bool = False
    ioas: tuple[int, ...] | None = None
    value: Any = None
    """The first object's state (single point) if not None."""
    stamped_from_ms: int | None = None
    """The first object's CP56Time2a (or clock sync time) must be at or after this and within a minute of it."""


@dataclass(frozen=True)
class Heard:
    """One U or I frame the station sent, as the master decoded it."""

    u: UFunction | None = None
    type_id: int | None = None
    cause: int | None = None
    negative: bool = False
    ioas: tuple[int, ...] = ()
    value: Any = None
    stamp_ms: int | None = None

    def matches(self, reply: Reply) -> bool:
        return ((reply.u is None or reply.u == self.u) and (reply.type_id is None or reply.type_id == self.type_id)
                and (reply.cause is None or reply.cause == self.cause) and reply.negative == self.negative
                and (reply.ioas is None or reply.ioas == self.ioas) and (reply.value is None or reply.value == self.value)
                and (reply.stamped_from_ms is None or (self.stamp_ms is not None
                                                       and 0 <= self.stamp_ms - reply.stamped_from_ms < 60_000)))


class AckAll:
    """An S frame acknowledging every I frame the master received."""


@dataclass(frozen=True)
class Step:
    """Send ``send`` (None: only let ``wait_s`` of simulated time pass), then check what the station sent."""

    send: UFrame | SFrame | IFrame | Asdu | bytes | AckAll | None
    replies: tuple[Reply, ...] = ()
    """The next U and I frames the station sends (S frames aside), in order."""
    exact: bool = True
    """True: exactly ``replies`` and nothing more; False: ``replies`` among what comes (spontaneous data aside)."""
    closed: bool = False
    """The station closes the connection and serves nothing."""
    acked: int | None = None
    """The highest N(R) the station sent (S or I frame) must reach this."""
    wait_s: float = 2.0
    ack_replies: bool = True
    """The master acknowledges the station's I frames after the step (S frame)."""


@dataclass(frozen=True)
class Case:
    name: str
    clause: str
    steps: tuple[Step, ...]


def gi(address: int = COMMON_ADDRESS, cause: Cause = C.ACTIVATION) -> Asdu:
    return Asdu(T.C_IC_NA_1, cause, address, (InformationObject(0, Interrogation(20)),))


def command(ioa: int, on: bool, select: bool, cause: Cause = C.ACTIVATION) -> Asdu:
    return Asdu(T.C_SC_NA_1, cause, COMMON_ADDRESS, (InformationObject(ioa, SingleCommand(on, select)),))


def clock_sync(utc_ms: int) -> Asdu:
    return Asdu(T.C_CS_NA_1, C.ACTIVATION, COMMON_ADDRESS, (InformationObject(0, ClockSync(Cp56Time(utc_ms))),))


START = Step(UFrame(U.STARTDT_ACT), (Reply(U.STARTDT_CON),))
STOP = Step(UFrame(U.STOPDT_ACT), (Reply(U.STOPDT_CON),))
TEST = Step(UFrame(U.TESTFR_ACT), (Reply(U.TESTFR_CON),))
GI_ANSWER = (Reply(type_id=T.C_IC_NA_1, cause=C.ACTIVATION_CON),
             Reply(type_id=T.M_SP_NA_1, cause=C.INTERROGATED_BY_STATION, ioas=(1,), value=True),
             Reply(type_id=T.M_ME_NC_1, cause=C.INTERROGATED_BY_STATION, ioas=(1001,)),
             Reply(type_id=T.C_IC_NA_1, cause=C.ACTIVATION_TERMINATION))
SELECT_OPEN = Step(command(2001, True, True), (Reply(type_id=T.C_SC_NA_1, cause=C.ACTIVATION_CON, ioas=(2001,)),))
EXECUTE_OPEN = Step(command(2001, True, False), (Reply(type_id=T.C_SC_NA_1, cause=C.ACTIVATION_CON, ioas=(2001,)),
                                                 Reply(type_id=T.C_SC_NA_1, cause=C.ACTIVATION_TERMINATION)),
                    exact=False)  # the switch may open, and say so spontaneously, before the step ends
UNKNOWN_TYPE = bytes((58, 1, 6, 0, COMMON_ADDRESS, 0, 0xD1, 0x07, 0, 0x01)) + Cp56Time(SYNC_MS).encode()
"""C_SC_TA_1 (type 58, a single command with time tag: a standard type this station does not support)."""
FILE_CAUSE = bytes((45, 1, 13, 0, COMMON_ADDRESS, 0, 0xD1, 0x07, 0, 0x01))
"""C_SC_NA_1 (IOA 2001) with cause 13, file transfer: a cause no command takes."""
HOLD = {"ack_replies": False}

CASES: tuple[Case, ...] = (
    Case("startdt", "104 5.3: STARTDT act answered by STARTDT con", (START,)),
    Case("testfr", "104 5.2: TESTFR act answered by TESTFR con, before and after STARTDT", (TEST, START, TEST)),
    Case("stopdt", "104 5.3: STOPDT act answered by STOPDT con; a new STARTDT starts data transfer again",
         (START, STOP, START, Step(gi(), GI_ANSWER))),
    Case("i_frame_before_startdt", "104 5.3: no data transfer before STARTDT: an I frame is not served",
         (Step(gi(), closed=True),)),
    Case("i_frame_after_stopdt", "104 5.3: no data transfer after STOPDT: an I frame is not served",
         (START, STOP, Step(gi(), closed=True))),
    Case("send_sequence_error", "104 5.1: an N(S) other than V(R) closes the connection",
         (START, Step(IFrame(3, 0, encode_asdu(gi())), closed=True))),
    Case("ack_of_unsent", "104 5.1: an N(R) acknowledging I frames never sent closes the connection",
         (START, Step(SFrame(5), closed=True))),
    Case("k_window", "104 5.5: at most k = 12 unacknowledged I frames; an S frame releases the rest",
         (START, *(Step(gi(), GI_ANSWER, **HOLD) for _ in range(3)), Step(gi(), (), **HOLD),
          Step(AckAll(), GI_ANSWER))),
    Case("w_window", "104 5.5: the receiver acknowledges at the latest after w = 8 I frames (S frame, before t2)",
         (START, *(Step(gi(), GI_ANSWER, **HOLD) for _ in range(3)),
          *(Step(gi(), (), wait_s=0.2, **HOLD) for _ in range(7)), Step(gi(), (), acked=11, wait_s=0.2, **HOLD))),
    Case("general_interrogation", "101 7.4.5, 104 9: C_IC_NA_1 act con, every point with cause 20, act term",
         (START, Step(gi(), GI_ANSWER))),
    Case("select_execute", "101 5.8, 7.3.2.1: C_SC_NA_1 select con, execute con and term; the switch opens",
         (START, SELECT_OPEN, EXECUTE_OPEN,
          Step(None, (Reply(type_id=T.M_SP_TB_1, cause=C.SPONTANEOUS, ioas=(1,), value=False),), exact=False,
               wait_s=5.0))),
    Case("execute_without_select", "101 5.8: an execute of a select-before-operate object not selected is "
         "confirmed negatively",
         (START, Step(command(2002, True, False), (Reply(type_id=T.C_SC_NA_1, cause=C.ACTIVATION_CON,
                                                          negative=True),)))),
    Case("unknown_type", "101 7.2.3: an unsupported type id is mirrored with cause 44, P/N set",
         (START, Step(UNKNOWN_TYPE, (Reply(type_id=58, cause=C.UNKNOWN_TYPE, negative=True, ioas=(2001,)),)))),
    Case("unknown_cause", "101 7.2.3: a cause the type does not take is mirrored with cause 45, P/N set",
         (START, Step(FILE_CAUSE, (Reply(type_id=T.C_SC_NA_1, cause=C.UNKNOWN_CAUSE, negative=True),)),
          Step(gi(cause=C.REQUEST), (Reply(type_id=T.C_IC_NA_1, cause=C.UNKNOWN_CAUSE, negative=True),)))),
    Case("unknown_common_address", "101 7.2.3, 104 9: an unknown common address is mirrored with cause 46, P/N set",
         (START, Step(gi(address=9), (Reply(type_id=T.C_IC_NA_1, cause=C.UNKNOWN_COMMON_ADDRESS, negative=True),)))),
    Case("unknown_ioa", "101 7.2.3: an unknown information object address is mirrored with cause 47, P/N set",
         (START, Step(command(2099, True, True),
                      (Reply(type_id=T.C_SC_NA_1, cause=C.UNKNOWN_IOA, negative=True, ioas=(2099,)),)))),
    Case("clock_sync", "101 7.3.4.4, 104 clause 8: C_CS_NA_1 act con carries the station's time, now the master's",
         (START, Step(clock_sync(SYNC_MS),
                      (Reply(type_id=T.C_CS_NA_1, cause=C.ACTIVATION_CON, stamped_from_ms=SYNC_MS),)))),
    Case("spontaneous_time_tag", "101 7.3.1.22: a change goes out spontaneously (cause 3) as M_SP_TB_1 with its "
         "CP56Time2a from the synchronised clock",
         (START, Step(clock_sync(SYNC_MS), (Reply(type_id=T.C_CS_NA_1, cause=C.ACTIVATION_CON),)),
          SELECT_OPEN, EXECUTE_OPEN,
          Step(None, (Reply(type_id=T.M_SP_TB_1, cause=C.SPONTANEOUS, ioas=(1,), value=False,
                            stamped_from_ms=SYNC_MS),), exact=False, wait_s=5.0))),
)


class Master:
    """The controlling station's end: its own V(S)/V(R), what it acknowledged, and what the station sent."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.send_seq = self.recv_seq = self.acked = 0
        self.highest_nr = 0
        self.heard: list[Heard] = []
        self._seen = 0
        self._buffer = b""

    def play(self, case: Case) -> None:
        for number, step in enumerate(case.steps):
            try:
                self._step(step)
            except AssertionError as error:
                raise AssertionError(f"{case.name} step {number} ({case.clause}): {error}") from None

    def _step(self, step: Step) -> None:
        if step.send is not None:
            self.transport.send(self._octets(step.send))
        needed = len(step.replies)

        def done() -> bool:
            self._poll()
            if self.transport.closed():
                return True
            if step.acked is not None and self.highest_nr < step.acked:
                return False
            if step.exact:
                return needed > 0 and len(self.heard) >= needed
            return _find(self.heard, step.replies) is not None

        self.transport.wait(step.wait_s, done)
        self._poll()
        if step.closed:
            assert self.transport.closed(), "the station kept the connection"
            assert not any(h.type_id is not None for h in self.heard), f"served: {self.heard}"
            return
        assert not self.transport.closed(), "the station closed the connection"
        if step.acked is not None:
            assert self.highest_nr >= step.acked, f"acknowledged up to {self.highest_nr}, not {step.acked}"
        if step.exact:
            assert len(self.heard) == needed, f"expected {step.replies}, heard {self.heard}"
            for heard, reply in zip(self.heard, step.replies):
                assert heard.matches(reply), f"expected {reply}, heard {heard}"
            self.heard = []
        else:
            end = _find(self.heard, step.replies)
            assert end is not None, f"expected {step.replies} among {self.heard}"
            self.heard = self.heard[end:]
        if step.ack_replies and self.recv_seq != self.acked:
            self.transport.send(self._octets(AckAll()))

    def _octets(self, send: UFrame | SFrame | IFrame | Asdu | bytes | AckAll) -> bytes:
        if isinstance(send, AckAll):
            self.acked = self.recv_seq
            return encode(SFrame(self.recv_seq))
        if isinstance(send, Asdu):
            send = encode_asdu(send)
        if isinstance(send, bytes):
            send = IFrame(self.send_seq, self.acked, send)
            self.send_seq += 1
        return encode(send)

    def _poll(self) -> None:
        frames = self.transport.frames
        while self._seen < len(frames):
            from_master, octets = frames[self._seen]
            self._seen += 1
            if not from_master:
                self._buffer += octets
        apdus, self._buffer = split(self._buffer)
        for raw in apdus:
            apdu = decode(raw)
            if isinstance(apdu, UFrame):
                self.heard.append(Heard(u=apdu.function))
                continue
            self.highest_nr = max(self.highest_nr, apdu.recv_seq)
            if isinstance(apdu, IFrame):
                assert apdu.send_seq == self.recv_seq, f"station N(S) {apdu.send_seq}, expected {self.recv_seq}"
                self.recv_seq += 1
                self.heard.append(_heard(apdu.asdu))


def _heard(octets: bytes) -> Heard:
    """The header of any ASDU (the type may be one the codec does not know), and its objects when it does."""
    header = Heard(type_id=octets[0], cause=octets[2] & 0x3F, negative=bool(octets[2] & 0x40),
                   ioas=(int.from_bytes(octets[6:9], "little"),))
    if octets[0] not in TypeId._value2member_map_:
        return header
    asdu = decode_asdu(octets)
    element = asdu.objects[0].element
    value = getattr(element, "on", None)
    stamp = getattr(element, "time", None)
    return Heard(None, header.type_id, header.cause, header.negative, tuple(o.ioa for o in asdu.objects), value,
                 stamp.utc_ms if stamp is not None else None)


def _find(heard: list[Heard], replies: tuple[Reply, ...]) -> int | None:
    """The index just after ``replies`` found in order within ``heard`` (None: not all there)."""
    at = 0
    for reply in replies:
        while at < len(heard) and not heard[at].matches(reply):
            at += 1
        if at == len(heard):
            return None
        at += 1
    return at
