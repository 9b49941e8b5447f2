"""A bench whose MQTT broker cannot be used fails the serve at once, with one line saying why.

Against a real mosquitto started by the test (password file, loopback, free port)
and against a port nothing listens on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cosim.hil.brokercheck import probe_broker
from cosim.hil.config import MqttBrokerConfig

from hiltools import free_port, wait_until

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("mosquitto") is None or shutil.which("mosquitto_passwd") is None,
                                reason="mosquitto not installed")


@pytest.fixture
def locked_broker(tmp_path: Path):
    """mosquitto that admits only user 'bench' with password 'right'."""
    port = free_port()
    passwords = tmp_path / "passwords"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwords), "bench", "right"], check=True, capture_output=True)
    config = tmp_path / "mosquitto.conf"
    user = "user root\n" if os.geteuid() == 0 else ""
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n{user}")
    process = subprocess.Popen(["mosquitto", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: probe_broker(MqttBrokerConfig(port=port, username="bench", password="right")) is None, 10.0)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def test_right_and_wrong_credentials(locked_broker: int):
    assert probe_broker(MqttBrokerConfig(port=locked_broker, username="bench", password="right")) is None
    reason = probe_broker(MqttBrokerConfig(port=locked_broker, username="bench", password="wrong"))
    assert reason is not None and "authentication refused" in reason


def test_tls_against_a_plain_port_fails_the_handshake(locked_broker: int):
    config = MqttBrokerConfig(port=locked_broker, username="bench", password="right",
                              tls={"ca_file": "/etc/ssl/certs/ca-certificates.crt"})
    reason = probe_broker(config)
    assert reason is not None and "TLS" in reason


def test_no_broker_fails_the_serve_with_exit_3(tmp_path: Path):
    bench = tmp_path / "bench.yaml"
    bench.write_text(f"hil:\n  mqtt:\n    port: {free_port()}\n    connect_timeout_s: 2\n")
    proc = subprocess.run([sys.executable, "-m", "cosim.cli", "serve", str(REPO / "configs" / "protection_feeder.yaml"),
                           "--hil", str(bench), "--until", "1s", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "unreachable" in lines[0] and "Traceback" not in proc.stderr
    assert '"status": "failed"' in (tmp_path / "out" / "manifest.json").read_text()
