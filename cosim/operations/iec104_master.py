"""SCADA's IEC 104 controlling station, sans-IO: one connection to a server node, the requests and what answers mean.

A :class:`Iec104MasterSession` holds the controlling end of one connection
(:class:`~cosim.comm.iec104.Connection`) and a point database per common
address (IOA -> last value and the station's time tag, if any). It builds
the requests a front end sends (STARTDT, general interrogation, clock
synchronisation, single commands and float set points, direct or
select-and-execute) and decodes what arrives; it never reads a device. The
Operations application (``cosim.domains.operations_iec104``) carries the
octets in simulated time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cosim.comm.iec104 import (
    Asdu,
    AsduError,
    Cause,
    ClockSync,
    Connection,
    Cp56Time,
    InformationObject,
    Interrogation,
    SetpointFloat,
    ShortFloat,
    SingleCommand,
    SinglePoint,
    TypeId,
    UFunction,
    decode_asdu,
    encode_asdu,
)


@dataclass(frozen=True)
class Learnt:
    """One monitored value the master learnt: from an interrogation (no time) or spontaneously (the station's time)."""

    common_address: int
    ioa: int
    value: bool | float
    cause: Cause
    time_ms: int | None


@dataclass
class Heard:
    """What one message from the server meant."""

    asdus: list[Asdu] = field(default_factory=list)
    learnt: list[Learnt] = field(default_factory=list)
    replies: list[bytes] = field(default_factory=list)
    functions: list[UFunction] = field(default_factory=list)
    error: str | None = None


class Iec104MasterSession:
    """The controlling station's end of one connection (one server node, any number of common addresses)."""

    def __init__(self, originator: int = 0) -> None:
        self.originator = originator
        self.connection = Connection(station=False)
        self.points: dict[int, dict[int, Learnt]] = {}

    def reset(self) -> None:
        """A new connection (after a sequence error or a lost one): sequence numbers start again."""
        self.connection = Connection(station=False)

    def start(self) -> bytes:
        return self.connection.u_frame(UFunction.STARTDT_ACT)

    def interrogation(self, common_address: int) -> list[bytes]:
        return self._send(Asdu(TypeId.C_IC_NA_1, Cause.ACTIVATION, common_address,
                               (InformationObject(0, Interrogation()),), originator=self.originator))

    def clock_sync(self, common_address: int, utc_ms: int) -> list[bytes]:
        return self._send(Asdu(TypeId.C_CS_NA_1, Cause.ACTIVATION, common_address,
                               (InformationObject(0, ClockSync(Cp56Time(utc_ms))),), originator=self.originator))

    def command(self, common_address: int, ioa: int, value: bool | float, *, select: bool) -> list[bytes]:
        """A single command (bool) or float set point (float); ``select``: the select half of select-and-execute."""
        if isinstance(value, bool):
            asdu = Asdu(TypeId.C_SC_NA_1, Cause.ACTIVATION, common_address,
                        (InformationObject(ioa, SingleCommand(value, select)),), originator=self.originator)
        else:
            asdu = Asdu(TypeId.C_SE_NC_1, Cause.ACTIVATION, common_address,
                        (InformationObject(ioa, SetpointFloat(float(value), select)),), originator=self.originator)
        return self._send(asdu)

    def ack(self) -> bytes | None:
        return self.connection.ack()

    def receive(self, octets: bytes) -> Heard:
        received = self.connection.receive(octets)
        heard = Heard(replies=received.replies, functions=received.functions, error=received.error)
        for raw in received.asdus:
            try:
                asdu = decode_asdu(raw)
            except AsduError as error:
                heard.error = heard.error or f"undecodable ASDU: {error}"
                continue
            heard.asdus.append(asdu)
            for obj in asdu.objects:
                element = obj.element
                if isinstance(element, (SinglePoint, ShortFloat)):
                    value: bool | float = element.on if isinstance(element, SinglePoint) else element.value
                    time_ms = element.time.utc_ms if element.time is not None else None
                    learnt = Learnt(asdu.common_address, obj.ioa, value, asdu.cause, time_ms)
                    self.points.setdefault(asdu.common_address, {})[obj.ioa] = learnt
                    heard.learnt.append(learnt)
        return heard

    def _send(self, asdu: Asdu) -> list[bytes]:
        return self.connection.send(encode_asdu(asdu))
