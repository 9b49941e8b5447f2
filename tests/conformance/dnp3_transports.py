"""A DNP3 master's end for the conformance cases, over either transport the outstations serve.

Both transports run the same scenario (configs/dnp3_feeder.yaml without its
simulated master, with short select and confirm timeouts so the timeout cases
stay fast) and talk to its recloser outstation (link address 20):

* :class:`SimulatedTransport`: octets through the comm network in simulated
  time, from the control centre's node;
* :class:`TcpTransport`: octets over a real TCP connection to the HIL DNP3
  server on 127.0.0.1 (a free port), the world paced to the wall clock.

Each keeps every octet string it carried, in order, for tshark.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from cosim.runner import build_world
from cosim.scenario import load_scenario
from hiltools import ROOT, ServedWorld, settings, wait_until

SCENARIO = ROOT / "configs" / "dnp3_feeder.yaml"
MASTER, RECLOSER = 1, 20
SELECT_TIMEOUT_S = 0.5
CONFIRM_TIMEOUT_S = 0.5


def conformance_scenario(folder: Path, unsolicited: bool = True) -> Path:
    """The feeder scenario with no simulated master (the cases are the master) and short timeouts."""
    spec = yaml.safe_load(SCENARIO.read_text())
    for actor in spec["actors"]:
        actor.pop("applications", None)
    for device in spec["devices"]:
        device["params"]["dnp3"].update(select_timeout_s=SELECT_TIMEOUT_S, confirm_timeout_s=CONFIRM_TIMEOUT_S,
                                         unsolicited=unsolicited)
        device["allow_protection_writes"] = True  # so an analog output can succeed (the case is the protocol's)
    path = folder / "dnp3_conformance.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


class SimulatedTransport:
    """Octets through the simulated comm network: ``wait`` advances simulated time."""

    name = "simulated"

    def __init__(self, folder: Path) -> None:
        self.world, _ = build_world(load_scenario(conformance_scenario(folder)), None)
        self.comm = self.world.service("comm")
        self.frames: list[tuple[bool, bytes]] = []
        self.comm.attach("scada", "dnp3", self._take)
        self.world.run(1.0)  # devices up

    def _take(self, message: Any) -> None:
        self.frames.append((False, bytes(message.payload)))

    def send(self, octets: bytes) -> None:
        self.frames.append((True, octets))
        self.comm.send("scada", "recloser_radio", "dnp3", octets, len(octets))

    def wait(self, seconds: float, done: Callable[[], bool] = lambda: False) -> None:
        """Run up to ``seconds`` of simulated time, in 50 ms slices, stopping once ``done``."""
        slices = round(seconds / 0.05)
        start = self.world.now
        for n in range(1, slices + 1):
            self.world.run(start + n * 0.05)
            if done():
                return

    def store(self) -> Any:
        return self.world.service("devices")["feeder_recloser"].store

    def close(self) -> None:
        pass


def served_world(folder: Path, unsolicited: bool = True) -> ServedWorld:
    """The conformance scenario paced to the wall clock, its outstations on a free loopback port (started)."""
    from cosim.hil.config import Dnp3ServeConfig

    served = ServedWorld(None, settings(dnp3=Dnp3ServeConfig(port=0)), duration_s=120.0,
                         scenario_path=conformance_scenario(folder, unsolicited)).start()
    assert served.session.dnp3_server is not None
    return served


class TcpTransport:
    """Octets over a TCP connection to the HIL DNP3 server; ``wait`` is wall time."""

    name = "tcp"

    def __init__(self, folder: Path) -> None:
        self.served = served_world(folder)
        server = self.served.session.dnp3_server
        self.frames: list[tuple[bool, bytes]] = []
        self._lock = threading.Lock()
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = self.sock.recv(4096)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.frames.append((False, chunk))

    def send(self, octets: bytes) -> None:
        with self._lock:
            self.frames.append((True, octets))
        self.sock.sendall(octets)

    def wait(self, seconds: float, done: Callable[[], bool] = lambda: False) -> None:
        if not wait_until(done, seconds, every_s=0.01):
            return

    def store(self) -> Any:
        return self.served.world.service("devices")["feeder_recloser"].store

    def close(self) -> None:
        self.sock.close()
        self.served.stop()


TRANSPORTS: dict[str, Callable[[Path], Any]] = {"simulated": SimulatedTransport, "tcp": TcpTransport}


def settle(transport: Any, seconds: float) -> None:
    """Let ``seconds`` pass on the transport's clock (simulated or wall)."""
    if isinstance(transport, TcpTransport):
        time.sleep(seconds)
    else:
        transport.wait(seconds)
