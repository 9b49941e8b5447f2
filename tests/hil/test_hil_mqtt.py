"""MQTT through a real broker (mosquitto started by the test): PMU frame rate, QoS 1 across a broker restart, options."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError

from cosim.comm.interfaces import QoS
from cosim.hil.config import MqttBrokerConfig
from cosim.hil.mqtt import make_paho_client
from devices.registermaps import DeviceKind, standard_map
from devices.registerstore import RegisterStore

from hiltools import ServedWorld, free_port, pmu_publisher, settings, wait_until

needs_mosquitto = pytest.mark.skipif(shutil.which("mosquitto") is None, reason="mosquitto not installed")


class Mosquitto:
    """A mosquitto broker on a free loopback port, with persistence so a restart keeps sessions."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        # Started as root, mosquitto drops to its own user, which cannot write a pytest tmp folder.
        user = "user root\n" if os.geteuid() == 0 else ""
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n{user}"
                               f"persistence true\npersistence_location {folder}/\n")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        assert wait_until(self._listening, 10.0), "mosquitto did not start"

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: mosquitto saves its persistence file
            self.process.wait(10)
        self.process = None


@pytest.fixture
def broker(tmp_path):
    mosquitto = Mosquitto(tmp_path)
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


class Subscriber:
    """A plain paho client in the test (another MQTT application), persistent session, QoS 1."""

    def __init__(self, port: int, topic: str, client_id: str = "test-subscriber") -> None:
        self.messages: list[tuple[float, bytes]] = []
        self.ready = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.on_connect = lambda c, u, f, rc, p: (c.subscribe(topic, 1), self.ready.set())
        self.client.on_message = lambda c, u, m: self.messages.append((time.monotonic(), bytes(m.payload)))
        self.client.connect_async("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        assert self.ready.wait(10)
        time.sleep(0.1)  # SUBACK

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@needs_mosquitto
def test_a_subscriber_receives_pmu_frames_at_the_configured_rate(tmp_path, broker):
    hil = settings(mqtt=MqttBrokerConfig(port=broker.port, reconnect_min_s=0.1))
    served = ServedWorld(tmp_path, hil)
    pmu = RegisterStore(standard_map(DeviceKind.PMU))
    pmu.set("reporting_rate_fps", 20)
    client = served.session.mqtt_client("pmu_node", "pmu_1", "broker")
    served.world.process(pmu_publisher(served.world, client, pmu, "pmu/pmu_1/frame"))
    subscriber = Subscriber(broker.port, "pmu/+/frame")
    try:
        with served:
            time.sleep(1.6)
    finally:
        subscriber.close()
    arrivals = [t for t, _ in subscriber.messages]
    window = [t for t in arrivals if arrivals[0] + 0.25 <= t < arrivals[0] + 1.25]  # one second, after start-up
    assert 16 <= len(window) <= 24, len(window)
    frames = [json.loads(p)["frame"] for _, p in subscriber.messages]
    assert frames == sorted(frames)


@needs_mosquitto
def test_a_broker_restart_mid_run_loses_no_qos1_message(tmp_path, broker):
    hil = settings(mqtt=MqttBrokerConfig(port=broker.port, reconnect_min_s=0.1, reconnect_max_s=0.5, keepalive_s=5))
    served = ServedWorld(tmp_path, hil)
    world = served.world
    client = served.session.mqtt_client("esi_node", "esi_1", "broker")
    count = 150

    def publish_all():
        yield from client.connect()
        for seq in range(count):
            yield from client.publish("esi/esi_1/reading", str(seq).encode(), QoS.AT_LEAST_ONCE)
            yield world.timeout(0.02)

    world.process(publish_all())
    subscriber = Subscriber(broker.port, "esi/+/reading")
    try:
        with served:
            time.sleep(0.8)
            broker.stop()
            time.sleep(0.6)
            broker.start()
            received = lambda: {int(p) for _, p in subscriber.messages}  # noqa: E731
            wait_until(lambda: len(received()) == count, 20.0)
    finally:
        subscriber.close()
    assert received() == set(range(count))
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert sum(e["kind"] == "hil_mqtt_connected" for e in events) >= 2
    assert any(e["kind"] == "hil_mqtt_disconnected" for e in events)


def test_broker_options_are_validated_and_reach_paho(tmp_path):
    with pytest.raises(ValidationError, match="password without username"):
        MqttBrokerConfig(password="x")
    with pytest.raises(ValidationError, match="is not a readable file"):
        MqttBrokerConfig(tls={"ca_file": str(tmp_path / "missing.pem")})
    with pytest.raises(ValidationError, match="go together"):
        MqttBrokerConfig(tls={"cert_file": str(tmp_path / "c.pem")})
    with pytest.raises(ValidationError):
        MqttBrokerConfig(reconnect_min_s=5, reconnect_max_s=1)
    client = make_paho_client("c1", MqttBrokerConfig(username="cosim", password="pw"), clean_session=False)
    assert client._username == b"cosim" and client._password == b"pw" and client._ssl_context is None
    bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    if bundle.is_file():
        tls_client = make_paho_client("c2", MqttBrokerConfig(port=8883, tls={"ca_file": str(bundle)}), False)
        assert tls_client._ssl_context is not None
