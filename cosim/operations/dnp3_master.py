"""SCADA's DNP3 master: integrity polls plus unsolicited reporting, over any octet transport.

One :class:`Dnp3MasterSession` per outstation holds what the master knows of
it (a point database of binary and analog inputs with their flags and
time stamps) and builds its requests; it never reads a device, only decodes
what arrives. The startup sequence follows the usual master practice of IEEE
1815-2012 (clause 4.6 and the opendnp3 master's defaults): disable
unsolicited reporting, integrity poll (class 1, 2, 3 then 0), synchronise the
outstation's clock if it asks (IIN1.4), clear its restart indication (IIN1.7)
and enable unsolicited reporting of classes 1-3. Every response asking for
confirmation (CON) and every unsolicited response is confirmed.

Analog inputs arrive in counts (integer variations g30v1-v4, g32v1-v4) or in
engineering units (float variations g30v5/v6, g32v5-v8), as the outstation's
point map says. Like a field master's point list, a session may hold the
scaling of each analog input (:class:`AnalogScale`, from the device kind's
DNP3 map and the scale of the Modbus point behind it: one declared table for
both protocols), and then gives every analog value in engineering units too.

Sans-IO: requests are octets out, :meth:`Dnp3MasterSession.receive` takes
octets in and returns what they meant; the Operations application
(``cosim.domains.operations_dnp3``) carries them in simulated time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from devices.protocols.dnp3_points import Dnp3PointMap, point_map
from devices.registermap import RegisterMap
from devices.registermaps import DeviceKind, standard_map

from cosim.comm.dnp3 import (
    AnalogInput,
    AnalogOutput,
    AppControl,
    ApplicationError,
    BinaryInput,
    Crob,
    Dnp3Link,
    FunctionCode,
    Iin,
    ObjectHeader,
    Qualifier,
    Request,
    Response,
    decode_response,
)

CLASS_EVENTS = tuple(ObjectHeader(60, v, Qualifier.ALL) for v in (2, 3, 4))
INTEGRITY = CLASS_EVENTS + (ObjectHeader(60, 1, Qualifier.ALL),)
"""Class 1, 2, 3 then 0: events before the static snapshot, so the database ends on the present values."""


FLOAT_VARIATIONS = {30: (5, 6), 32: (5, 6, 7, 8)}
"""Analog input variations that carry the value as a float in engineering units (IEEE 1815-2012, A.14 and A.16)."""


@dataclass(frozen=True)
class AnalogScale:
    """One analog input of the master's point list: its name, counts -> engineering factor and unit."""

    name: str
    scale: float
    unit: str


def analog_scales(kind: DeviceKind) -> tuple[AnalogScale, ...]:
    """The analog inputs of ``kind``'s DNP3 map by index, each with the scale and unit of its Modbus point.

    Raises ValueError for a kind without a fixed DNP3 map (an RTU's comes from its own point list).
    """
    if kind is DeviceKind.RTU:
        raise ValueError("an RTU's DNP3 map comes from its point list; name its kind's scaling per point instead")
    return scales_of(point_map(kind), standard_map(kind))


def scales_of(points: Dnp3PointMap, register_map: RegisterMap) -> tuple[AnalogScale, ...]:
    """The analog inputs of a DNP3 map by index, each with the scale and unit of its point in ``register_map``."""
    return tuple(AnalogScale(a.point, register_map.point(a.point).scale, register_map.point(a.point).unit)
                 for a in points.analog_inputs)


@dataclass(frozen=True)
class PointChange:
    """One value the master learned: ``kind`` "binary" or "analog"; ``time_ms`` the outstation's stamp (0: static).

    ``value`` as sent (counts for integer analog variations); for an analog the point list scales, ``name``,
    ``engineering`` and ``unit`` give it in engineering units.
    """

    kind: str
    index: int
    value: float
    flags: int
    time_ms: int
    event: bool
    name: str | None = None
    engineering: float | None = None
    unit: str = ""


@dataclass
class Heard:
    """What one fragment from the outstation meant: the response, the point values in it, octets to send back."""

    response: Response
    changes: list[PointChange] = field(default_factory=list)
    reply: bytes = b""


