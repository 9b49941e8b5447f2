"""mbpoll against the scenario's own device layer: the protection feeder's relay, served as its entry asks.

Skipped until the device layer (cosim.wiring.devices) and its protection-feeder
scenario are on main.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil

import pytest

from hiltools import ROOT, ServedWorld, settings, wait_until
from test_hil_mbpoll import mbpoll, read_value

SCENARIO = ROOT / "configs" / "protection_feeder.yaml"

pytestmark = [
    pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll not installed"),
    pytest.mark.skipif(importlib.util.find_spec("cosim.wiring.devices") is None or not SCENARIO.is_file(),
                       reason="device layer not on main yet"),
]


def test_mbpoll_trips_the_scenarios_relay_and_the_feeder_loses_supply(tmp_path):
    # the bench lets real masters write the relay's trip command, nothing else (docs/hil.md)
    served = ServedWorld(tmp_path, settings(modbus={"writable": {"sub_relay": ["trip_command"]}}), scenario_path=SCENARIO)
    if not served.world.has_service("devices") or "sub_relay" not in served.world.service("devices"):
        pytest.skip("the scenario's device layer is not wired into runs yet")
    assert served.session.expose_devices() >= 1
    # the entry's expose hint names a fixed port; a test takes any free one
    served.session.exposures = [dataclasses.replace(e, port=0 if e.port else None) for e in served.session.exposures]
    with served:
        port, unit = served.port_of("sub_relay"), served.unit_of("sub_relay")
        assert read_value(port, unit, "-t", "3", "-r", "0", "127.0.0.1") > 0          # phase A current, A
        assert read_value(port, unit, "-t", "1", "-r", "0", "127.0.0.1") == 1         # breaker closed
        write = mbpoll(port, unit, "-t", "0", "-r", "0", "127.0.0.1", "1")            # trip command coil
        assert write.returncode == 0, write.stdout + write.stderr
        assert wait_until(lambda: read_value(port, unit, "-t", "1", "-r", "0", "127.0.0.1") == 0, 10.0)
        assert wait_until(lambda: read_value(port, unit, "-t", "3", "-r", "0", "127.0.0.1") == 0, 10.0)
        refused = mbpoll(port, unit, "-t", "4", "-r", "0", "127.0.0.1", "300")       # 51 pickup: not listed in the bench
        assert refused.returncode == 1
    assert served.world.service("grid").measurements().switch_closed("sub_cb") is False
