"""Operations' IEC 60870-5-104 controlling station: general interrogation plus spontaneous transmission over comm.

The front end knows each controlled station as a comm node and a common
address, as one is configured in the field. Per server node one connection
(:mod:`cosim.operations.iec104_master`): STARTDT, then per station a clock
synchronisation (when the master has a clock, ``start_utc``) and a general
interrogation, repeated every ``interrogation_period_s``; spontaneous data
are taken whenever they come. Scheduled ``commands`` send a single command
or a float set point, direct or select-and-execute. A received I frame is
acknowledged after ``w`` frames or within t2 (10 s).

Recorded: ``<actor>/<station>`` ``ioa_<n>`` as the master learns it;
``iec104_spontaneous`` events with the station's time tag and the delay
until the master knew (``detection_s``); ``iec104_command`` with the result
(``confirmed``, ``refused``, ``no_response``); ``iec104_timeout``.
"""

from __future__ import annotations

import datetime
from collections.abc import Generator
from typing import Any

import simpy
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..comm.iec104 import Asdu, Cause, TypeId, UFunction, describe
from ..kernel import World
from ..kernel.clock import delay_until, next_tick
from ..nist import Actor, Domain
from ..operations.iec104_master import Heard, Iec104MasterSession
from .context import RunContext
from .registry import Params, application

PROTOCOL = "iec104"
T2_S = 10.0


class Iec104StationRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, description="what the master calls it (recorded entity <actor>/<name>)")
    node: str = Field(min_length=1, description="comm node of the controlled station")
    common_address: int = Field(ge=1, le=65534)


class Iec104Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    at_s: float = Field(ge=0, description="simulated time the operator issues it")
    station: str = Field(min_length=1)
    ioa: int = Field(ge=1, le=0xFFFFFF)
    value: bool | float = Field(description="true/false: single command (C_SC_NA_1); a number: set point (C_SE_NC_1)")
    select_before_operate: bool = True


class Iec104MasterParams(Params):
    node: str = Field(min_length=1, description="comm node of the controlling station")
    stations: list[Iec104StationRef] = Field(min_length=1)
    interrogation_period_s: float = Field(3600.0, gt=0, description="time between general interrogations")
    response_timeout_s: float = Field(15.0, gt=0, description="t1: a confirmation must come within this")
    start_utc: datetime.datetime | None = Field(None, description="the master's UTC clock at simulated time 0; "
                                                "None: no clock, no clock synchronisation")
    commands: list[Iec104Command] = Field(default_factory=list, description="operator commands at given times")

    @model_validator(mode="after")
    def _known_stations(self) -> "Iec104MasterParams":
        names = [s.name for s in self.stations]
        if len(set(names)) != len(names):
            raise ValueError("station names must be unique")
        if len({(s.node, s.common_address) for s in self.stations}) != len(self.stations):
            raise ValueError("two stations at the same node and common address")
        unknown = sorted({c.station for c in self.commands} - set(names))
        if unknown:
            raise ValueError(f"commands name unknown stations: {', '.join(unknown)}")
        return self


