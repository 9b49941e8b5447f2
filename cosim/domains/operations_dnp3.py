"""Operations' DNP3 master (SCADA front end): integrity polls plus unsolicited reporting over the comm network.

Each outstation is known as a comm node and a link address, as a master is
configured in the field. Per outstation one process runs the startup sequence
of :mod:`cosim.operations.dnp3_master` (disable unsolicited, integrity poll,
time sync when asked and when the master has a clock, clear restart, enable
unsolicited), then an integrity poll every ``integrity_period_s`` and, if
``event_poll_s`` is set, an event poll (class 1-3) that often. Unsolicited
responses are taken (and confirmed) whenever they come. Scheduled commands
(``commands``) send a CROB by select-before-operate or direct operate.

Recorded: ``<actor>/<outstation>`` ``binary_<index>`` and ``analog_<index>``
(counts) as the master learns them, and for an outstation whose ``kind`` is
given each analog input by point name in engineering units (its DNP3 map's
scaling); ``dnp3_binary_event`` events with the
outstation's time stamp and the delay until the master knew
(``detection_s``); ``dnp3_control`` events with the command status;
``dnp3_timeout`` when a response did not come.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Generator
from typing import Any, Literal

import simpy
from pydantic import BaseModel, ConfigDict, Field, model_validator

from devices.registermaps import DeviceKind

from ..comm.dnp3 import CommandStatus, Crob, FunctionCode, OpType, TripClose
from ..kernel import World
from ..kernel.clock import delay_until
from ..nist import Actor, Domain
from ..operations.dnp3_master import Dnp3MasterSession, Heard, analog_scales
from .context import RunContext
from .registry import Params, application

PROTOCOL = "dnp3"


class Dnp3Outstation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, description="what the master calls it (recorded entity <actor>/<name>)")
    node: str = Field(min_length=1, description="comm node of the outstation")
    address: int = Field(ge=0, le=65519, description="the outstation's link address")
    kind: DeviceKind | None = Field(None, description="device kind whose DNP3 point map scales its analog inputs "
                                    "(recorded by point name in engineering units, as the Modbus master does); "
                                    "None: counts only")

    @model_validator(mode="after")
    def _kind_has_a_map(self) -> "Dnp3Outstation":
        if self.kind is not None:
            analog_scales(self.kind)  # ValueError for a kind without a fixed DNP3 map
        return self


class Dnp3Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    at_s: float = Field(ge=0, description="simulated time the operator issues it")
    outstation: str = Field(min_length=1)
    index: int = Field(ge=0, le=65535, description="CROB point index")
    action: Literal["trip", "close", "latch_on", "latch_off", "pulse_on"]
    select_before_operate: bool = True


class Dnp3MasterParams(Params):
    node: str = Field(min_length=1, description="comm node of the master")
    address: int = Field(1, ge=0, le=65519, description="the master's link address")
    outstations: list[Dnp3Outstation] = Field(min_length=1)
    integrity_period_s: float = Field(3600.0, gt=0, description="time between integrity polls (class 1230)")
    event_poll_s: float | None = Field(None, gt=0, description="time between event polls (class 123); None: rely on unsolicited")
    unsolicited: bool = Field(True, description="enable unsolicited reporting after the startup integrity poll")
    response_timeout_s: float = Field(5.0, gt=0)
    start_utc: datetime.datetime | None = Field(None, description="the master's UTC clock at simulated time 0; "
                                                "None: it has no clock and does not synchronise outstations")
    commands: list[Dnp3Command] = Field(default_factory=list, description="operator controls at given times")

    @model_validator(mode="after")
    def _known_outstations(self) -> "Dnp3MasterParams":
        names = [o.name for o in self.outstations]
        if len(set(names)) != len(names):
            raise ValueError("outstation names must be unique")
        places = [(o.node, o.address) for o in self.outstations]
        if len(set(places)) != len(places):
            raise ValueError("two outstations at the same node and link address")
        unknown = sorted({c.outstation for c in self.commands} - set(names))
        if unknown:
            raise ValueError(f"commands name unknown outstations: {', '.join(unknown)}")
        return self


_CROBS = {
    "trip": Crob(OpType.PULSE_ON, TripClose.TRIP, 1, 100, 100),
    "close": Crob(OpType.PULSE_ON, TripClose.CLOSE, 1, 100, 100),
    "latch_on": Crob(OpType.LATCH_ON), "latch_off": Crob(OpType.LATCH_OFF),
    "pulse_on": Crob(OpType.PULSE_ON, TripClose.NUL, 1, 100, 100),
}


@application("dnp3_master", {Domain.OPERATIONS}, Dnp3MasterParams)
def dnp3_master(world: World, actor: Actor, params: Dnp3MasterParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """SCADA DNP3 master: integrity polls, unsolicited reports, operator controls."""
    comm = world.service("comm")
    env: simpy.Environment = world.env
    by_node: dict[tuple[str, int], tuple[Dnp3Outstation, Dnp3MasterSession]] = {}
    locks: dict[int, simpy.Resource] = {}  # one request outstanding per association (clause 4.4.1)
    waiting: dict[int, tuple[int, simpy.Event]] = {}  # id(session) -> (sequence, event for its response)
    clock_ms = None if params.start_utc is None else round(params.start_utc.timestamp() * 1000)

    def send(outstation: Dnp3Outstation, octets: bytes, kind: str) -> None:
        comm.send(params.node, outstation.node, PROTOCOL, octets, len(octets), kind=kind, info=octets.hex())

    def take(outstation: Dnp3Outstation, session: Dnp3MasterSession, heard: Heard) -> None:
        entity = f"{actor.actor_id}/{outstation.name}"
        now_ms = None if clock_ms is None else clock_ms + round(env.now * 1000)
        for change in heard.changes:
            world.record(entity, f"{change.kind}_{change.index}", change.value, "")
            if change.engineering is not None and change.name is not None:
                world.record(entity, change.name, change.engineering, change.unit)
            if change.kind == "binary" and change.event:
                detection = None if now_ms is None else (now_ms - change.time_ms) / 1000.0
                world.log("dnp3_binary_event", actor=actor.actor_id, outstation=outstation.name, index=change.index,
                          value=bool(change.value), stamp_ms=change.time_ms, detection_s=detection,
                          unsolicited=heard.response.control.unsolicited)
        if heard.reply:
            send(outstation, heard.reply, "confirm")
        if not heard.response.control.unsolicited:
            pending = waiting.get(id(session))
            if pending is not None and pending[0] == heard.response.control.sequence and not pending[1].triggered:
                pending[1].succeed(heard)

    def on_message(message: Any) -> None:
        octets = bytes(message.payload)
        source = int.from_bytes(octets[6:8], "little") if len(octets) >= 8 else -1
        known = by_node.get((message.src, source))
        if known is None:
            message.status, message.reason = "rejected", "no outstation configured at that node and address"
            world.log("dnp3_unknown_outstation", actor=actor.actor_id, src=message.src, address=source)
            return
        outstation, session = known
        for heard in session.receive(octets):
            take(outstation, session, heard)

    def exchange(outstation: Dnp3Outstation, session: Dnp3MasterSession,
                 request: Callable[[Dnp3MasterSession], tuple[int, bytes]], kind: str) -> Generator[Any, Any, Heard | None]:
        """One request and its response (None: timed out), when the association is free."""
        with locks[id(session)].request() as turn:
            yield turn
            heard = yield from transact(outstation, session, request, kind)
            return heard

    def transact(outstation: Dnp3Outstation, session: Dnp3MasterSession,
                 request: Callable[[Dnp3MasterSession], tuple[int, bytes]], kind: str) -> Generator[Any, Any, Heard | None]:
        """One request and its response; the caller holds the association."""
        sequence, octets = request(session)
        done = env.event()
        waiting[id(session)] = (sequence, done)
        send(outstation, octets, kind)
        result = yield done | env.timeout(params.response_timeout_s)
        waiting.pop(id(session), None)
        if done not in result:
            world.log("dnp3_timeout", actor=actor.actor_id, outstation=outstation.name, request=kind)
            return None
        heard: Heard = result[done]
        return heard

    def run_outstation(outstation: Dnp3Outstation, session: Dnp3MasterSession) -> Generator[Any, Any, None]:
        yield from exchange(outstation, session, lambda s: s.set_unsolicited(False), "disable_unsolicited")
        polls = 0
        started = False
        while True:
            heard = yield from exchange(outstation, session, Dnp3MasterSession.integrity_poll, "read")
            polls += 1
            if heard is not None and (not started or session.iin.value & 0x0090):
                yield from housekeeping(outstation, session)
                started = True
            next_integrity = polls * params.integrity_period_s
            while True:
                due = next_integrity
                if params.event_poll_s is not None:
                    due = min(due, (env.now // params.event_poll_s + 1) * params.event_poll_s)
                if due <= env.now:  # a period below the clock's resolution: never stand still
                    due = math.nextafter(env.now, math.inf)
                yield env.timeout(delay_until(env.now, due))
                if env.now >= next_integrity:
                    break
                yield from exchange(outstation, session, Dnp3MasterSession.event_poll, "read")

    def housekeeping(outstation: Dnp3Outstation, session: Dnp3MasterSession) -> Generator[Any, Any, None]:
        if session.iin.value & 0x0010 and clock_ms is not None:  # IIN1.4 NEED_TIME
            # Non-LAN procedure (IEEE 1815-2012, 5.4.2.1): measure the one-way delay, then write the time plus it.
            sent_s = env.now
            measured = yield from exchange(outstation, session, lambda s: s.request(FunctionCode.DELAY_MEASURE, ()),
                                           "delay_measure")
            if measured is not None:
                turnaround_ms = next((int(obj) for h in measured.response.headers if h.gv == (52, 2)
                                      for _, obj in h.items if isinstance(obj, int)), 0)
                delay_ms = max(0, round((env.now - sent_s) * 1000) - turnaround_ms) // 2
                base_ms = clock_ms
                yield from exchange(outstation, session,
                                    lambda s: s.write_time(base_ms + round(env.now * 1000) + delay_ms), "write")
        if session.iin.value & 0x0080:  # IIN1.7 DEVICE_RESTART
            yield from exchange(outstation, session, Dnp3MasterSession.clear_restart, "write")
        if params.unsolicited:
            yield from exchange(outstation, session, lambda s: s.set_unsolicited(True), "enable_unsolicited")

    def operate(command: Dnp3Command) -> Generator[Any, Any, None]:
        yield env.timeout(delay_until(env.now, command.at_s))
        outstation = next(o for o in params.outstations if o.name == command.outstation)
        _, session = by_node[(outstation.node, outstation.address)]
        crob = _CROBS[command.action]
        status: CommandStatus | None = None
        steps = ([FunctionCode.SELECT, FunctionCode.OPERATE] if command.select_before_operate
                 else [FunctionCode.DIRECT_OPERATE])
        with locks[id(session)].request() as turn:  # SELECT and OPERATE back to back (clause 4.4.3.1)
            yield turn
            for function in steps:
                heard = yield from transact(outstation, session, lambda s: s.control(function, command.index, crob),
                                            function.name.lower())
                echoed = [obj for h in heard.response.headers for _, obj in h.items] if heard is not None else []
                status = echoed[0].status if echoed and isinstance(echoed[0], Crob) else None
                if status != CommandStatus.SUCCESS:
                    break
        world.log("dnp3_control", actor=actor.actor_id, outstation=outstation.name, index=command.index,
                  action=command.action, status=status.name if status is not None else "no_response")

    for outstation in params.outstations:
        session = Dnp3MasterSession(params.address, outstation.address,
                                    analog_scales(outstation.kind) if outstation.kind is not None else ())
        by_node[(outstation.node, outstation.address)] = (outstation, session)
        locks[id(session)] = simpy.Resource(env, capacity=1)
    comm.attach(params.node, PROTOCOL, on_message)
    for outstation in params.outstations:
        world.process(run_outstation(*by_node[(outstation.node, outstation.address)]))
    for command in params.commands:
        world.process(operate(command))
    yield env.timeout(0)
