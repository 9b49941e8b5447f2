"""What the conformance suites share: the two carriers, each case played once per transport, and tshark over all
their octets at once.

:class:`SimulatedCarrier` sends a protocol's octets through a scenario's comm
network from one node to another in simulated time; :class:`TcpCarrier`
sends them over a TCP connection to a served world's port in wall time. Both
keep every octet string each way, in order, as (from the client?, octets).

A case's outcome (its assertion error, if any) and the octets it carried are
kept; :func:`dissect` writes every case's exchange as its own TCP stream
(client port 40000 + case number) in one pcap and runs tshark once, so a
suite of dozens of cases pays for one dissector start, not one per case.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosim.comm.pcap import Segment, write_pcap
from cosim.runner import build_world
from cosim.scenario import load_scenario
from hiltools import ServedWorld, wait_until

CLIENT_ADDRESS, SERVER_ADDRESS = "10.0.0.1", "10.0.0.2"
PI_ERROR = "8388608"  # tshark's expert severity 'error'


def never() -> bool:
    return False


class SimulatedCarrier:
    """A scenario in simulated time; octets go from ``node`` to ``peer`` as ``protocol`` messages."""

    def __init__(self, scenario: Path, node: str, peer: str, protocol: str) -> None:
        self.world, _ = build_world(load_scenario(scenario), None)
        self.comm = self.world.service("comm")
        self.node, self.peer, self.protocol = node, peer, protocol
        self.frames: list[tuple[bool, bytes]] = []
        self.comm.attach(node, protocol, lambda message: self.frames.append((False, bytes(message.payload))))
        self.world.run(1.0)  # devices up

    def send(self, octets: bytes) -> None:
        self.frames.append((True, octets))
        self.comm.send(self.node, self.peer, self.protocol, octets, len(octets))

    def wait(self, seconds: float, done: Callable[[], bool] = never) -> None:
        """Run up to ``seconds`` of simulated time, in 50 ms slices, stopping once ``done``."""
        start = self.world.now
        for n in range(1, round(seconds / 0.05) + 1):
            self.world.run(start + n * 0.05)
            if done():
                return

    def close(self) -> None:
        pass


class TcpCarrier:
    """A TCP connection to ``port`` of a started served world (stopped with the carrier); ``wait`` is wall time."""

    def __init__(self, served: ServedWorld, port: int) -> None:
        self.served = served
        self.frames: list[tuple[bool, bytes]] = []
        self._lock = threading.Lock()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = self.sock.recv(65536)
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

    def wait(self, seconds: float, done: Callable[[], bool] = never) -> None:
        wait_until(done, seconds, every_s=0.01)

    def close(self) -> None:
        self.sock.close()
        self.served.stop()


@dataclass
class Outcome:
    """One case on one transport: the error it raised (None: it passed) and its octets (from client?, octets)."""

    error: BaseException | None = None
    frames: list[tuple[bool, bytes]] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    """tshark's fields for each packet of this case (filled by :func:`dissect`)."""

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


def play_all(cases: Sequence[Any], open_transport: Callable[[], Any], play: Callable[[Any, Any], None],
             shared: bool = False) -> list[Outcome]:
    """Play every case, each on a fresh transport (or on one ``shared`` transport), keeping its outcome."""
    outcomes = []
    carrier = open_transport() if shared else None
    try:
        for case in cases:
            transport = carrier if carrier is not None else open_transport()
            first = len(transport.frames)
            outcome = Outcome()
            try:
                play(case, transport)
            except AssertionError as error:
                outcome.error = error
            finally:
                if carrier is None:
                    transport.close()
            outcome.frames = list(transport.frames[first:])
            outcomes.append(outcome)
    finally:
        if carrier is not None:
            carrier.close()
    return outcomes


def dissect(outcomes: list[Outcome], pcap: Path, server_port: int, tshark_args: Sequence[str],
            fields: Sequence[str]) -> None:
    """Run tshark once over every outcome's octets and give each outcome its rows (``_ws.malformed`` and
    ``_ws.expert.severity`` always among them)."""
    segments = []
    for number, outcome in enumerate(outcomes):
        client, server = (CLIENT_ADDRESS, 40000 + number), (SERVER_ADDRESS, server_port)
        for from_client, octets in outcome.frames:
            ends = (client, server) if from_client else (server, client)
            segments.append(Segment(len(segments) * 0.001, *ends, octets))
    write_pcap(pcap, segments)
    names = ["tcp.srcport", "tcp.dstport", "_ws.malformed", "_ws.expert.severity", *fields]
    command = ["tshark", "-r", str(pcap), *tshark_args, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=;"]
    for name in names:
        command += ["-e", name]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for line in done.stdout.splitlines():
        if not line:
            continue
        row = dict(zip(names, line.split("\t")))
        client_port = max(int(row["tcp.srcport"]), int(row["tcp.dstport"]))  # server ports are below 40000
        if 40000 <= client_port < 40000 + len(outcomes):
            outcomes[client_port - 40000].rows.append(row)


def assert_clean(outcome: Outcome, deliberate: Callable[[dict[str, str]], bool] = lambda row: False) -> None:
    """Every packet tshark found for the case is well formed and has no expert error, except the ones the case
    broke on purpose (``deliberate``), which must still not be malformed."""
    assert outcome.rows, "tshark found none of the case's packets"
    for row in outcome.rows:
        assert not row["_ws.malformed"], row
        assert deliberate(row) or PI_ERROR not in row["_ws.expert.severity"].split(";"), row
