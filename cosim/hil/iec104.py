"""IEC 60870-5-104 controlled stations on real TCP for the scenario's RTUs, through c104 (Fraunhofer FIT).

Why c104 rather than our own stack: the issue asks for a controlled station a
European front end can talk to, and c104 is a maintained implementation of
the protocol (built on lib60870); what is ours is the view
(:mod:`devices.protocols.iec104_rtu`), the thread boundary and the reporting.

* Each exposed RTU is a station; its common address is its entry's
  ``unit_id`` (``common_address: device``) or 1..n in device-id order.
* Monitored objects are answered from the RTU's register store on general
  interrogation, and sent spontaneously (cause 3) when they change: a status
  point on every change, a float when it moved more than ``deadband_pct`` of
  its last reported value (any move from zero). The SimPy thread looks for
  changes every ``scan`` of simulated time, and time-tags each with the run's
  UTC clock, so the tag is the simulated time of the scan that saw it.
* Commands (single commands and float set points) go to the SimPy thread
  through the inbox and write the RTU's control or set-point point exactly as
  a Modbus master's write does (checks, select-before-operate, callbacks).
  The station confirms the activation (ACT_CON) when the inbox takes it, and
  refuses it (negative ACT_CON) when the simulation is flooded; the result
  shows as the status change it causes.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import Any, Callable, Generator

from cosim.kernel.clock import delay_until, next_tick
from devices.protocols.iec104_rtu import Iec104Kind, Iec104Object, rtu_objects, spontaneous_change

from .bridge import SimInbox

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass
class StationCounters:
    spontaneous: int = 0
    commands: int = 0
    commands_refused: int = 0
    command_errors: int = 0


class _Station:
    """One RTU as a c104 station: its objects, the c104 points and what was last reported."""

    def __init__(self, c104: Any, server: Any, device_id: str, device: Any, common_address: int) -> None:
        self.device_id = device_id
        self.store = device.store
        self.utc_us: Callable[[float], int] = device.layer.utc_us
        self.common_address = common_address
        self.objects = rtu_objects(device.config.params.points)
        self.station = server.add_station(common_address=common_address)
        sbo = bool(getattr(device.config.params, "select_before_operate", False))
        mode = c104.CommandMode.SELECT_AND_EXECUTE if sbo else c104.CommandMode.DIRECT
        self.points: dict[int, Any] = {}
        self.reported: dict[int, Any] = {}
        for obj in self.objects:
            kind = getattr(c104.Type, obj.kind.value)
            if obj.kind.is_command:
                self.points[obj.ioa] = self.station.add_point(io_address=obj.ioa, type=kind, command_mode=mode)
            else:
                self.points[obj.ioa] = self.station.add_point(io_address=obj.ioa, type=kind)


class Iec104Edge:
    """Serves RTUs as IEC 104 controlled stations on ``host:port``."""

    def __init__(self, world: Any, devices: list[tuple[str, Any, int]], inbox: SimInbox, host: str, port: int,
                 deadband_pct: float, scan_s: float, max_connections: int = 4) -> None:
        import c104

        self.c104 = c104
        self.world = world
        self.inbox = inbox
        self.deadband = deadband_pct / 100.0
        self.scan_s = scan_s
        self.counters = StationCounters()
        self.server = c104.Server(ip=host, port=port, max_connections=max_connections)
        self.stations = [_Station(c104, self.server, device_id, device, address) for device_id, device, address in devices]
        for station in self.stations:
            for obj in station.objects:
                if obj.kind.is_command:
                    station.points[obj.ioa].on_receive(callable=self._handler(station, obj))
                else:
                    self._set(station, obj, station.store.get(obj.point), 0.0)
        self.port = port

    def start(self) -> int:
        """Start listening; returns once the port is open (c104 starts its server thread asynchronously)."""
        import time

        self.server.start()
        deadline = time.monotonic() + 5.0
        while not self.server.is_running:
            if time.monotonic() > deadline:
                raise RuntimeError("the IEC 104 server did not start within 5 s")
            time.sleep(0.01)
        self.world.process(self._scan())
        return self.port

    def stop(self) -> None:
        if self.server.is_running:
            self.server.stop()

    # -- SimPy thread ----------------------------------------------------------------------
    def _info(self, station: _Station, obj: Iec104Object, value: Any, now: float) -> Any:
        stamp = EPOCH + datetime.timedelta(microseconds=station.utc_us(now))
        if obj.kind is Iec104Kind.SINGLE_POINT:
            return self.c104.SingleInfo(on=bool(value), recorded_at=stamp)
        return self.c104.ShortInfo(actual=float(value), recorded_at=stamp)

    def _set(self, station: _Station, obj: Iec104Object, value: Any, now: float) -> None:
        station.points[obj.ioa].info = self._info(station, obj, value, now)
        station.reported[obj.ioa] = value

    def _scan(self) -> Generator[Any, Any, None]:
        """Report what changed since the last report, spontaneously, every ``scan_s`` of simulated time."""
        spontaneous = self.c104.Cot.SPONTANEOUS
        origin = self.world.now
        while True:
            now = self.world.now
            yield self.world.timeout(delay_until(now, next_tick(now, origin, self.scan_s)))
            now = self.world.now
            for station in self.stations:
                for obj in station.objects:
                    if obj.kind.is_command:
                        continue
                    value = station.store.get(obj.point)
                    if spontaneous_change(obj, station.reported[obj.ioa], value, self.deadband):
                        self._set(station, obj, value, now)
                        station.points[obj.ioa].transmit(cause=spontaneous)
                        self.counters.spontaneous += 1

    def _apply(self, station: _Station, obj: Iec104Object, value: Any) -> None:
        try:
            station.store.write_point(obj.point, value)
        except Exception as error:  # a refused write (range, select): the master sees no status change
            self.counters.command_errors += 1
            self.world.log("iec104_command_refused", device=station.device_id, ioa=obj.ioa, error=str(error))
            return
        self.world.log("iec104_command", device=station.device_id, ioa=obj.ioa, point=obj.point, value=value)

    # -- c104's threads ------------------------------------------------------------------
    def _handler(self, station: _Station, obj: Iec104Object) -> Callable[..., Any]:
        """The command callback of one object; c104 checks a callback's parameter names and types."""
        def on_receive(point: Any, previous_info: Any, message: Any) -> Any:
            return self._command(station, obj, point)

        c104 = self.c104
        on_receive.__annotations__ = {"point": c104.Point, "previous_info": c104.Information,
                                      "message": c104.IncomingMessage, "return": c104.ResponseState}
        return on_receive

    def _command(self, station: _Station, obj: Iec104Object, point: Any) -> Any:
        """A command arrived (c104 thread): queue it for the SimPy thread; confirm if queued."""
        self.counters.commands += 1
        value: Any = bool(point.value) if obj.kind is Iec104Kind.SINGLE_COMMAND else float(point.value)
        if self.inbox.offer(functools.partial(self._apply, station, obj, value)):
            return self.c104.ResponseState.SUCCESS
        self.counters.commands_refused += 1
        return self.c104.ResponseState.FAILURE
