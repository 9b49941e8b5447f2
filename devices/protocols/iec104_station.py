"""The IEC 104 plug-in's endpoint in simulated time: an RTU as a controlled station, its APDUs through the comm layer.

A node is one IP address with one IEC 104 server (port 2404): the node's
:class:`Iec104Server` (protocol ``iec104``) keeps one
:class:`~cosim.comm.iec104.Connection` per peer (a controlling station's node,
or a TCP connection handed in through :meth:`Iec104Server.receive`) and
routes each ASDU to the :class:`Iec104Station` of its common address (the
broadcast address 0xFFFF to all). A station is a view over the RTU's point
model (:mod:`devices.protocols.iec104_rtu` says which IOA and type each point
takes):

* general interrogation (C_IC_NA_1, QOI 20): ACT_CON, every monitored object
  with cause 20 in its untimed type (M_SP_NA_1, M_ME_NC_1), ACT_TERM;
* after every device step (:meth:`Iec104Station.scan`), what changed goes out
  spontaneously (cause 3) as M_SP_TB_1 / M_ME_TF_1 with the device's
  CP56Time2a: a status at every change, a float when it moved more than
  ``deadband_pct`` of its last reported value (any move from zero);
* single commands and float set points (C_SC_NA_1, C_SE_NC_1), direct or
  select-and-execute: a select arms the object for ``select_timeout_s`` (and
  writes the RTU's ``.select`` coil when the RTU itself demands one), an
  execute writes the point through the register store exactly as a Modbus
  master's write does; ACT_CON (negative when refused), then ACT_TERM;
* clock synchronisation (C_CS_NA_1): the station's clock takes the master's
  time (an offset to the device clock), and the ACT_CON carries it.

Spontaneous data wait while no connection is started (STARTDT); a master
learns the state by interrogation after it starts. The trace's ``info``
column holds every APDU's octets in hex, so a trace becomes a pcap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

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
    decode_asdu,
    describe,
    encode_asdu,
)
from cosim.comm.iec104.asdu import BROADCAST_ADDRESS
from cosim.kernel.clock import delay_until
from devices.encoding import EncodingError
from devices.pointstore import WriteRefused
from devices.protocols.iec104_rtu import Iec104Kind, Iec104Object, rtu_objects, spontaneous_change
from devices.protocols.node_endpoint import NodeEndpoint
from devices.protocols.settings import Iec104Settings

if TYPE_CHECKING:
    from devices.field.base import FieldDevice

PROTOCOL = "iec104"
T2_S = 10.0  # clause 5.5 default: acknowledge received I frames at the latest this long after the first
OBJECTS_PER_ASDU = 20  # an interrogation answer in ASDUs of at most 20 objects (M_ME_NC_1: 6 + 20 * 8 = 166 octets)

_MONITOR_TYPES = {Iec104Kind.SINGLE_POINT: (TypeId.M_SP_NA_1, TypeId.M_SP_TB_1),
                  Iec104Kind.SHORT_FLOAT: (TypeId.M_ME_NC_1, TypeId.M_ME_TF_1)}
"""Monitored kind -> (type in an interrogation answer, type sent spontaneously)."""
_COMMAND_TYPES = {TypeId.C_SC_NA_1: Iec104Kind.SINGLE_COMMAND, TypeId.C_SE_NC_1: Iec104Kind.FLOAT_SETPOINT}


class Iec104Station:
    """One RTU's objects, what was last reported and what is selected (SimPy thread only)."""

    def __init__(self, device: FieldDevice, settings: Iec104Settings) -> None:
        assert device.store is not None
        self.device_id = device.device_id
        self.world = device.world
        self.store = device.store
        self.settings = settings
        self.common_address = settings.common_address
        self._utc_us: Callable[[float], int] = device.layer.utc_us
        self.clock_offset_ms = 0
        self.sbo = bool(getattr(device.config.params, "select_before_operate", False))
        self.objects = {obj.ioa: obj for obj in rtu_objects(device.config.params.points)}  # type: ignore[attr-defined]
        self.monitored = [obj for obj in self.objects.values() if not obj.kind.is_command]
        self.reported: dict[int, Any] = {obj.ioa: self.store.get(obj.point) for obj in self.monitored}
        self.selected: dict[int, tuple[Any, float]] = {}  # IOA -> (selected value, deadline in simulated s)
        self.server: Iec104Server | None = None
        self._generation = -1  # the store's change count at the last scan: unchanged, nothing to compare

    def now_ms(self) -> int:
        """The station's clock: the device's UTC clock plus the offset the last clock synchronisation set."""
        return self._utc_us(self.world.now) // 1000 + self.clock_offset_ms

    # -- after the device's step --------------------------------------------------------
    def scan(self) -> None:
        """Send what changed since it was last reported, spontaneously with the station's time."""
        if self.store.generation == self._generation:
            return
        self._generation = self.store.generation
        changed = []
        for obj in self.monitored:
            value = self.store.get(obj.point)
            if spontaneous_change(obj, self.reported[obj.ioa], value, self.settings.deadband_pct / 100.0):
                self.reported[obj.ioa] = value
                changed.append(obj)
        if changed and self.server is not None:
            stamp = Cp56Time(self.now_ms())
            for kind in (Iec104Kind.SINGLE_POINT, Iec104Kind.SHORT_FLOAT):
                objects = [InformationObject(obj.ioa, self._element(obj, stamp)) for obj in changed if obj.kind is kind]
                for start in range(0, len(objects), OBJECTS_PER_ASDU):
                    self.server.spontaneous(Asdu(_MONITOR_TYPES[kind][1], Cause.SPONTANEOUS, self.common_address,
                                                 tuple(objects[start:start + OBJECTS_PER_ASDU])))

    def _element(self, obj: Iec104Object, stamp: Cp56Time | None) -> SinglePoint | ShortFloat:
        value = self.store.get(obj.point)
        if obj.kind is Iec104Kind.SINGLE_POINT:
            return SinglePoint(bool(value), 0, stamp)
        return ShortFloat(float(value), 0, stamp)

    # -- requests -----------------------------------------------------------------------
    def handle(self, asdu: Asdu) -> list[Asdu]:
        """The answers to one request addressed to this station (or broadcast)."""
        if asdu.type_id is TypeId.C_IC_NA_1:
            return self._interrogation(asdu)
        if asdu.type_id is TypeId.C_CS_NA_1:
            return self._clock_sync(asdu)
        if asdu.type_id in _COMMAND_TYPES:
            return self._command(asdu)
        return [asdu.answer(Cause.UNKNOWN_TYPE, negative=True)]

    def _interrogation(self, asdu: Asdu) -> list[Asdu]:
        element = asdu.objects[0].element
        if asdu.cause is not Cause.ACTIVATION:
            return [asdu.answer(Cause.UNKNOWN_CAUSE, negative=True)]
        if not isinstance(element, Interrogation) or element.qualifier != 20:  # only station interrogation
            return [asdu.answer(Cause.ACTIVATION_CON, negative=True)]
        answers = [asdu.answer(Cause.ACTIVATION_CON)]
        for kind in (Iec104Kind.SINGLE_POINT, Iec104Kind.SHORT_FLOAT):
            objects = [InformationObject(obj.ioa, self._element(obj, None)) for obj in self.monitored if obj.kind is kind]
            for start in range(0, len(objects), OBJECTS_PER_ASDU):
                answers.append(Asdu(_MONITOR_TYPES[kind][0], Cause.INTERROGATED_BY_STATION, self.common_address,
                                    tuple(objects[start:start + OBJECTS_PER_ASDU])))
        for obj in self.monitored:  # what the master now knows is what was last reported
            self.reported[obj.ioa] = self.store.get(obj.point)
        return answers + [asdu.answer(Cause.ACTIVATION_TERMINATION)]

    def _clock_sync(self, asdu: Asdu) -> list[Asdu]:
        element = asdu.objects[0].element
        if asdu.cause is not Cause.ACTIVATION or not isinstance(element, ClockSync):
            return [asdu.answer(Cause.UNKNOWN_CAUSE, negative=True)]
        self.clock_offset_ms = element.time.utc_ms - self._utc_us(self.world.now) // 1000
        self.world.log("iec104_clock_sync", device=self.device_id, offset_ms=self.clock_offset_ms)
        return [Asdu(asdu.type_id, Cause.ACTIVATION_CON, self.common_address,
                     (InformationObject(0, ClockSync(Cp56Time(self.now_ms()))),), originator=asdu.originator)]

    def _command(self, asdu: Asdu) -> list[Asdu]:
        target = asdu.objects[0]
        obj = self.objects.get(target.ioa)
        if obj is None or obj.kind is not _COMMAND_TYPES[asdu.type_id]:
            return [asdu.answer(Cause.UNKNOWN_IOA, negative=True)]
        element = target.element
        assert isinstance(element, (SingleCommand, SetpointFloat))
        value: Any = element.on if isinstance(element, SingleCommand) else element.value
        if asdu.cause is Cause.DEACTIVATION:
            self.selected.pop(obj.ioa, None)
            return [asdu.answer(Cause.DEACTIVATION_CON)]
        if asdu.cause is not Cause.ACTIVATION:
            return [asdu.answer(Cause.UNKNOWN_CAUSE, negative=True)]
        now = self.world.now
        if element.select:
            select_coil = f"{obj.point}.select"
            if select_coil in self.store.register_map and not self._write(obj, select_coil, True):
                return [asdu.answer(Cause.ACTIVATION_CON, negative=True)]
            self.selected[obj.ioa] = (value, now + self.settings.select_timeout_s)
            return [asdu.answer(Cause.ACTIVATION_CON)]
        selection = self.selected.pop(obj.ioa, None)
        if self.sbo and obj.kind is Iec104Kind.SINGLE_COMMAND and (
                selection is None or selection[0] != value or now > selection[1]):
            self.world.log("iec104_command_refused", device=self.device_id, ioa=obj.ioa, error="execute without select")
            return [asdu.answer(Cause.ACTIVATION_CON, negative=True)]
        if not self._write(obj, obj.point, value):
            return [asdu.answer(Cause.ACTIVATION_CON, negative=True)]
        self.world.log("iec104_command", device=self.device_id, ioa=obj.ioa, point=obj.point, value=value)
        return [asdu.answer(Cause.ACTIVATION_CON), asdu.answer(Cause.ACTIVATION_TERMINATION)]

    def _write(self, obj: Iec104Object, point: str, value: Any) -> bool:
        try:
            self.store.write_point(point, value)
        except (WriteRefused, EncodingError) as error:  # the store's or the device's refusal: negative
            self.world.log("iec104_command_refused", device=self.device_id, ioa=obj.ioa, error=str(error))
            return False
        return True


