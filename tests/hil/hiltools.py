"""Helpers for the HIL tests: free ports, a served world in a background SimPy thread, bench devices.

The bench devices here are stand-ins built from ``devices.RegisterStore`` and
the register maps (a meter reading a bus voltage, a relay whose trip command
opens a breaker through devices.gridbinding, a PMU publishing frames), so the
HIL edges are tested on their own; tests that need the scenario's own device
layer say so.
"""

from __future__ import annotations

import json
import math
import socket
import struct
import threading
from pathlib import Path
from typing import Any, Callable, Generator

from cosim.hil.config import HilSettings, ModbusServeConfig
from cosim.hil.session import HilSession
from cosim.runner import build_world
from cosim.scenario import load_scenario
from devices.gridbinding import grid_action
from devices.intents import TripBreaker
from devices.registermaps import DeviceKind, standard_map
from devices.registerstore import RegisterStore

ROOT = Path(__file__).parents[2]
QUICKSTART = ROOT / "configs" / "quickstart.yaml"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings(**changes: Any) -> HilSettings:
    """Bench settings for tests: gateway on a free port, fast lag sampling."""
    modbus = ModbusServeConfig(gateway_port=0, **changes.pop("modbus", {}))
    changes.setdefault("monitor_step", 0.05)
    return HilSettings(modbus=modbus, **changes)


class ServedWorld:
    """A scenario's world (the quickstart by default) with a HilSession, run in a background SimPy thread."""

    def __init__(self, out_dir: Path | None, hil: HilSettings, duration_s: float = 120.0,
                 scenario_path: Path = QUICKSTART) -> None:
        scenario = load_scenario(scenario_path).with_run(mode="realtime", realtime_factor=hil.factor, duration=duration_s)
        self.world, _ = build_world(scenario, out_dir)
        self.session = HilSession(self.world, hil)
        self.duration_s = duration_s
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "ServedWorld":
        self.session.start()
        self._thread = threading.Thread(target=self._run, name="sim", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.session.run(self.duration_s)
        except BaseException as error:  # surfaced by stop()
            self.error = error

    def port_of(self, device_id: str) -> int:
        return next(e.port for e in self.session.endpoints if e.device_id == device_id)

    def unit_of(self, device_id: str) -> int:
        return next(e.unit_id for e in self.session.endpoints if e.device_id == device_id)

    def stop(self) -> None:
        self.session.stop()
        if self._thread is not None:
            self._thread.join(10)
        self.session.close()
        self.world.recorder.close(status="test")
        if self.error is not None:
            raise self.error

    def __enter__(self) -> "ServedWorld":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bench_meter(world: Any, bus: str = "f3", period_s: float = 0.05) -> RegisterStore:
    """A smart-meter store whose voltage follows ``bus`` (0 V when de-energised)."""
    store = RegisterStore(standard_map(DeviceKind.SMART_METER))
    grid = world.service("grid")
    base_kv = 11.0

    def sample() -> Generator[Any, Any, None]:
        while True:
            vm = grid.measurements().bus_voltage(bus).vm_pu
            vm = vm if math.isfinite(vm) else 0.0
            store.set("voltage_an_v", vm * base_kv * 1000 / math.sqrt(3))
            store.set("voltage_present", vm > 0.5)
            yield world.timeout(period_s)

    world.process(sample())
    return store


def bench_relay(world: Any, breaker: str = "feeder_cb") -> RegisterStore:
    """A relay store whose trip command coil opens ``breaker`` through its on_write callback."""
    store = RegisterStore(standard_map(DeviceKind.PROTECTIVE_RELAY))
    grid = world.service("grid")

    def trip(point: Any, value: Any) -> None:
        if value:
            grid.apply(grid_action(TripBreaker(breaker)))
            store.set("breaker_closed", False)
            store.set("trip_command", False)  # momentary
            world.log("bench_relay_trip", breaker=breaker)

    store.on_write("trip_command", trip)
    return store


def pmu_publisher(world: Any, client: Any, store: RegisterStore, topic: str) -> Generator[Any, Any, None]:
    """Publish a synchrophasor frame (JSON) every 1/reporting_rate_fps simulated seconds, QoS 0."""
    yield from client.connect()
    frame = 0
    while True:
        rate = int(store.get("reporting_rate_fps"))
        payload = {"frame": frame, "t": world.now, "vm": 1.0, "f_hz": 50.0}
        yield from client.publish(topic, json.dumps(payload).encode(), 0)
        frame += 1
        yield world.timeout(1.0 / rate)


def wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0, every_s: float = 0.02) -> bool:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every_s)
    return predicate()


def adu(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


class Wire:
    """A blocking Modbus TCP client socket that reads whole frames."""

    def __init__(self, port: int, timeout_s: float = 3.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)

    def ask(self, frame: bytes) -> bytes | None:
        self.sock.sendall(frame)
        return self.read()

    def read(self) -> bytes | None:
        try:
            header = self._exactly(6)
        except socket.timeout:
            return None
        return header + self._exactly(struct.unpack(">H", header[4:6])[0])

    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()


def read_frames(sock: socket.socket, count: int) -> list[bytes]:
    """``count`` whole frames off a C37.118 byte stream (FRAMESIZE says where each ends)."""
    buffer, frames = b"", []
    while len(frames) < count:
        chunk = sock.recv(65536)
        assert chunk, "the PMU closed the connection"
        buffer += chunk
        while len(buffer) >= 4 and len(buffer) >= int.from_bytes(buffer[2:4], "big"):
            size = int.from_bytes(buffer[2:4], "big")
            frames.append(buffer[:size])
            buffer = buffer[size:]
    return frames[:count]
