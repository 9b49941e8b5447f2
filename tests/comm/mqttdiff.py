"""Differential MQTT testing: one scripted client sequence, run on the simulated broker and on a real mosquitto.

A script is a list of steps (data, below) acting on named connections. Each
connection is one client object (a ``SimMqttClient`` on its own node, or a
paho client with its own socket); two connections may share a client id (a
session taken over). What each connection receives is recorded as
``(topic, payload, qos, retain)`` in arrival order, and the two runs are
compared connection by connection.

Synchronising the real run without timed assertions: before each step the
real runner waits until every connection has received what it received at
that point of the simulated run (bounded by a generous timeout, after which
the comparison reports the difference), and each step waits for its own
acknowledgement (CONNACK, SUBACK, UNSUBACK, PUBACK/PUBCOMP, the socket closed).
A QoS 0 PUBLISH has no acknowledgement, so the publisher follows it with a
QoS 1 PUBLISH on ``$diff/sync`` (no ``#`` or ``+`` filter matches a ``$``
topic, 4.7.2) and waits for its PUBACK: mosquitto handles one connection's
packets in order, so the QoS 0 message has been routed by then.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generator, Union

from cosim.comm import CommNetwork, Delay, MqttError, QoS
from cosim.comm.mqtt import Will
from cosim.kernel import World

Delivery = tuple[str, bytes, int, bool]  # topic, payload, qos, retain
SYNC_TOPIC = "$diff/sync"
REAL_TIMEOUT_S = 10.0  # a bound on waiting for a real broker; only reached when the runs differ


@dataclass(frozen=True)
class Connect:
    conn: str
    client_id: str
    clean: bool = True
    will: Will | None = None
    keep_alive_s: int = 60


@dataclass(frozen=True)
class Subscribe:
    conn: str
    topic_filter: str
    qos: int


@dataclass(frozen=True)
class Unsubscribe:
    conn: str
    topic_filter: str


@dataclass(frozen=True)
class Publish:
    conn: str
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False


@dataclass(frozen=True)
class Disconnect:
    """A clean DISCONNECT: the will is discarded."""

    conn: str


@dataclass(frozen=True)
class Abort:
    """The client process dies: its socket is closed without DISCONNECT (the broker sees FIN at once)."""

    conn: str


@dataclass(frozen=True)
class Silence:
    """The client stops talking and its socket stays open (power lost): only the keep-alive reveals it."""

    conn: str


@dataclass(frozen=True)
class Wait:
    seconds: float


Step = Union[Connect, Subscribe, Unsubscribe, Publish, Disconnect, Abort, Silence, Wait]


@dataclass
class Outcome:
    """What each connection received, and after each step how many (the real run's checkpoints)."""

    deliveries: dict[str, list[Delivery]]
    checkpoints: list[dict[str, int]]


def connections(script: list[Step]) -> list[str]:
    names: list[str] = []
    for step in script:
        name = getattr(step, "conn", None)
        if name is not None and name not in names:
            names.append(name)
    return names


# -- the simulated broker ---------------------------------------------------------------------
def run_simulated(script: list[Step], tmp_path: Path, max_packet_bytes: int = 268_435_455) -> Outcome:
    """Run ``script`` on a ``MqttBroker``: each connection on its own node, 1 ms links, no loss."""
    world = World(seed=1, out_dir=tmp_path / "sim")
    network = CommNetwork(world)
    network.add_node("broker")
    network.add_mqtt_broker("broker", retry_interval_s=1.0, max_packet_bytes=max_packet_bytes)
    deliveries: dict[str, list[Delivery]] = {name: [] for name in connections(script)}
    clients: dict[str, Any] = {}
    checkpoints: list[dict[str, int]] = []

    recorders: dict[str, Any] = {}

    def recorder(name: str) -> Any:
        """One per connection, shared by its handlers: a message matching several of them is one delivery."""
        if name in recorders:
            return recorders[name]
        last: list[object] = [None]

        def record(message: Any) -> None:
            if message is last[0]:  # one message matching several handlers of this client: one delivery
                return
            last[0] = message
            deliveries[name].append((message.topic, message.payload, int(message.qos), message.retain))
        recorders[name] = record
        return record

    def client(step: Connect) -> Any:
        if step.conn not in clients:
            node = f"n-{step.conn}"
            network.add_node(node)
            network.add_link(node, "broker", Delay.fixed(0.001), 1e8)
            clients[step.conn] = network.mqtt_client(node, step.client_id, "broker", clean_session=step.clean,
                                                     will=step.will, keep_alive_s=step.keep_alive_s,
                                                     retry_interval_s=1.0, on_message=recorder(step.conn))
        return clients[step.conn]

    def story() -> Generator[Any, Any, None]:
        for step in script:
            if isinstance(step, Connect):
                yield from client(step).connect()
            elif isinstance(step, Subscribe):
                yield from clients[step.conn].subscribe(step.topic_filter, QoS(step.qos), recorder(step.conn))
            elif isinstance(step, Unsubscribe):
                yield from clients[step.conn].unsubscribe(step.topic_filter)
            elif isinstance(step, Publish):
                try:
                    yield from clients[step.conn].publish(step.topic, step.payload, QoS(step.qos), step.retain)
                except MqttError:
                    pass  # the broker closed the connection (as paho reports for the real one)
            elif isinstance(step, Disconnect):
                yield from clients[step.conn].disconnect()
            elif isinstance(step, Abort):
                clients[step.conn].abort()
            elif isinstance(step, Silence):
                clients[step.conn].drop()
            elif isinstance(step, Wait):
                yield world.timeout(step.seconds)
            yield world.timeout(0.1)  # 100 round trips: every consequence of the step has arrived
            checkpoints.append({name: len(got) for name, got in deliveries.items()})

    process = world.process(story())
    world.env.run(until=process)
    return Outcome(deliveries, checkpoints)


# -- a real mosquitto ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mosquitto:
    """mosquitto on a free loopback port, no persistence, optional extra configuration lines."""

    def __init__(self, folder: Path, extra: str = "") -> None:
        self.port = free_port()
        config = folder / "mosquitto.conf"
        user = "user root\n" if os.geteuid() == 0 else ""
        config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n{user}{extra}")
        self.process = subprocess.Popen(["mosquitto", "-c", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + REAL_TIMEOUT_S
        while not self._listening():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("mosquitto did not start")
            time.sleep(0.02)

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def mosquitto_available() -> bool:
    return shutil.which("mosquitto") is not None


class _Real:
    """One paho connection, with events for the acknowledgements the runner waits on."""

    def __init__(self, step: Connect, port: int, record: list[Delivery], lock: threading.Lock) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.port = port
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=step.client_id, clean_session=step.clean,
                                  protocol=paho.MQTTv311, reconnect_on_failure=False)
        if step.will is not None:
            self.client.will_set(step.will.topic, step.will.payload, step.will.qos, step.will.retain)
        self.keep_alive_s = step.keep_alive_s
        self.connected = threading.Event()
        self.closed = threading.Event()
        self.acks: dict[int, threading.Event] = {}
        self._lock = lock

        def on_message(_c: Any, _u: Any, message: Any) -> None:
            if message.topic == SYNC_TOPIC:
                return
            with lock:
                record.append((message.topic, bytes(message.payload), int(message.qos), bool(message.retain)))

        def acked(_c: Any, _u: Any, mid: int, *_rest: Any) -> None:
            self._ack(mid).set()

        self.client.on_message = on_message
        self.client.on_connect = lambda *_a: self.connected.set()
        self.client.on_disconnect = lambda *_a: self.closed.set()
        self.client.on_subscribe = acked
        self.client.on_unsubscribe = acked
        self.client.on_publish = acked

    def _ack(self, mid: int) -> threading.Event:
        with self._lock:
            return self.acks.setdefault(mid, threading.Event())

    def connect(self) -> None:
        self.connected.clear()
        self.closed.clear()
        self.client.connect("127.0.0.1", self.port, keepalive=self.keep_alive_s)
        self.client.loop_start()
        assert self.connected.wait(REAL_TIMEOUT_S), "no CONNACK from mosquitto"

    def wait_mid(self, mid: int | None) -> bool:
        """Wait for the acknowledgement of ``mid``; False at once if the broker closed the connection."""
        if mid is None:
            return False
        event = self._ack(mid)
        deadline = time.monotonic() + REAL_TIMEOUT_S
        while time.monotonic() < deadline:
            if event.wait(0.01):
                return True
            if self.closed.is_set():
                return False
        return False


def run_real(script: list[Step], port: int, expected: Outcome) -> Outcome:
    """Run ``script`` against mosquitto at ``port``, paced by the simulated run's checkpoints."""
    deliveries: dict[str, list[Delivery]] = {name: [] for name in connections(script)}
    lock = threading.Lock()
    conns: dict[str, _Real] = {}
    checkpoints: list[dict[str, int]] = []

    def caught_up(target: dict[str, int]) -> None:
        deadline = time.monotonic() + REAL_TIMEOUT_S
        while time.monotonic() < deadline:
            with lock:
                if all(len(deliveries[name]) >= count for name, count in target.items()):
                    return
            time.sleep(0.005)

    try:
        for index, step in enumerate(script):
            if index:
                caught_up(expected.checkpoints[index - 1])
            if isinstance(step, Connect):
                if step.conn not in conns:
                    conns[step.conn] = _Real(step, port, deliveries[step.conn], lock)
                conns[step.conn].connect()
            elif isinstance(step, Subscribe):
                _, mid = conns[step.conn].client.subscribe(step.topic_filter, step.qos)
                assert conns[step.conn].wait_mid(mid), f"no SUBACK for {step}"
            elif isinstance(step, Unsubscribe):
                _, mid = conns[step.conn].client.unsubscribe(step.topic_filter)
                assert conns[step.conn].wait_mid(mid), f"no UNSUBACK for {step}"
            elif isinstance(step, Publish):
                real = conns[step.conn]
                info = real.client.publish(step.topic, step.payload, step.qos, step.retain)
                if step.qos:
                    real.wait_mid(info.mid)
                elif real.client.is_connected():
                    real.wait_mid(real.client.publish(SYNC_TOPIC, b"", 1).mid)
            elif isinstance(step, Disconnect):
                real = conns[step.conn]
                real.client.disconnect()
                real.closed.wait(REAL_TIMEOUT_S)
                real.client.loop_stop()
            elif isinstance(step, (Abort, Silence)):
                real = conns[step.conn]
                real.client.loop_stop()  # paho's thread stops: nothing is read or sent any more
                if isinstance(step, Abort):
                    sock = real.client.socket()
                    if sock is not None:
                        sock.close()  # what the operating system does for a killed process: FIN
            elif isinstance(step, Wait):
                time.sleep(step.seconds)
            with lock:
                checkpoints.append({name: len(got) for name, got in deliveries.items()})
        caught_up(expected.checkpoints[-1])
        time.sleep(0.3)  # room for deliveries the simulated broker did not make
    finally:
        for real in conns.values():
            real.client.loop_stop()
            sock = real.client.socket()
            if sock is not None:
                sock.close()
    with lock:
        return Outcome({name: list(got) for name, got in deliveries.items()}, checkpoints)


def retained_runs_sorted(got: list[Delivery]) -> list[Delivery]:
    """Sort each run of consecutive retained deliveries: 3.3.1.3 leaves their order on one subscription open."""
    out: list[Delivery] = []
    run: list[Delivery] = []
    for delivery in got + [("", b"", 0, False)]:
        if delivery[3]:
            run.append(delivery)
            continue
        out.extend(sorted(run))
        run = []
        out.append(delivery)
    return out[:-1]