@dataclass
class Dnp3MasterSession:
    """The master's side of one association (``master_address`` -> ``outstation_address``)."""

    master_address: int
    outstation_address: int
    scales: tuple[AnalogScale, ...] = ()
    """The analog inputs' scaling by index (empty: values stay as sent)."""

    def __post_init__(self) -> None:
        self.link = Dnp3Link(self.master_address, is_master=True)
        self.sequence = 0
        self.binary: dict[int, PointChange] = {}
        self.analog: dict[int, PointChange] = {}
        self.iin = Iin(0)
        self.rejected = 0

    def request(self, function: FunctionCode, headers: tuple[ObjectHeader, ...]) -> tuple[int, bytes]:
        """(sequence, octets) of a new request."""
        sequence = self.sequence
        self.sequence = (sequence + 1) % 16
        fragment = Request(AppControl(sequence), function, headers).encode()
        return sequence, self.link.send(self.outstation_address, fragment)

    def integrity_poll(self) -> tuple[int, bytes]:
        return self.request(FunctionCode.READ, INTEGRITY)

    def event_poll(self) -> tuple[int, bytes]:
        return self.request(FunctionCode.READ, CLASS_EVENTS)

    def set_unsolicited(self, enable: bool) -> tuple[int, bytes]:
        function = FunctionCode.ENABLE_UNSOLICITED if enable else FunctionCode.DISABLE_UNSOLICITED
        return self.request(function, CLASS_EVENTS)

    def write_time(self, utc_ms: int) -> tuple[int, bytes]:
        return self.request(FunctionCode.WRITE, (ObjectHeader(50, 1, Qualifier.COUNT_8, items=((0, utc_ms),)),))

    def clear_restart(self) -> tuple[int, bytes]:
        return self.request(FunctionCode.WRITE, (ObjectHeader(80, 1, Qualifier.START_STOP_8, 7, 7, items=((7, False),)),))

    def control(self, function: FunctionCode, index: int, command: Crob | AnalogOutput) -> tuple[int, bytes]:
        """SELECT, OPERATE or DIRECT_OPERATE of one CROB (g12v1) or 32-bit analog output (g41v1)."""
        group = 12 if isinstance(command, Crob) else 41
        header = ObjectHeader(group, 1, Qualifier.INDEX_16 if index > 0xFF else Qualifier.INDEX_8, items=((index, command),))
        return self.request(function, (header,))

    def receive(self, octets: bytes) -> Iterator[Heard]:
        """Decode the outstation's octets (whole frames); updates the point database; confirms what asks for it."""
        received = self.link.receive(octets, stream=False)
        self.rejected += len(received.dropped)
        for source, fragment in received.fragments:
            if source != self.outstation_address:
                self.rejected += 1
                continue
            try:
                response = decode_response(fragment)
            except ApplicationError:
                self.rejected += 1
                continue
            self.iin = response.iin
            heard = Heard(response, list(self._points(response)))
            control = response.control
            if control.confirm:
                confirm = Request(AppControl(control.sequence, unsolicited=control.unsolicited), FunctionCode.CONFIRM)
                heard.reply = self.link.send(self.outstation_address, confirm.encode())
            yield heard

    def _points(self, response: Response) -> Iterator[PointChange]:
        for header in response.headers:
            for index, obj in header.items:
                if isinstance(obj, BinaryInput) and header.group in (1, 2):
                    change = PointChange("binary", index, float(obj.value), obj.flags, obj.time_ms, header.group == 2)
                    self.binary[index] = change
                elif isinstance(obj, AnalogInput) and header.group in (30, 32):
                    change = self._analog(header, index, obj)
                    self.analog[index] = change
                else:
                    continue
                yield change

    def _analog(self, header: ObjectHeader, index: int, obj: AnalogInput) -> PointChange:
        value = float(obj.value)
        change = PointChange("analog", index, value, obj.flags, obj.time_ms, header.group == 32)
        if index >= len(self.scales):
            return change
        scale = self.scales[index]
        is_float = header.variation in FLOAT_VARIATIONS[header.group]
        return PointChange("analog", index, value, obj.flags, obj.time_ms, header.group == 32, scale.name,
                           value if is_float else value * scale.scale, scale.unit)
