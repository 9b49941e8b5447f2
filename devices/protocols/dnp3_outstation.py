"""A DNP3 outstation over one device's point model: static and event data, controls, unsolicited reports, time.

Sans-IO: :meth:`Outstation.handle` takes a master's application fragment and
returns the response fragment (or None); :meth:`Outstation.scan` compares the
device's store with what was last reported and queues time-stamped events
(sequence of events); :meth:`Outstation.unsolicited` gives an unsolicited
response when one may be sent. Whoever carries the octets (the simulated comm
layer, a TCP socket) owns the timers: it calls :meth:`retry_unsolicited` when
an unsolicited confirm is late. Times are milliseconds of the device's UTC
clock (``clock_ms``), corrected by the master's time synchronisation.

Behaviour (IEEE 1815-2012 clause references in the code):

* class 0 is every static point (g1v2, g10v2, g30v1, g40v1); classes 1-3 are
  events (g2v2 with absolute time, g32v3 with time, or the variation asked);
* an event response asks for confirmation (CON) and the events leave the
  buffers only when the matching CONFIRM arrives; unconfirmed ones are sent
  again at the next read;
* unsolicited reporting starts with a null unsolicited response after
  restart; event data goes unsolicited only for classes the master enabled
  (ENABLE_UNSOLICITED), one response outstanding at a time, retried identically
  until confirmed;
* controls (:mod:`.dnp3_commands`): SELECT then OPERATE (same objects, next sequence number, within the
  select timeout), DIRECT_OPERATE and DIRECT_OPERATE_NR, on g12v1 and g41v1/v2;
* a non-READ request repeated with the same sequence number and octets gets
  its previous answer again and is not executed again (the master's retry);
* WRITE of g50v1 sets the clock (clears NEED_TIME); DELAY_MEASURE answers
  g52v2; RECORD_CURRENT_TIME with a WRITE of g50v3 is the LAN procedure;
  WRITE of g80v1 index 7 = 0 clears DEVICE_RESTART.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from cosim.comm.dnp3 import (
    AnalogInput,
    AnalogOutput,
    AnalogOutputStatus,
    AppControl,
    ApplicationError,
    BinaryInput,
    BinaryOutputStatus,
    CommandStatus,
    Crob,
    FunctionCode,
    Iin,
    ObjectHeader,
    Qualifier,
    Request,
    Response,
    decode_request,
)
from devices.protocols.dnp3_commands import Commands
from devices.protocols.dnp3_points import ControlPoint, Dnp3PointMap
from devices.registerstore import RegisterStore

MAX_FRAGMENT = 2048  # octets of one response fragment (a common outstation setting; opendnp3's default)
MAX_CONTROLS = 16  # objects of one control request; more are TOO_MANY_OPS
CLASS_IIN = {1: Iin.CLASS_1_EVENTS, 2: Iin.CLASS_2_EVENTS, 3: Iin.CLASS_3_EVENTS}
EVENT_OCTETS = {(2, 1): 3, (2, 2): 9, (32, 1): 7, (32, 3): 13, (32, 5): 7, (32, 7): 13}  # with a 2-octet index prefix


@dataclass(frozen=True)
class OutstationConfig:
    event_buffer: int = 100
    """Events kept per class; the oldest goes (and IIN2.3 is set) when a class overflows."""
    select_timeout_ms: int = 10_000
    unsolicited: bool = True
    """Report events unsolicited (after the null response and the master's ENABLE_UNSOLICITED)."""
    need_time: bool = True
    """Start with IIN1.4 NEED_TIME set, asking the master for time synchronisation."""


@dataclass(frozen=True)
class Event:
    """One buffered event: ``group`` 2 (binary) or 32 (analog); ``value`` in counts for analogs."""

    group: int
    index: int
    value: float
    time_ms: int
    event_class: int
    serial: int


@dataclass
class _Pending:
    """A response waiting for its application confirm: its sequence and the events it carried."""

    sequence: int
    events: tuple[Event, ...]
    fragment: bytes = b""


@dataclass
class Counters:
    requests: int = 0
    responses: int = 0
    unsolicited: int = 0
    unsolicited_retries: int = 0
    confirms: int = 0
    events: int = 0
    overflows: int = 0
    controls: int = 0
    rejected: int = 0


@dataclass
class _Selection:
    sequence: int
    objects: bytes
    time_ms: int


@dataclass
class Outstation:
    """The DNP3 view of one device's store, following ``points``."""

    points: Dnp3PointMap
    store: RegisterStore
    clock_ms: Callable[[], int]
    config: OutstationConfig = field(default_factory=OutstationConfig)

    def __post_init__(self) -> None:
        self.points.check(self.store.register_map)
        self._buffers: dict[int, deque[Event]] = {c: deque() for c in (1, 2, 3)}
        self._serial = 0
        self._last_binary: list[bool] = []
        self._last_analog: list[float] = []
        self._iin = Iin.DEVICE_RESTART | (Iin.NEED_TIME if self.config.need_time else Iin(0))
        self._offset_ms = 0
        self._recorded_ms: int | None = None
        self._solicited: _Pending | None = None
        self._unsolicited: _Pending | None = None
        self._null_confirmed = not self.config.unsolicited
        self._enabled_classes: set[int] = set()
        self._unsolicited_sequence = 0
        self._selection: _Selection | None = None
        self._last_request: tuple[bytes, bytes | None] | None = None
        """The last request fragment and the answer it got, for a repeated one (see :meth:`handle`)."""
        self._commands = Commands(self.points, self.store)
        self.counters = Counters()

    # -- the point model ------------------------------------------------------------
    def now_ms(self) -> int:
        """The outstation's time: the device clock plus the master's correction."""
        return self.clock_ms() + self._offset_ms

    def _binary(self, index: int) -> bool:
        return bool(self.store.get(self.points.binary_inputs[index].point))

    def _counts(self, name: str) -> float:
        """A point's engineering value in counts of its Modbus scale (float; rounded by the variation)."""
        point = self.store.register_map.point(name)
        return float(self.store.get(name)) / point.scale

    def _control_state(self, control: ControlPoint) -> bool:
        return bool(self.store.get(control.status or control.close))

    def scan(self) -> int:
        """Compare the store with the last reported values and buffer events (IEEE 1815-2012, 11.9.2); returns how many.

        The first scan takes the baseline (the device's first reading): loading the database makes no events.
        """
        if not self._last_binary and not self._last_analog:
            self._last_binary = [self._binary(i) for i in range(len(self.points.binary_inputs))]
            self._last_analog = [self._counts(p.point) for p in self.points.analog_inputs]
            return 0
        now = self.now_ms()
        made = 0
        for i, bi in enumerate(self.points.binary_inputs):
            value = self._binary(i)
            if value != self._last_binary[i]:
                self._last_binary[i] = value
                if bi.event_class:
                    made += self._add(Event(2, i, float(value), now, bi.event_class, self._next_serial()))
        for i, ai in enumerate(self.points.analog_inputs):
            counts = self._counts(ai.point)
            if abs(counts - self._last_analog[i]) > ai.deadband:
                self._last_analog[i] = counts
                if ai.event_class:
                    made += self._add(Event(32, i, counts, now, ai.event_class, self._next_serial()))
        return made

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _add(self, event: Event) -> int:
        buffer = self._buffers[event.event_class]
        if len(buffer) >= self.config.event_buffer:
            buffer.popleft()
            self._iin |= Iin.EVENT_BUFFER_OVERFLOW
            self.counters.overflows += 1
        buffer.append(event)
        self.counters.events += 1
        return 1

    def buffered(self, event_class: int) -> int:
        return len(self._buffers[event_class])

    # -- requests -------------------------------------------------------------------
    def handle(self, fragment: bytes) -> bytes | None:
        """Answer one request fragment; None when no response is due (CONFIRM, DIRECT_OPERATE_NR)."""
        self.counters.requests += 1
        try:
            request = decode_request(fragment)
        except ApplicationError as error:
            self.counters.rejected += 1
            if len(fragment) < 2:
                return None
            sequence = fragment[0] & 0x0F
            return self._respond(sequence, (), Iin(error.iin2 << 8))
        if request.function == FunctionCode.CONFIRM:
            self._confirmed(request.control)
            return None
        last = self._last_request
        if last is not None and last[0] == fragment and request.function != FunctionCode.READ:
            # IEEE 1815-2012 clause 4.4 (outstation solicited states): a non-READ request repeated with the same
            # sequence number and octets is the master's retry of one whose answer it lost: it gets that answer
            # again and is not executed again (an OPERATE would otherwise find its selection gone, a pulse repeat)
            return last[1]
        answer = self._answer(request, fragment)
        self._last_request = (fragment, answer)
        return answer

    def _answer(self, request: Request, fragment: bytes) -> bytes | None:
        control = request.control
        self._solicited = None  # a new request ends the wait for a confirm; its events stay buffered (clause 4.4.6)
        if not (control.fir and control.fin):
            return self._respond(control.sequence, (), Iin.PARAMETER_ERROR)  # multi-fragment requests: not taken
        function = request.function
        if function == FunctionCode.READ:
            return self._read(request)
        if function == FunctionCode.WRITE:
            return self._respond(control.sequence, (), self._write(request))
        if function in (FunctionCode.SELECT, FunctionCode.OPERATE, FunctionCode.DIRECT_OPERATE,
                        FunctionCode.DIRECT_OPERATE_NR):
            headers, iin = self._control(request, fragment[2:])
            if function == FunctionCode.DIRECT_OPERATE_NR:
                return None
            return self._respond(control.sequence, headers, iin)
        if function in (FunctionCode.ENABLE_UNSOLICITED, FunctionCode.DISABLE_UNSOLICITED):
            return self._respond(control.sequence, (), self._unsolicited_classes(request))
        if function == FunctionCode.DELAY_MEASURE:
            # Clause 5.4.2.1: the outstation's processing time; here the answer leaves when the request arrived.
            return self._respond(control.sequence, (ObjectHeader(52, 2, Qualifier.COUNT_8, items=((0, 0),)),))
        if function == FunctionCode.RECORD_CURRENT_TIME:
            self._recorded_ms = self.clock_ms()
            return self._respond(control.sequence, ())
        return self._respond(control.sequence, (), Iin.NO_FUNC_CODE_SUPPORT)

    def _iin_now(self, excluded: tuple[Event, ...] = ()) -> Iin:
        iin = self._iin
        gone = {e.serial for e in excluded}
        if self._unsolicited is not None:
            gone |= {e.serial for e in self._unsolicited.events}
        for event_class, buffer in self._buffers.items():
            if any(e.serial not in gone for e in buffer):
                iin |= CLASS_IIN[event_class]
        return iin

    def _respond(self, sequence: int, headers: tuple[ObjectHeader, ...], extra: Iin = Iin(0),
                 events: tuple[Event, ...] = ()) -> bytes:
        self.counters.responses += 1
        confirm = bool(events)
        if confirm:
            self._solicited = _Pending(sequence, events)
        response = Response(AppControl(sequence, confirm=confirm), FunctionCode.RESPONSE,
                            self._iin_now(events) | extra, headers)
        return response.encode()

    def _confirmed(self, control: AppControl) -> None:
        pending = self._unsolicited if control.unsolicited else self._solicited
        if pending is None or pending.sequence != control.sequence:
            return  # a stale or unexpected confirm is ignored (clause 4.4.6)
        self.counters.confirms += 1
        if control.unsolicited:
            self._unsolicited = None
            self._null_confirmed = True
        else:
            self._solicited = None
        self._drop(pending.events)

    def _drop(self, events: tuple[Event, ...]) -> None:
        serials = {e.serial for e in events}
        for event_class, buffer in self._buffers.items():
            self._buffers[event_class] = deque(e for e in buffer if e.serial not in serials)
        if serials:
            self._iin &= ~Iin.EVENT_BUFFER_OVERFLOW  # room was made: the master has read what overflowed

    # -- READ -----------------------------------------------------------------------
    def _read(self, request: Request) -> bytes:
        headers: list[ObjectHeader] = []
        events: list[Event] = []
        iin = Iin(0)
        size = 4
        for header in request.headers:
            group, variation = header.gv
            if group == 60 and variation == 1:
                headers += self._static_all()
            elif group == 60 and variation in (2, 3, 4) or group in (2, 32):
                chosen, problem = self._events_for(header, events, size)
                iin |= problem
                for event_header in self._event_headers(chosen, header):
                    headers.append(event_header)
                    size += len(event_header.encode())
                events += chosen
            elif group in (1, 10, 30, 40):
                part, problem = self._static(header)
                iin |= problem
                if part is not None:
                    headers.append(part)
            else:
                iin |= Iin.OBJECT_UNKNOWN
            size = 4 + sum(len(h.encode()) for h in headers)
        if size > MAX_FRAGMENT:
            # Static data beyond one fragment is not sent in several (a stated limit of this outstation).
            return self._respond(request.control.sequence, (), Iin.PARAMETER_ERROR)
        return self._respond(request.control.sequence, tuple(headers), iin, tuple(events))

    def _static_all(self) -> list[ObjectHeader]:
        out = []
        for group, variation in ((1, 2), (10, 2), (30, 1), (40, 1)):
            count = self._count(group)
            if count:
                part, _ = self._static(ObjectHeader(group, variation, Qualifier.START_STOP_16, 0, count - 1))
                if part is not None:
                    out.append(part)
        return out

    def _count(self, group: int) -> int:
        return {1: len(self.points.binary_inputs), 10: len(self.points.controls), 30: len(self.points.analog_inputs),
                40: len(self.points.analog_outputs)}[group]

    def _static(self, header: ObjectHeader) -> tuple[ObjectHeader | None, Iin]:
        group, variation = header.gv
        default = {1: 2, 10: 2, 30: 1, 40: 1}[group]
        variation = variation or default
        if (group, variation) not in ((1, 2), (10, 2), (30, 1), (30, 2), (30, 5), (40, 1)):
            return None, Iin.OBJECT_UNKNOWN
        count = self._count(group)
        if header.qualifier == Qualifier.ALL:
            indices = list(range(count))
        elif header.start is not None and header.stop is not None:
            indices = list(range(header.start, header.stop + 1))
        elif header.indices:
            indices = list(header.indices)
        else:
            return None, Iin.PARAMETER_ERROR
        if not indices or max(indices) >= count:
            return None, Iin.PARAMETER_ERROR
        items = []
        for index in indices:
            obj: BinaryInput | BinaryOutputStatus | AnalogInput | AnalogOutputStatus
            if group == 1:
                obj = BinaryInput(self._binary(index))
            elif group == 10:
                obj = BinaryOutputStatus(self._control_state(self.points.controls[index]))
            elif group == 30:
                counts = self._counts(self.points.analog_inputs[index].point)
                if variation == 5:
                    counts *= self.store.register_map.point(self.points.analog_inputs[index].point).scale
                obj = AnalogInput(counts)
            else:
                obj = AnalogOutputStatus(round(self._counts(self.points.analog_outputs[index].point)))
            items.append((index, obj))
        if header.indices:  # answered as asked: each object with its index (clause 4.2.2.7.3)
            qualifier = Qualifier.INDEX_8 if max(indices) <= 0xFF else Qualifier.INDEX_16
            return ObjectHeader(group, variation, qualifier, count=len(items), items=tuple(items)), Iin(0)
        qualifier = Qualifier.START_STOP_8 if indices[-1] <= 0xFF else Qualifier.START_STOP_16
        return ObjectHeader(group, variation, qualifier, indices[0], indices[-1], items=tuple(items)), Iin(0)

    def _events_for(self, header: ObjectHeader, taken: list[Event], size: int) -> tuple[list[Event], Iin]:
        group, variation = header.gv
        groups: tuple[int, ...]
        if group == 60:
            classes, groups = {variation - 1}, (2, 32)
        elif (group, variation) in ((2, 0), (2, 1), (2, 2), (32, 0), (32, 1), (32, 3), (32, 5), (32, 7)):
            classes, groups = {1, 2, 3}, (group,)
        else:
            return [], Iin.OBJECT_UNKNOWN
        if header.qualifier not in (Qualifier.ALL, Qualifier.COUNT_8, Qualifier.COUNT_16):
            return [], Iin.PARAMETER_ERROR
        limit = header.count if header.count is not None else 1 << 30
        held = {e.serial for e in taken}
        if self._unsolicited is not None:
            held |= {e.serial for e in self._unsolicited.events}
        candidates = sorted((e for c in classes for e in self._buffers[c] if e.serial not in held and e.group in groups),
                            key=lambda e: e.serial)
        chosen: list[Event] = []
        for event in candidates[:limit]:
            octets = EVENT_OCTETS[(event.group, self._event_variation(event.group, header))] + 5
            if size + octets > MAX_FRAGMENT:
                break  # the rest stays buffered and the IIN class bit tells the master to read again
            size += octets
            chosen.append(event)
        return chosen, Iin(0)

    @staticmethod
    def _event_variation(group: int, header: ObjectHeader) -> int:
        if header.group == group and header.variation:
            return header.variation
        return 2 if group == 2 else 3

    def _event_headers(self, events: list[Event], header: ObjectHeader) -> list[ObjectHeader]:
        """Events in time order, one g2/g32 header per run of the same group (clause 4.2.2.6: order kept)."""
        out: list[ObjectHeader] = []
        run: list[Event] = []
        for event in events + [None]:  # type: ignore[list-item]
            if run and (event is None or event.group != run[0].group):
                group = run[0].group
                variation = self._event_variation(group, header)
                items: list[tuple[int, BinaryInput | AnalogInput]] = []
                for e in run:
                    if group == 2:
                        items.append((e.index, BinaryInput(bool(e.value), time_ms=e.time_ms)))
                    else:
                        value = e.value
                        if variation in (5, 7):
                            value *= self.store.register_map.point(self.points.analog_inputs[e.index].point).scale
                        items.append((e.index, AnalogInput(value, time_ms=e.time_ms)))
                out.append(ObjectHeader(group, variation, Qualifier.INDEX_16, count=len(items), items=tuple(items)))
                run = []
            if event is not None:
                run.append(event)
        return out

    # -- WRITE, unsolicited enables -------------------------------------------------------
    def _write(self, request: Request) -> Iin:
        iin = Iin(0)
        for header in request.headers:
            stamp = header.items[0][1] if len(header.items) == 1 else None
            if header.gv == (50, 1) and isinstance(stamp, int):
                self._offset_ms = stamp - self.clock_ms()
                self._iin &= ~Iin.NEED_TIME
            elif header.gv == (50, 3) and isinstance(stamp, int) and self._recorded_ms is not None:
                self._offset_ms = stamp - self._recorded_ms
                self._iin &= ~Iin.NEED_TIME
                self._recorded_ms = None
            elif header.gv == (80, 1) and header.items:
                for index, value in header.items:
                    if index != 7 or value:
                        iin |= Iin.PARAMETER_ERROR  # only DEVICE_RESTART may be cleared, only to 0
                    else:
                        self._iin &= ~Iin.DEVICE_RESTART
            else:
                iin |= Iin.OBJECT_UNKNOWN if header.group not in (50, 80) else Iin.PARAMETER_ERROR
        return iin

    def _unsolicited_classes(self, request: Request) -> Iin:
        if not self.config.unsolicited:
            return Iin.NO_FUNC_CODE_SUPPORT
        classes = set()
        for header in request.headers:
            if header.group != 60 or header.variation not in (2, 3, 4) or header.qualifier != Qualifier.ALL:
                return Iin.OBJECT_UNKNOWN
            classes.add(header.variation - 1)
        if request.function == FunctionCode.ENABLE_UNSOLICITED:
            self._enabled_classes |= classes
        else:
            self._enabled_classes -= classes
        return Iin(0)

    # -- controls -------------------------------------------------------------------
    def _control(self, request: Request, objects: bytes) -> tuple[tuple[ObjectHeader, ...], Iin]:
        """Echo the control objects with their status (clause 4.4.3); operate only what checks out."""
        function = request.function
        now = self.now_ms()
        total = sum(len(h.items) for h in request.headers)
        iin = Iin(0)
        if any(h.gv not in ((12, 1), (41, 1), (41, 2)) for h in request.headers):
            iin |= Iin.OBJECT_UNKNOWN
        headers = [h for h in request.headers if h.gv in ((12, 1), (41, 1), (41, 2))]
        forced: CommandStatus | None = None
        if total > MAX_CONTROLS:
            forced = CommandStatus.TOO_MANY_OPS
        elif function == FunctionCode.OPERATE:
            selected = self._selection
            if (selected is None or selected.objects != objects or selected.sequence != (request.control.sequence - 1) % 16):
                forced = CommandStatus.NO_SELECT
            elif now - selected.time_ms > self.config.select_timeout_ms:
                forced = CommandStatus.TIMEOUT
            self._selection = None
        execute = function != FunctionCode.SELECT
        answered = []
        all_ok = True
        for header in headers:
            items = []
            for index, obj in header.items:
                if forced is not None:
                    status = forced
                else:
                    status, attempted = self._commands.command(index, obj, execute)
                    self.counters.controls += attempted
                all_ok &= status == CommandStatus.SUCCESS
                if isinstance(obj, (Crob, AnalogOutput)):
                    items.append((index, obj.with_status(status) if isinstance(obj, Crob)
                                  else AnalogOutput(obj.value, status)))
            answered.append(ObjectHeader(header.group, header.variation, header.qualifier, count=len(items),
                                         items=tuple(items)))
        if function == FunctionCode.SELECT and all_ok and headers:
            self._selection = _Selection(request.control.sequence, objects, now)
        return tuple(answered), iin

    # -- unsolicited ----------------------------------------------------------------
    def unsolicited(self) -> bytes | None:
        """An unsolicited response to send now, or None (clause 4.6): the null one after restart, then events of
        enabled classes, never while a response or an unsolicited one awaits its confirm."""
        if not self.config.unsolicited or self._unsolicited is not None or self._solicited is not None:
            return None
        if not self._null_confirmed:
            return self._send_unsolicited(())
        events = sorted((e for c in self._enabled_classes for e in self._buffers[c]), key=lambda e: e.serial)
        if not events:
            return None
        size, chosen = 4, []
        for event in events:
            octets = EVENT_OCTETS[(event.group, 2 if event.group == 2 else 3)] + 5
            if size + octets > MAX_FRAGMENT:
                break
            size += octets
            chosen.append(event)
        return self._send_unsolicited(tuple(chosen))

    def _send_unsolicited(self, events: tuple[Event, ...]) -> bytes:
        sequence = self._unsolicited_sequence
        self._unsolicited_sequence = (sequence + 1) % 16
        headers = tuple(self._event_headers(list(events), ObjectHeader(60, 2, Qualifier.ALL)))
        pending = _Pending(sequence, events)
        self._unsolicited = pending
        iin = self._iin_now()  # computed with the pending events excluded
        pending.fragment = Response(AppControl(sequence, confirm=True, unsolicited=True),
                                    FunctionCode.UNSOLICITED_RESPONSE, iin, headers).encode()
        self.counters.unsolicited += 1
        return pending.fragment

    def unsolicited_outstanding(self) -> int | None:
        """The sequence number of the unsolicited response awaiting its confirm (None: none)."""
        return None if self._unsolicited is None else self._unsolicited.sequence

    def retry_unsolicited(self) -> bytes | None:
        """The outstanding unsolicited response again, identical (clause 4.6.3), or None if it was confirmed."""
        if self._unsolicited is None:
            return None
        self.counters.unsolicited_retries += 1
        return self._unsolicited.fragment

