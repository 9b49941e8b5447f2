"""DNP3 conformance cases as data (IEEE 1815-2012, subset level 2, clause A.2) and the master that plays them.

A case is a list of steps -- a request and what its response must show, an
unsolicited response that must (or must not) arrive, time passing -- played
against the recloser outstation of the conformance scenario over any
transport (:mod:`dnp3_transports`). Expectations come from the standard's
clauses named in each case, not from the outstation's own output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cosim.comm.dnp3 import (
    AnalogOutput,
    AppControl,
    CommandStatus,
    Crob,
    Dnp3Link,
    FunctionCode,
    Iin,
    ObjectHeader,
    OpType,
    Qualifier,
    Request,
    Response,
    TripClose,
    decode_response,
)
from dnp3_transports import CONFIRM_TIMEOUT_S, MASTER, RECLOSER, SELECT_TIMEOUT_S

F = FunctionCode
SYNC_MS = 1_900_000_000_000  # 2030-03-17 17:46:40 UTC: a master time far from the outstation's own clock


@dataclass(frozen=True)
class Expect:
    """What a response must show; fields left at their defaults are not checked."""

    iin_set: Iin = Iin(0)
    iin_clear: Iin = Iin(0)
    objects: tuple[tuple[int, int], ...] | None = None
    """Group/variation of every object header, in order (None: not checked)."""
    statuses: tuple[CommandStatus, ...] = ()
    """Control statuses echoed, in order."""
    values: tuple[tuple[tuple[int, int], int, Any], ...] = ()
    """(group/variation, point index, value) that must be among the objects."""
    confirm: bool | None = None
    """The CON bit (clause 4.2.2.4.3: set when the response carries events)."""
    stamped_from_ms: int | None = None
    """Event time stamps must be at or after this (the time the master wrote) and within a minute of it."""

    def check(self, response: Response) -> None:
        assert response.iin & self.iin_set == self.iin_set, f"IIN {response.iin!r} lacks {self.iin_set!r}"
        assert not response.iin & self.iin_clear, f"IIN {response.iin!r} has {self.iin_clear!r}"
        if self.objects is not None:
            assert tuple(h.gv for h in response.headers) == self.objects
        if self.statuses:
            got = tuple(obj.status for h in response.headers for _, obj in h.items)
            assert got == self.statuses
        found = {(h.gv, index, getattr(obj, "value", obj)) for h in response.headers for index, obj in h.items}
        for value in self.values:
            assert value in found, f"{value} not in {sorted(found, key=str)}"
        if self.confirm is not None:
            assert response.control.confirm == self.confirm
        if self.stamped_from_ms is not None:
            stamps = [obj.time_ms for h in response.headers if h.group in (2, 32) for _, obj in h.items]
            assert stamps and all(self.stamped_from_ms <= s < self.stamped_from_ms + 60_000 for s in stamps), stamps


@dataclass(frozen=True)
class Ask:
    """A request; ``expect`` None: no response may come (DIRECT_OPERATE_NR, clause 4.4.3.3)."""

    function: int
    headers: tuple[ObjectHeader, ...] = ()
    expect: Expect | None = Expect()
    confirm: bool = True
    """Confirm the response if it asks for it (clause 4.4.6)."""
    repeat: bool = False
    """Send it with the previous request's sequence number (a master's retry of a request it got no answer to)."""


@dataclass(frozen=True)
class Unsolicited:
    """An unsolicited response with ``expect`` must arrive within ``within_s`` (None: none with data may arrive)."""

    expect: Expect | None
    confirm: bool = True
    within_s: float = 3.0
    identical: bool = False
    """It must repeat the previous unsolicited response octet for octet (a retry, clause 4.6.3)."""


@dataclass(frozen=True)
class Idle:
    seconds: float


@dataclass(frozen=True)
class AwaitIin:
    """Read static binary inputs until a response shows ``iin`` (how a master learns events wait, clause 5.1.2):
    the device acts on a command and buffers its event at its own pace, on a wall clock under load too."""

    iin: Iin
    within_s: float = 10.0


Step = Ask | Unsolicited | Idle | AwaitIin
EVENT_BUFFERED = AwaitIin(Iin.CLASS_1_EVENTS)
"""After a trip: the recloser opened and buffered its class 1 event (IIN1.1)."""


@dataclass(frozen=True)
class Case:
    name: str
    clause: str
    steps: tuple[Step, ...]
    peer: str | None = None
    """The opendnp3 master task that exercises the same behaviour (see test_dnp3_conformance), if it has one."""


def _all(group: int, variation: int) -> ObjectHeader:
    return ObjectHeader(group, variation, Qualifier.ALL)


CLASS_0, CLASS_1, CLASS_2, CLASS_3 = _all(60, 1), _all(60, 2), _all(60, 3), _all(60, 4)
STATIC = ((1, 2), (10, 2), (30, 1), (40, 1))  # the recloser's static objects, class 0 order (clause 4.2.2.6)


def crob(code: OpType, trip_close: TripClose = TripClose.NUL, index: int = 0) -> ObjectHeader:
    return ObjectHeader(12, 1, Qualifier.INDEX_8, items=((index, Crob(code, trip_close, 1, 100, 100)),))


TRIP = crob(OpType.PULSE_ON, TripClose.TRIP)
CLOSE = crob(OpType.PULSE_ON, TripClose.CLOSE)
CLEAR_RESTART = ObjectHeader(80, 1, Qualifier.START_STOP_8, 7, 7, items=((7, False),))
OPENED = Expect(objects=((2, 2),), values=(((2, 2), 0, False),), confirm=True)
"""The breaker's opening as a class 1 event with absolute time (g2v2), asking for confirmation."""
SUCCESS = CommandStatus.SUCCESS


