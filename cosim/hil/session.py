"""A served run's real-world edges, assembled around one World: Modbus ports, bench masters, broker clients.

Which devices are served: every device of the world's ``devices`` service
whose scenario entry carries an ``expose`` hint, plus the ids listed in the
bench's ``modbus.expose``; tests and tools may add register banks directly
with :meth:`HilSession.expose`.

Where: a device whose hint names a ``port`` gets that port to itself, as
unit ``unit_id`` of its entry (and 0xFF, "this device"). All others share the
gateway port, one unit id each: ``1..n`` in device-id order
(``unit_ids: sequential``) or their entries' ``unit_id`` (``unit_ids:
device``). Unit 0 is broadcast (writes to every unit of that port, never
answered) and 0xFF on the gateway reaches the only unit if there is one,
else exception 0B -- the rules of :mod:`cosim.comm.modbus.server`, which
answers every request. ``hil_endpoints.csv`` in the results lists the map.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Sequence, TextIO

from cosim.comm.modbus.client import ModbusMaster
from cosim.comm.modbus.datamodel import ExceptionCode, ModbusError, ModbusTable, RegisterBank
from cosim.comm.modbus.server import ModbusServer

from devices.registermaps import DeviceKind

from .bridge import IoThread, SimInbox
from .c37118_tcp import C37118TcpServer
from .clock import RealtimeLoop, lag_monitor
from .config import HilSettings, is_loopback
from .external import check_mapping, poll_external_device
from .dnp3_tcp import Dnp3TcpServer, world_stations
from .modbus_tcp import ModbusTcpServer, TcpModbusTransport
from .mqtt import PahoMqttClient

WRITE_FUNCTIONS = {0x05, 0x06, 0x0F, 0x10}


class HilError(ValueError):
    """A bench that cannot be served as configured (a port taken, a device that is not there)."""


class BenchUnavailable(HilError):
    """A real party of the bench cannot be reached or refuses us (an external OpenADR VTN): exit 3, as for the broker."""


class ProtectionGuard:
    """A RegisterBank in front of a device's store that refuses master writes to protection settings.

    Answers 02, exactly as :class:`devices.registerstore.RegisterStore` does
    when the device itself does not allow remote setting changes, so a real
    master sees one rule whichever switch is off.
    """

    def __init__(self, bank: RegisterBank, register_map: Any) -> None:
        self.bank = bank
        self._locked = [(p.table, p.address, p.end_address, p.name) for p in register_map.points if p.protection_setting]

    def read(self, table: ModbusTable, address: int, count: int) -> list[int]:
        return self.bank.read(table, address, count)

    def write(self, table: ModbusTable, address: int, values: Sequence[int]) -> None:
        end = address + len(values)
        for locked_table, start, stop, name in self._locked:
            if locked_table is table and start < end and address < stop:
                raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS,
                                  f"{name} is a protection setting and the HIL bench does not allow remote changes")
        self.bank.write(table, address, values)


class WriteGuard:
    """A RegisterBank in front of a served device that lets real masters write only the bench's listed points.

    The bench decides what the outside world may change (docs/hil.md,
    "Writable control points"): a device with no listed point answers every
    write function with 01 ILLEGAL FUNCTION (writing is not an action this
    unit offers on this bench); a device with listed points answers a write
    touching any other address with 02 ILLEGAL DATA ADDRESS, the code the
    store gives for read-only points. The order is the Modbus server's own:
    function first, then address, then value (the store checks the value).
    """

    def __init__(self, bank: RegisterBank, device_id: str, allowed: list[tuple[ModbusTable, int, int]]) -> None:
        self.bank = bank
        self.device_id = device_id
        self._allowed = allowed

    def read(self, table: ModbusTable, address: int, count: int) -> list[int]:
        return self.bank.read(table, address, count)

    def write(self, table: ModbusTable, address: int, values: Sequence[int]) -> None:
        if not self._allowed:
            raise ModbusError(ExceptionCode.ILLEGAL_FUNCTION,
                              f"{self.device_id}: the HIL bench lists no point real masters may write")
        for offset in range(len(values)):
            at = address + offset
            if not any(t is table and start <= at < stop for t, start, stop in self._allowed):
                raise ModbusError(ExceptionCode.ILLEGAL_DATA_ADDRESS,
                                  f"{self.device_id}: {table.value} {at} is not writable from the HIL bench")
        self.bank.write(table, address, values)


def allowed_points(device_id: str, register_map: Any, names: list[str]) -> list[tuple[ModbusTable, int, int]]:
    """The address ranges of ``names`` in ``register_map``; HilError for a name the device has not or cannot write."""
    if register_map is None:
        raise HilError(f"modbus.writable.{device_id}: the device has no register map to name points in; use 'all'")
    ranges = []
    for name in names:
        try:
            point = register_map.point(name)
        except (KeyError, ValueError):
            raise HilError(f"modbus.writable.{device_id}: no point {name!r} in its register map") from None
        if not point.writable:
            raise HilError(f"modbus.writable.{device_id}: {name!r} is read-only on the device")
        ranges.append((point.table, point.address, point.end_address))
    return ranges


@dataclass(frozen=True)
class Exposure:
    device_id: str
    kind: str
    bank: RegisterBank
    unit_id: int
    port: int | None  # None: the gateway port


@dataclass(frozen=True)
class PmuEndpoint:
    """A PMU served over IEEE C37.118.2 on real TCP."""

    device_id: str
    idcode: int
    host: str
    port: int


@dataclass(frozen=True)
class Endpoint:
    device_id: str
    kind: str
    host: str
    port: int
    unit_id: int


class HilSession:
    """Real sockets and a real broker around ``world``; run it with :meth:`run` in the SimPy thread."""

    def __init__(self, world: Any, settings: HilSettings, stream: TextIO | None = None) -> None:
        self.world = world
        self.settings = settings
        self.stream = stream if stream is not None else sys.stderr
        self.inbox = SimInbox(settings.inbox_capacity)
        self.io = IoThread()
        self.loop = RealtimeLoop(world.env, self.inbox)
        self.exposures: list[Exposure] = []
        self.servers: list[ModbusTcpServer] = []
        self.endpoints: list[Endpoint] = []
        self.transports: list[TcpModbusTransport] = []
        self.mqtt_clients: list[PahoMqttClient] = []
        self.pdc_servers: list[C37118TcpServer] = []
        self.iec104: Any = None  # an Iec104Edge when the bench serves RTUs over IEC 104
        self.pmu_endpoints: list[PmuEndpoint] = []
        self._unit_owner: dict[tuple[int, int], str] = {}
        self.dnp3_server: Dnp3TcpServer | None = None
        self.openadr_server: Any = None  # an OpenAdrHttpServer when the bench serves a VTN over HTTP
        self.vtn_links: list[Any] = []   # ExternalVtnLinks: the scenario's VENs and the bench's external VTNs
        self._started = False
        if world.has_service("devices"):
            # Served, N devices sampling at one instant are a burst the wall clock waits for (lag):
            # spread their periodic samples over the period (docs/hil.md, "Real time at scale").
            world.service("devices").spread_sample_phases = True

    # -- what to serve ----------------------------------------------------------------
    def expose(self, device_id: str, kind: str, bank: RegisterBank, *, register_map: Any = None,
               unit_id: int = 1, port: int | None = None) -> None:
        """Serve ``bank`` over Modbus TCP (before :meth:`start`). ``register_map`` enables the protection guard."""
        if any(e.device_id == device_id for e in self.exposures):
            raise HilError(f"device {device_id!r} is exposed twice")
        if register_map is not None and not self.settings.modbus.allow_protection_writes:
            bank = ProtectionGuard(bank, register_map)
        modbus = self.settings.modbus
        listed = modbus.writable.get(device_id, [])
        if not modbus.allow_all_writes and listed != "all":
            bank = WriteGuard(bank, device_id, allowed_points(device_id, register_map, list(listed)) if listed else [])
        self.exposures.append(Exposure(device_id, kind, bank, unit_id, port))

    def expose_devices(self) -> int:
        """Expose the world's ``devices`` service entries that ask for it; returns how many."""
        if not self.world.has_service("devices"):
            if self.settings.modbus.expose:
                raise HilError(f"modbus.expose names {self.settings.modbus.expose} but the scenario has no devices")
            return 0
        devices = self.world.service("devices")
        listed = set(self.settings.modbus.expose)
        unknown = sorted(listed - set(devices))
        if unknown:
            raise HilError(f"modbus.expose: no device {', '.join(map(repr, unknown))} in the scenario")
        count = 0
        for device_id in sorted(devices):
            device = devices[device_id]
            config = getattr(device, "config", None)
            hint = getattr(config, "expose", None)
            if hint is None and device_id not in listed:
                continue
            store = device.store
            kind = getattr(device.kind, "value", device.kind)
            self.expose(device_id, str(kind), store, register_map=getattr(store, "register_map", None),
                        unit_id=int(getattr(config, "unit_id", 1) or 1),
                        port=getattr(hint, "port", None))
            count += 1
        return count

    # -- starting -----------------------------------------------------------------------
    def start(self) -> list[Endpoint]:
        """Bind every port, connect bench masters, start the lag monitor. Raises HilError."""
        if self._started:
            return self.endpoints
        settings = self.settings
        unserved = sorted(set(settings.modbus.writable) - {e.device_id for e in self.exposures})
        if unserved:  # one bench serves many scenarios: said, not refused (nothing becomes writable by it)
            print(f"hil: modbus.writable names {', '.join(unserved)}, not served by this run", file=self.stream,
                  flush=True)
        if settings.modbus.allow_all_writes:
            print("hil: modbus.allow_all_writes: real masters may write every writable point of every served device",
                  file=self.stream, flush=True)
        self._started = True
        self.io.start()
        gateway = sorted((e for e in self.exposures if e.port is None), key=lambda e: e.device_id)
        own = [e for e in self.exposures if e.port is not None]
        try:
            if gateway:
                server, units = ModbusServer(broadcast_writes=False), []
                for number, exposure in enumerate(gateway, start=1):
                    unit = number if settings.modbus.unit_ids == "sequential" else exposure.unit_id
                    if unit in server.banks:
                        raise HilError(f"unit id {unit} of {exposure.device_id!r} is taken on the gateway port "
                                       "(use unit_ids: sequential or distinct unit_id values)")
                    server.add_unit(unit, exposure.bank)
                    units.append((exposure, unit))
                self._listen(server, settings.modbus.host, settings.modbus.gateway_port, units)
            for exposure in own:
                server = ModbusServer(broadcast_writes=False)
                server.add_unit(exposure.unit_id, exposure.bank, default=True)
                self._listen(server, settings.modbus.host, exposure.port or 0,
                             [(exposure, exposure.unit_id)])
        except OSError as error:
            self.close()
            raise HilError(f"cannot listen for Modbus TCP: {error}") from None
        self._serve_c37118()
        self._serve_iec104()
        self._start_masters()
        self._serve_dnp3()
        self._serve_openadr()
        self._connect_external_vtns()
        monitor = lag_monitor(self.world, self.loop, settings.monitor_step, settings.lag_warn_s, self.stream)
        self.world.process(monitor)
        table = self.world.recorder.table("hil_endpoints", ("device_id", "kind", "host", "port", "unit_id"))
        for endpoint in self.endpoints:
            table.write((endpoint.device_id, endpoint.kind, endpoint.host, endpoint.port, endpoint.unit_id))
        return self.endpoints

    def _say_if_reachable(self, protocol: str, host: str, port: int, section: str) -> None:
        """Every listener bound beyond loopback (the bench's allow_non_loopback) is said out loud, every time."""
        if not is_loopback(host):
            print(f"hil: {protocol} on {host}:{port} is reachable beyond this machine (bench {section}.host)",
                  file=self.stream, flush=True)

    def _serve_dnp3(self) -> None:
        dnp3 = self.settings.dnp3
        stations = world_stations(self.world) if dnp3 is not None else {}
        if dnp3 is None or not stations:
            return
        self.dnp3_server = Dnp3TcpServer(stations, self.io, self.inbox, dnp3.host, dnp3.port, dnp3.max_connections)
        try:
            port = self.dnp3_server.start()
        except OSError as error:
            self.close()
            raise HilError(f"cannot listen for DNP3: {error}") from None
        self._say_if_reachable("DNP3", dnp3.host, port, "dnp3")
        print(f"hil: DNP3 outstations {sorted(stations)} on {dnp3.host}:{port}", file=self.stream)

    def _serve_openadr(self) -> None:
        config = self.settings.openadr
        if config is None:
            return
        from cosim.comm.openadr import OpenAdrEndpoint

        from .openadr_http import OpenAdrHttpServer

        comm = self.world.service("comm") if self.world.has_service("comm") else None
        if comm is None or config.vtn not in comm.nodes:
            self.close()
            raise HilError(f"the bench serves OpenADR for node {config.vtn!r}, which the scenario's comm does not have")
        # The node's HTTP end; the CSP's VTN adds its services when its process starts (until then: 404).
        endpoint = OpenAdrEndpoint.of(comm, config.vtn)
        self.openadr_server = OpenAdrHttpServer(endpoint, self.io, self.inbox, config.host, config.port)
        try:
            port = self.openadr_server.start()
        except OSError as error:
            self.close()
            raise HilError(f"cannot listen for OpenADR: {error}") from None
        self.endpoints.append(Endpoint(config.vtn, "openadr_vtn", config.host, port, 0))
        self._say_if_reachable("OpenADR", config.host, port, "openadr")
        print(f"hil: OpenADR 2.0b VTN of {config.vtn} on http://{config.host}:{port}/OpenADR2/Simple/2.0b",
              file=self.stream)

    def _connect_external_vtns(self) -> None:
        """Point each ``hil.openadr_vens`` entry's VEN at its external VTN and register there (fails the serve if refused)."""
        entries = self.settings.openadr_vens
        if not entries:
            return
        devices = self.world.service("devices") if self.world.has_service("devices") else {}
        vens = []   # each entry's VenSession: an openadr_ven's, or an ESI gateway's enrolled over OpenADR
        for i, entry in enumerate(entries):
            device: Any = devices[entry.device] if entry.device in devices else None
            kind = getattr(device, "kind", None)
            if kind not in ("openadr_ven", "esi_gateway") or (kind == "esi_gateway" and device.site is None):
                self.close()
                raise HilError(f"openadr_vens[{i}].device: the scenario has no openadr_ven {entry.device!r} "
                               "(nor an esi_gateway enrolled with a CSP)")
            if device.ven is None or (kind == "openadr_ven" and device.params.protocol != "openadr"):
                self.close()
                where = "params.protocol" if kind == "openadr_ven" else "params.enrolment.protocol"
                raise HilError(f"openadr_vens[{i}].device: {entry.device!r} is idle in this scenario (its {where} "
                               "is mqtt: the CSP's programme notifies over MQTT)")
            vens.append(device.ven)
        try:
            from .openadr_ven_http import ExternalVtnError, ExternalVtnLink
        except ImportError:
            self.close()
            raise HilError("the bench's openadr_vens need openleadr: pip install 'gridcosim[openadr]'") from None
        for i, (entry, ven) in enumerate(zip(entries, vens)):
            link = ExternalVtnLink(ven, entry, f"openadr_vens[{i}] ({entry.device})", self.io, self.inbox, self.loop)
            self.vtn_links.append(link)
            ven.use_external_vtn(link)
            try:
                ven_id = link.connect()
            except ExternalVtnError as error:
                self.close()
                raise BenchUnavailable(str(error)) from None
            self.world.log("openadr_vtn_registered", ven=ven.ven_id, url=entry.vtn_url, ven_id=ven_id)
            print(f"hil: OpenADR VEN {entry.device} registered with the VTN at {entry.vtn_url} as venID {ven_id}",
                  file=self.stream, flush=True)

    def _listen(self, server: ModbusServer, host: str, port: int, units: list[tuple[Exposure, int]]) -> None:
        modbus = self.settings.modbus
        edge = ModbusTcpServer(server, self.io, self.inbox, host, port, max_connections=modbus.max_connections,
                               idle_timeout_s=modbus.idle_timeout_s, max_connections_per_client=modbus.max_connections_per_client)
        bound = edge.start()
        self._say_if_reachable("Modbus TCP", host, bound, "modbus")
        edge.observer = self._observer(bound)
        self.servers.append(edge)
        for exposure, unit in units:
            self._unit_owner[(bound, unit)] = exposure.device_id
            self.endpoints.append(Endpoint(exposure.device_id, exposure.kind, host, bound, unit))

    def _serve_c37118(self) -> None:
        """Serve every PMU stream of the scenario (``protocols.c37118``) on the bench's C37.118 port."""
        config = self.settings.c37118
        if config is None:
            return
        devices = self.world.service("devices") if self.world.has_service("devices") else {}
        publishers = {device_id: getattr(devices[device_id], "endpoints", {}).get("c37118") for device_id in sorted(devices)}
        pmus = [(device_id, publisher.stream) for device_id, publisher in publishers.items() if publisher is not None]
        if not pmus:
            self.close()
            raise HilError("the bench has a c37118 section, but no device of the scenario serves C37.118 "
                           "(give a PMU protocols.c37118 and a node)")
        try:
            server = C37118TcpServer([stream for _, stream in pmus], self.io, self.inbox, config.host, config.port,
                                     config.max_connections, log=self.world.log)
            bound = server.start()
        except (OSError, ValueError) as error:
            self.close()
            raise HilError(f"cannot serve C37.118 on {config.host}:{config.port}: {error}") from None
        self._say_if_reachable("C37.118", config.host, bound, "c37118")
        self.pdc_servers.append(server)
        self.pmu_endpoints.extend(PmuEndpoint(device_id, stream.idcode, config.host, bound) for device_id, stream in pmus)

    def _serve_iec104(self) -> None:
        """Serve the bench's listed RTUs as IEC 104 controlled stations (c104 is imported only then)."""
        config = self.settings.iec104
        if config is None:
            return
        devices = self.world.service("devices") if self.world.has_service("devices") else {}
        problems = [d for d in config.expose if d not in devices or getattr(devices[d], "kind", None) not in ("rtu", DeviceKind.RTU)]
        if problems:
            self.close()
            raise HilError(f"iec104.expose: {', '.join(map(repr, problems))} is not an RTU of the scenario")
        chosen = sorted(config.expose)
        addresses = [number if config.common_address == "sequential" else int(getattr(devices[d].config, "unit_id", 1) or 1)
                     for number, d in enumerate(chosen, start=1)]
        if len(set(addresses)) != len(addresses):
            self.close()
            raise HilError("iec104: two RTUs share a common address (use common_address: sequential)")
        try:
            from .iec104 import Iec104Edge

            edge = Iec104Edge(self.world, [(d, devices[d], a) for d, a in zip(chosen, addresses)], self.inbox,
                              config.host, config.port, config.deadband_pct, config.scan, config.max_connections)
            edge.start()
        except ModuleNotFoundError as missing:
            if missing.name != "c104":   # our own module failing to import is a bug to see, not a missing extra
                raise
            self.close()
            raise HilError("the bench serves IEC 104, which needs c104: pip install 'gridcosim[iec104]'") from None
        except (OSError, RuntimeError, ValueError) as error:
            self.close()
            raise HilError(f"cannot serve IEC 104 on {config.host}:{config.port}: {error}") from None
        self._say_if_reachable("IEC 104", config.host, config.port, "iec104")
        self.iec104 = edge

    def _observer(self, port: int) -> Any:
        def observe(adu: bytes, response: bytes | None) -> None:
            # Writes from real masters are events of the run; reads are too many to log.
            if len(adu) < 12 or adu[7] not in WRITE_FUNCTIONS:
                return
            unit = adu[6]
            refused = response is not None and response[7] & 0x80
            self.world.log("hil_modbus_write", port=port, unit_id=unit,
                           device=self._unit_owner.get((port, unit), ""), function=adu[7],
                           address=int.from_bytes(adu[8:10], "big"),
                           exception=response[8] if refused and response is not None else None)
        return observe

    def _start_masters(self) -> None:
        grid = self.world.service("grid") if self.world.has_service("grid") else None
        problems = [p for m in self.settings.masters for p in check_mapping(m, grid)]
        if problems:
            self.close()
            raise HilError("; ".join(problems))
        for config in self.settings.masters:
            transport = TcpModbusTransport(config.host, config.port, self.world.env, self.io, self.inbox,
                                           self.loop.speed)
            self.transports.append(transport)
            master = ModbusMaster(transport, timeout_s=config.timeout, retries=config.retries)
            self.world.process(poll_external_device(self.world, master, config, grid))

    # -- MQTT ---------------------------------------------------------------------------
    def mqtt_client(self, node_id: str, client_id: str, broker_node: str | None = None, **options: Any) -> PahoMqttClient:
        """A client on the bench's real broker, with the signature of ``CommNetwork.mqtt_client``.

        ``node_id`` and ``broker_node`` name simulated nodes and are not used:
        the real broker is the bench's. Options: ``clean_session``, ``will``,
        ``keep_alive_s``, ``on_message`` (``retry_interval_s`` is paho's business and ignored).
        """
        if self.settings.mqtt is None:
            raise HilError("the bench has no mqtt section: no real broker to connect to")
        self.io.start()
        options.pop("retry_interval_s", None)
        client = PahoMqttClient(self.settings.mqtt.client_id_prefix + client_id, self.settings.mqtt,
                                self.world.env, self.inbox, clean_session=options.pop("clean_session", False),
                                will=options.pop("will", None), keep_alive_s=options.pop("keep_alive_s", None),
                                log=self.world.log, on_message=options.pop("on_message", None))
        if options:
            raise TypeError(f"unknown MQTT client options {sorted(options)}")
        self.mqtt_clients.append(client)
        return client

    def use_real_broker(self) -> int:
        """Give the scenario's devices real-broker clients instead of simulated ones; returns how many swapped.

        Devices get their client from ``CommNetwork.mqtt_client`` while the world
        is built, one per comm node (the device layer's shared node clients),
        and first use it when the run starts. So this replaces, before
        :meth:`run`: the factory on the network instance (for clients asked for
        later) and the client of every node client the device layer already
        holds. Topics and payloads stay the devices' own.
        """
        if self.settings.mqtt is None or not self.world.has_service("comm"):
            return 0
        self.world.service("comm").mqtt_client = self.mqtt_client
        swapped = 0
        if self.world.has_service("devices"):
            for node, holder in self.world.service("devices").node_mqtt_clients().items():
                simulated = holder.client
                holder.client = self.mqtt_client(node, simulated.client_id, getattr(holder, "broker", None))
                swapped += 1
        return swapped

    # -- running and stopping --------------------------------------------------------------
    def run(self, until_s: float) -> None:
        """Run the world paced to the wall clock until simulated ``until_s`` (or :meth:`stop`)."""
        self.start()
        self.loop.run(until_s)

    def stop(self) -> None:
        """Ask :meth:`run` to return (any thread)."""
        self.loop.stop()

    def close(self) -> None:
        """Close every socket and client and stop the I/O thread; safe to call twice."""
        for client in self.mqtt_clients:
            client.close()
        for transport in self.transports:
            transport.close()
        for server in self.servers:
            server.stop()
        for pdc_server in self.pdc_servers:
            pdc_server.stop()
        if self.iec104 is not None:
            self.iec104.stop()
        if self.dnp3_server is not None:
            self.dnp3_server.stop()
        if self.openadr_server is not None:
            self.openadr_server.stop()
        for link in self.vtn_links:
            link.close()
        self.io.stop()

    def lag_statistics(self) -> dict[str, float]:
        samples: list[float] = sorted(getattr(self.loop, "lag_samples", []))
        if not samples:
            return {}

        def pick(q: float) -> float:
            return float(samples[min(len(samples) - 1, int(q * len(samples)))])

        return {"samples": float(len(samples)), "p50_s": pick(0.5), "p99_s": pick(0.99), "max_s": samples[-1]}