Send = Callable[[bytes], None]
"""Writes one APDU to a connection's peer (a simulated node or a TCP connection)."""


class Iec104Server(NodeEndpoint):
    """The ``iec104`` handler of one comm node: a connection per peer, stations by common address.

    Peers are the master nodes of the simulated network (:meth:`_receive`)
    or any other carrier that hands in a connection's octets with
    :meth:`receive` (a TCP edge), in the SimPy thread.
    """

    protocol = PROTOCOL

    def __init__(self, comm: Any, node: str, log: Callable[..., None]) -> None:
        self.stations: dict[int, Iec104Station] = {}
        self.connections: dict[str, tuple[Connection, Send]] = {}
        self.world: Any = None
        self._t2_running: set[str] = set()
        super().__init__(comm, node, log)

    def add(self, station: Iec104Station) -> None:
        if station.common_address in self.stations:
            raise ValueError(f"node {self.node!r}: two IEC 104 stations with common address {station.common_address}")
        self.stations[station.common_address] = station
        station.server = self
        self.world = station.world

    def spontaneous(self, asdu: Asdu) -> None:
        """Send ``asdu`` on every started connection (none started: it is not sent)."""
        octets = encode_asdu(asdu)
        for connection, send in list(self.connections.values()):
            if connection.started:
                for apdu in connection.send(octets):
                    send(apdu)

    def receive(self, peer: str, octets: bytes, send: Send) -> str | None:
        """Whole APDUs from ``peer``; answers through ``send``. Returns why the connection must close, or None."""
        connection = self.connections.get(peer, (None, None))[0]
        if connection is None:
            connection = Connection(station=True)
            self.connections[peer] = (connection, send)
        received = connection.receive(octets)
        if received.error is not None:  # clause 5.1: close the connection; the peer's next one starts afresh
            self.log("iec104_connection_closed", node=self.node, peer=peer, reason=received.error)
            self.close(peer)
            return received.error
        for apdu in received.replies:
            send(apdu)
        for asdu in received.asdus:
            for answer in self._answers(asdu):
                for apdu in connection.send(answer):
                    send(apdu)
        if connection.unacked_received and self.world is not None and peer not in self._t2_running:
            self._t2_running.add(peer)
            self.world.process(self._t2(peer, connection))
        return None

    def close(self, peer: str) -> None:
        """The connection to ``peer`` is gone (a TCP close, or a protocol error)."""
        self.connections.pop(peer, None)

    def _receive(self, message: Any) -> None:
        peer = message.src

        def send(apdu: bytes) -> None:
            self.comm.send(self.node, peer, PROTOCOL, apdu, len(apdu), kind=describe(apdu), info=apdu.hex())

        error = self.receive(peer, bytes(message.payload), send)
        if error is not None:
            message.status, message.reason = "rejected", error

    def _answers(self, octets: bytes) -> list[bytes]:
        try:
            asdu = decode_asdu(octets)
        except AsduError as error:
            # 101 clause 7.2.3: mirror an unknown type with cause 44, an unknown cause with 45; negative, T kept
            if error.type_id is not None or error.cause is not None:
                mirror = Cause.UNKNOWN_TYPE if error.type_id is not None else Cause.UNKNOWN_CAUSE
                return [octets[:2] + bytes((mirror | 0x40 | octets[2] & 0x80,)) + octets[3:]]
            self.log("iec104_asdu_dropped", node=self.node, reason=str(error))
            return []
        if asdu.common_address == BROADCAST_ADDRESS:
            targets = list(self.stations.values())
        elif asdu.common_address in self.stations:
            targets = [self.stations[asdu.common_address]]
        else:
            return [encode_asdu(asdu.answer(Cause.UNKNOWN_COMMON_ADDRESS, negative=True))]
        return [encode_asdu(answer) for station in targets for answer in station.handle(asdu)]

    def _t2(self, peer: str, connection: Connection) -> Any:
        yield self.world.timeout(delay_until(self.world.now, self.world.now + T2_S))
        self._t2_running.discard(peer)
        if self.connections.get(peer, (None, None))[0] is connection:
            s_frame = connection.ack()
            if s_frame is not None:
                self.connections[peer][1](s_frame)


def attach(device: FieldDevice, settings: Iec104Settings) -> Iec104Station | None:
    """The device's station on its node's server (None without a store); the plug-in's endpoint."""
    if device.store is None:
        return None
    station = Iec104Station(device, settings)
    if device.layer.comm is not None and device.config.node is not None:
        Iec104Server.of(device.layer.comm, device.config.node, device.world.log).add(station)
    return station
