"""A real Modbus master (mbpoll) against the served simulation: read live measurements, trip a feeder."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from hiltools import ServedWorld, bench_meter, bench_relay, settings, wait_until

pytestmark = pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll not installed (scripts/test-setup-and-run)")


def mbpoll(port: int, unit: int, *args: str) -> subprocess.CompletedProcess[str]:
    # -0: addresses are PDU addresses (0-based) as in our register maps; -1: poll once.
    command = ["mbpoll", "-m", "tcp", "-p", str(port), "-a", str(unit), "-0", "-1", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=15)


def read_value(port: int, unit: int, *args: str) -> int:
    result = mbpoll(port, unit, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return int(re.search(r"\[\d+\]:\s+(-?\d+)", result.stdout).group(1))


def test_mbpoll_reads_meter_voltage_and_writes_the_breaker_coil_that_deenergises_the_feeder(tmp_path):
    served = ServedWorld(tmp_path, settings(modbus={"writable": {"relay_cb": "all"}}))  # no map to name points in
    world = served.world
    served.session.expose("meter_f3", "smart_meter", bench_meter(world), unit_id=1)
    served.session.expose("relay_cb", "protective_relay", bench_relay(world), unit_id=2,
                          register_map=None)
    with served:
        port = served.port_of("meter_f3")
        meter, relay = served.unit_of("meter_f3"), served.unit_of("relay_cb")
        # input register 0: voltage A-N in 0.1 V
        energised = read_value(port, meter, "-t", "3", "-r", "0", "-c", "1", "127.0.0.1")
        assert 5500 * 10 < energised < 7000 * 10
        # coil 0 of the relay: trip command
        write = mbpoll(port, relay, "-t", "0", "-r", "0", "127.0.0.1", "1")
        assert write.returncode == 0, write.stdout + write.stderr
        assert wait_until(lambda: read_value(port, meter, "-t", "3", "-r", "0", "127.0.0.1") == 0, 10.0)
        breaker = read_value(port, relay, "-t", "1", "-r", "0", "127.0.0.1")  # discrete input: breaker_closed
        assert breaker == 0
        # an address outside the map: exception 02 on the wire, mbpoll exits 1
        refused = mbpoll(port, meter, "-t", "3", "-r", "100", "127.0.0.1")
        assert refused.returncode == 1 and "Illegal data address" in (refused.stdout + refused.stderr)
    grid = world.service("grid")
    assert grid.measurements().switch_closed("feeder_cb") is False
    events = (tmp_path / "events.jsonl").read_text()
    assert '"kind": "bench_relay_trip"' in events and '"kind": "hil_modbus_write"' in events