CASES: tuple[Case, ...] = (
    Case("class0_integrity_poll", "4.2.2.6, A.2 (class 0: every static point)", (
        Ask(F.READ, (CLASS_0,), Expect(iin_set=Iin.DEVICE_RESTART | Iin.NEED_TIME, objects=STATIC, confirm=False,
                                       values=(((1, 2), 0, True),))),), peer="integrity"),
    Case("clear_device_restart", "5.1.2.1 (IIN1.7 cleared by a WRITE of g80v1 index 7 = 0)", (
        Ask(F.WRITE, (CLEAR_RESTART,), Expect(iin_clear=Iin.DEVICE_RESTART, objects=())),
        Ask(F.READ, (CLASS_0,), Expect(iin_clear=Iin.DEVICE_RESTART, objects=STATIC))), peer="clear_restart"),
    Case("class1_2_3_poll_and_event_confirm", "4.4.6, 11.9.2 (events leave the buffer only when confirmed)", (
        Ask(F.DIRECT_OPERATE, (TRIP,), Expect(statuses=(SUCCESS,))),
        EVENT_BUFFERED,
        Ask(F.READ, (CLASS_1, CLASS_2, CLASS_3), Expect(iin_clear=Iin.CLASS_1_EVENTS, confirm=True,
                                                        values=OPENED.values + (((32, 3), 0, 0),))),
        Ask(F.READ, (CLASS_1,), Expect(iin_clear=Iin.CLASS_1_EVENTS, objects=(), confirm=False))),
        peer="event_poll"),
    Case("unconfirmed_events_are_sent_again", "4.4.6 (no confirm: the events stay buffered)", (
        Ask(F.DIRECT_OPERATE, (TRIP,), Expect(statuses=(SUCCESS,))),
        EVENT_BUFFERED,
        Ask(F.READ, (CLASS_1,), OPENED, confirm=False),
        Ask(F.READ, (CLASS_1,), OPENED),
        Ask(F.READ, (CLASS_1,), Expect(objects=(), iin_clear=Iin.CLASS_1_EVENTS)))),
    Case("null_unsolicited_after_restart_is_retried_until_confirmed", "4.6.1, 4.6.3 (identical retries)", (
        Ask(F.READ, (_all(1, 2),), Expect(objects=((1, 2),))),
        Unsolicited(Expect(objects=(), iin_set=Iin.DEVICE_RESTART, confirm=True), confirm=False),
        Unsolicited(Expect(objects=()), confirm=True, within_s=CONFIRM_TIMEOUT_S + 2, identical=True),
        Unsolicited(None, within_s=CONFIRM_TIMEOUT_S + 1)), peer="unsolicited"),
    Case("unsolicited_events_of_enabled_classes", "4.6.2, 4.4.9 (ENABLE_UNSOLICITED g60v2)", (
        Ask(F.DISABLE_UNSOLICITED, (CLASS_1, CLASS_2, CLASS_3), Expect(objects=())),
        Unsolicited(Expect(objects=())),
        Ask(F.ENABLE_UNSOLICITED, (CLASS_1,), Expect(objects=())),
        Ask(F.DIRECT_OPERATE, (TRIP,), Expect(statuses=(SUCCESS,))),
        Unsolicited(OPENED, within_s=5.0),
        Ask(F.READ, (CLASS_1,), Expect(objects=(), iin_clear=Iin.CLASS_1_EVENTS)))),
    Case("disabled_unsolicited_leaves_events_to_polls", "4.4.10 (DISABLE_UNSOLICITED)", (
        Ask(F.DISABLE_UNSOLICITED, (CLASS_1, CLASS_2, CLASS_3), Expect(objects=())),
        Unsolicited(Expect(objects=())),
        Ask(F.DIRECT_OPERATE, (TRIP,), Expect(statuses=(SUCCESS,))),
        Unsolicited(None, within_s=0.6),
        Ask(F.READ, (CLASS_1,), OPENED))),
    Case("select_before_operate", "4.4.3.1 (SELECT then OPERATE, same objects, next sequence)", (
        Ask(F.SELECT, (TRIP,), Expect(statuses=(SUCCESS,))),
        Ask(F.OPERATE, (TRIP,), Expect(statuses=(SUCCESS,))),
        EVENT_BUFFERED,
        Ask(F.READ, (_all(1, 2),), Expect(values=(((1, 2), 0, False),)))), peer="select_before_operate"),
    Case("repeated_operate_is_answered_not_executed_again", "4.4 (outstation solicited states: a non-READ request repeated with the same "
         "sequence number and octets gets the previous response again and is not processed again)", (
        Ask(F.SELECT, (TRIP,), Expect(statuses=(SUCCESS,))),
        Ask(F.OPERATE, (TRIP,), Expect(statuses=(SUCCESS,))),
        Ask(F.OPERATE, (TRIP,), Expect(statuses=(SUCCESS,)), repeat=True),
        Ask(F.OPERATE, (TRIP,), Expect(statuses=(CommandStatus.NO_SELECT,))))),
    Case("operate_without_select", "4.4.3.1 (control status 2 NO_SELECT)", (
        Ask(F.OPERATE, (TRIP,), Expect(statuses=(CommandStatus.NO_SELECT,))),
        Ask(F.READ, (_all(1, 2),), Expect(values=(((1, 2), 0, True),))))),
    Case("operate_not_matching_its_select", "4.4.3.1 (OPERATE objects must be identical to the SELECT's)", (
        Ask(F.SELECT, (TRIP,), Expect(statuses=(SUCCESS,))),
        Ask(F.OPERATE, (CLOSE,), Expect(statuses=(CommandStatus.NO_SELECT,))))),
    Case("operate_after_select_timeout", "4.4.3.1 (status 1 TIMEOUT after the select timeout)", (
        Ask(F.SELECT, (TRIP,), Expect(statuses=(SUCCESS,))),
        Idle(SELECT_TIMEOUT_S + 0.5),
        Ask(F.OPERATE, (TRIP,), Expect(statuses=(CommandStatus.TIMEOUT,))),
        Ask(F.READ, (_all(1, 2),), Expect(values=(((1, 2), 0, True),))))),
    Case("direct_operate", "4.4.3.2 (DIRECT_OPERATE g12v1)", (
        Ask(F.DIRECT_OPERATE, (TRIP,), Expect(statuses=(SUCCESS,), objects=((12, 1),))),
        EVENT_BUFFERED,
        Ask(F.READ, (_all(1, 2),), Expect(values=(((1, 2), 0, False),)))), peer="direct_operate"),
    Case("direct_operate_no_response", "4.4.3.3 (DIRECT_OPERATE_NR: executed, never answered)", (
        Ask(F.DIRECT_OPERATE_NR, (TRIP,), None),
        EVENT_BUFFERED,
        Ask(F.READ, (_all(1, 2),), Expect(values=(((1, 2), 0, False),))))),
    Case("analog_output", "4.4.3.2, A.2 (g41v2 direct operate, read back in g40v1)", (
        Ask(F.DIRECT_OPERATE, (ObjectHeader(41, 2, Qualifier.INDEX_8, items=((1, AnalogOutput(45)),)),),
            Expect(statuses=(SUCCESS,), objects=((41, 2),))),
        Ask(F.READ, (_all(40, 1),), Expect(values=(((40, 1), 1, 45),)))), peer="analog_output"),
    Case("unknown_control_point", "4.4.3, g12 status 4 NOT_SUPPORTED", (
        Ask(F.DIRECT_OPERATE, (crob(OpType.LATCH_ON, index=9),),
            Expect(statuses=(CommandStatus.NOT_SUPPORTED,))),)),
    Case("time_sync_non_lan", "5.4.1 (DELAY_MEASURE g52v2, WRITE g50v1 clears IIN1.4)", (
        Ask(F.DELAY_MEASURE, (), Expect(objects=((52, 2),), iin_set=Iin.NEED_TIME)),
        Ask(F.WRITE, (ObjectHeader(50, 1, Qualifier.COUNT_8, items=((0, SYNC_MS),)),), Expect(iin_clear=Iin.NEED_TIME)),
        Ask(F.DIRECT_OPERATE, (TRIP,), Expect(statuses=(SUCCESS,))),
        EVENT_BUFFERED,
        Ask(F.READ, (CLASS_1,), Expect(values=OPENED.values, stamped_from_ms=SYNC_MS))), peer="time_sync"),
    Case("time_sync_lan", "5.4.2 (RECORD_CURRENT_TIME, WRITE g50v3 last recorded time)", (
        Ask(F.RECORD_CURRENT_TIME, (), Expect(objects=(), iin_set=Iin.NEED_TIME)),
        Ask(F.WRITE, (ObjectHeader(50, 3, Qualifier.COUNT_8, items=((0, SYNC_MS),)),), Expect(iin_clear=Iin.NEED_TIME)),
        Ask(F.DIRECT_OPERATE, (TRIP,), Expect(statuses=(SUCCESS,))),
        EVENT_BUFFERED,
        Ask(F.READ, (CLASS_1,), Expect(values=OPENED.values, stamped_from_ms=SYNC_MS))), peer="time_sync_lan"),
    Case("unsupported_function_code", "4.2.2.7.2 (IIN2.0 NO_FUNC_CODE_SUPPORT)", (
        Ask(0x1F, (), Expect(iin_set=Iin.NO_FUNC_CODE_SUPPORT, objects=())),
        Ask(F.COLD_RESTART, (), Expect(iin_set=Iin.NO_FUNC_CODE_SUPPORT, objects=())))),
    Case("unknown_object", "4.2.2.7.2 (IIN2.1 OBJECT_UNKNOWN: g20 counters are not served)", (
        Ask(F.READ, (_all(20, 1),), Expect(iin_set=Iin.OBJECT_UNKNOWN, objects=())),)),
    Case("range_beyond_the_points", "4.2.2.7.2 (IIN2.2 PARAMETER_ERROR)", (
        Ask(F.READ, (ObjectHeader(1, 2, Qualifier.START_STOP_8, 0, 40),), Expect(iin_set=Iin.PARAMETER_ERROR)),)),
    Case("read_listed_indices", "4.2.2.7.3 (qualifier 0x17 answered with the indices asked)", (
        Ask(F.READ, (ObjectHeader(30, 1, Qualifier.INDEX_8, count=2, indices=(2, 4)),),
            Expect(objects=((30, 1),))),)),
)