@application("iec104_master", {Domain.OPERATIONS}, Iec104MasterParams)
def iec104_master(world: World, actor: Actor, params: Iec104MasterParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """SCADA IEC 104 controlling station: interrogations, spontaneous data, operator commands."""
    comm = world.service("comm")
    env: simpy.Environment = world.env
    sessions = {station.node: Iec104MasterSession() for station in params.stations}
    by_address = {(s.node, s.common_address): s for s in params.stations}
    started: dict[str, simpy.Event] = {node: env.event() for node in sessions}
    waiting: dict[tuple[str, int, TypeId, Cause], simpy.Event] = {}
    t2_running: set[str] = set()
    clock_ms = None if params.start_utc is None else round(params.start_utc.timestamp() * 1000)

    def send(node: str, apdus: list[bytes]) -> None:
        for apdu in apdus:
            comm.send(params.node, node, PROTOCOL, apdu, len(apdu), kind=describe(apdu), info=apdu.hex())

    def take(node: str, heard: Heard) -> None:
        now_ms = None if clock_ms is None else clock_ms + round(env.now * 1000)
        for learnt in heard.learnt:
            station = by_address.get((node, learnt.common_address))
            if station is None:
                continue
            world.record(f"{actor.actor_id}/{station.name}", f"ioa_{learnt.ioa}", float(learnt.value), "")
            if learnt.cause is Cause.SPONTANEOUS:
                detection = None if now_ms is None or learnt.time_ms is None else (now_ms - learnt.time_ms) / 1000.0
                world.log("iec104_spontaneous", actor=actor.actor_id, station=station.name, ioa=learnt.ioa,
                          value=learnt.value, stamp_ms=learnt.time_ms, detection_s=detection)
        for asdu in heard.asdus:
            event = waiting.get((node, asdu.common_address, asdu.type_id, asdu.cause))
            if event is not None and not event.triggered:
                event.succeed(asdu)

    def on_message(message: Any) -> None:
        node = message.src
        session = sessions.get(node)
        if session is None:
            message.status, message.reason = "rejected", "no controlled station configured at that node"
            return
        heard = session.receive(bytes(message.payload))
        if heard.error is not None:
            world.log("iec104_connection_closed", actor=actor.actor_id, node=node, reason=heard.error)
            session.reset()
            started[node] = env.event()
            world.process(connect(node))
            return
        send(node, heard.replies)
        if UFunction.STARTDT_CON in heard.functions and not started[node].triggered:
            started[node].succeed()
        take(node, heard)
        if session.connection.unacked_received and node not in t2_running:
            t2_running.add(node)
            world.process(acknowledge(node, session))

    def acknowledge(node: str, session: Iec104MasterSession) -> Generator[Any, Any, None]:
        yield env.timeout(delay_until(env.now, env.now + T2_S))
        t2_running.discard(node)
        s_frame = session.ack()
        if s_frame is not None:
            send(node, [s_frame])

    def request(node: str, apdus: list[bytes], common_address: int, type_id: TypeId,
                until: Cause) -> Generator[Any, Any, Asdu | None]:
        """Send a request and wait for its answer with cause ``until`` (None: t1 ran out)."""
        key = (node, common_address, type_id, until)
        done = waiting[key] = env.event()
        send(node, apdus)
        result = yield done | env.timeout(params.response_timeout_s)
        waiting.pop(key, None)
        if done not in result:
            world.log("iec104_timeout", actor=actor.actor_id, node=node, common_address=common_address,
                      request=type_id.name)
            return None
        answer: Asdu = result[done]
        return answer

    def connect(node: str) -> Generator[Any, Any, None]:
        session = sessions[node]
        while not started[node].triggered:
            send(node, [session.start()])
            yield started[node] | env.timeout(params.response_timeout_s)

    def run_station(station: Iec104StationRef) -> Generator[Any, Any, None]:
        node, address = station.node, station.common_address
        session = sessions[node]
        origin = env.now
        while True:
            yield started[node]
            if clock_ms is not None:
                yield from request(node, session.clock_sync(address, clock_ms + round(env.now * 1000)), address,
                                   TypeId.C_CS_NA_1, Cause.ACTIVATION_CON)
            yield from request(node, session.interrogation(address), address, TypeId.C_IC_NA_1,
                               Cause.ACTIVATION_TERMINATION)
            yield env.timeout(delay_until(env.now, next_tick(env.now, origin, params.interrogation_period_s)))

    def operate(command: Iec104Command) -> Generator[Any, Any, None]:
        yield env.timeout(delay_until(env.now, command.at_s))
        station = next(s for s in params.stations if s.name == command.station)
        node, address = station.node, station.common_address
        session = sessions[node]
        type_id = TypeId.C_SC_NA_1 if isinstance(command.value, bool) else TypeId.C_SE_NC_1
        result = "confirmed"
        for select in ([True, False] if command.select_before_operate else [False]):
            answer = yield from request(node, session.command(address, command.ioa, command.value, select=select),
                                        address, type_id, Cause.ACTIVATION_CON)
            if answer is None or answer.negative:
                result = "no_response" if answer is None else "refused"
                break
        world.log("iec104_command", actor=actor.actor_id, station=station.name, ioa=command.ioa,
                  value=command.value, select_before_operate=command.select_before_operate, result=result)

    comm.attach(params.node, PROTOCOL, on_message)
    for node in sessions:
        world.process(connect(node))
    for station in params.stations:
        world.process(run_station(station))
    for command in params.commands:
        world.process(operate(command))
    yield env.timeout(0)