@dataclass
class Master:
    """The cases' master end over a transport: link 1 -> recloser 20, its own sequence numbers."""

    transport: Any
    link: Dnp3Link = field(default_factory=lambda: Dnp3Link(MASTER, True))
    sequence: int = 0
    inbox: list[tuple[Response, bytes]] = field(default_factory=list)
    _read: int = 0
    last_unsolicited: bytes = b""
    last_iin: Iin = Iin(0)

    def _collect(self) -> None:
        frames = self.transport.frames
        while self._read < len(frames):
            from_master, octets = frames[self._read]
            self._read += 1
            if not from_master:
                for _source, fragment in self.link.receive(octets).fragments:
                    self.inbox.append((decode_response(fragment), fragment))

    def _take(self, unsolicited: bool, sequence: int | None = None) -> tuple[Response, bytes] | None:
        self._collect()
        for n, (response, fragment) in enumerate(self.inbox):
            if response.control.unsolicited == unsolicited and sequence in (None, response.control.sequence):
                if unsolicited or response.function == F.RESPONSE:
                    return self.inbox.pop(n)
        return None

    def send(self, fragment: bytes) -> None:
        self.transport.send(self.link.send(RECLOSER, fragment))

    def confirm(self, response: Response) -> None:
        control = AppControl(response.control.sequence, unsolicited=response.control.unsolicited)
        self.send(Request(control, F.CONFIRM).encode())

    def ask(self, step: Ask) -> None:
        if step.repeat:
            self.sequence = (self.sequence - 1) % 16
        sequence = self.sequence
        self.sequence = (sequence + 1) % 16
        self.send(bytes([AppControl(sequence).octet(), step.function]) + b"".join(h.encode() for h in step.headers))
        if step.expect is None:
            self.transport.wait(0.5)
            assert self._take(False, sequence) is None, "a response to a request that wants none"
            return
        found: list[tuple[Response, bytes]] = []

        def answered() -> bool:
            got = None if found else self._take(False, sequence)
            if got is not None:
                found.append(got)
            return bool(found)

        self.transport.wait(5.0, answered)
        assert found, f"no response to {step.function!r}"
        response = found[0][0]
        self.last_iin = response.iin
        step.expect.check(response)
        if response.control.confirm and step.confirm:
            self.confirm(response)

    def unsolicited(self, step: Unsolicited) -> None:
        def arrived() -> bool:
            self._collect()
            return any(r.control.unsolicited and (step.expect is not None or r.headers) for r, _ in self.inbox)

        self.transport.wait(step.within_s, arrived)
        if step.expect is None:
            assert not arrived(), "an unsolicited report where none may come"
            return
        got = self._take(True)
        assert got is not None, "no unsolicited response"
        response, fragment = got
        if step.identical:
            assert fragment == self.last_unsolicited
        self.last_unsolicited = fragment
        step.expect.check(response)
        if step.confirm:
            self.confirm(response)

    def await_iin(self, step: AwaitIin) -> None:
        read = Ask(F.READ, (_all(1, 2),))
        for _ in range(round(step.within_s / 0.05)):
            self.ask(read)
            if self.last_iin & step.iin:
                return
            self.transport.wait(0.05)
        raise AssertionError(f"no response showed {step.iin!r} within {step.within_s} s")

    def play(self, case: Case) -> None:
        for step in case.steps:
            if isinstance(step, Ask):
                self.ask(step)
            elif isinstance(step, Unsolicited):
                self.unsolicited(step)
            elif isinstance(step, AwaitIin):
                self.await_iin(step)
            else:
                self.transport.wait(step.seconds)
