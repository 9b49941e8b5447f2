"""Plugins: kinds from a user's package, by entry point (installed) or --plugin MODULE.

The example package (examples/gridcosim-plugin-example) is installed by the
README's test command; its kinds then come without any flag.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from devices.config import CONFIG_MODELS, DeviceConfig
from devices.field.meter import SmartMeterDevice
from devices.plugins import register_device_kind

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "gridcosim-plugin-example"
SCENARIO = Path(__file__).with_name("plug_scenario.yaml")


def cosim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cosim.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_installed_plugin_kinds_are_listed_without_a_flag():
    listing = cosim("apps", "--all")
    assert listing.returncode == 0, listing.stderr
    for kind in ("meter_watch", "load_step", "smart_plug"):
        assert kind in listing.stdout


def test_a_scenario_runs_with_all_three_plugin_kinds(tmp_path):
    env = {"PYTHONPATH": os.pathsep.join([str(EXAMPLE), os.environ.get("PYTHONPATH", "")])}
    result = cosim("--plugin", "gridcosim_example_plugin", "run", str(SCENARIO), "--out", str(tmp_path / "run"),
                   "--no-progress", env=env)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in (tmp_path / "run" / "events.jsonl").read_text().splitlines()]
    flagged = [e["end_s"] for e in events if e["kind"] == "high_interval"]
    # The load step to 6 kW at 30 min: every 15-minute interval after it averages 6 kW (> 3 kW threshold);
    # the interval ending at 2 h closes at the run's end instant, which the run does not include.
    assert flagged == [2700.0, 3600.0, 4500.0, 5400.0, 6300.0]
    series = (tmp_path / "run" / "timeseries.csv").read_text().splitlines()
    assert "0.0,device/plug_1,p,2.0,kW" in series


def test_a_plugin_that_cannot_be_imported_is_one_clear_line():
    result = cosim("--plugin", "no_such_plugin_module", "validate", str(SCENARIO))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "no_such_plugin_module" in result.stderr and "Traceback" not in result.stderr


def test_device_kinds_are_checked_when_registered():
    class Taken(DeviceConfig):
        kind: Literal["smart_meter"]

    with pytest.raises(ValueError, match="already registered"):
        register_device_kind(Taken, SmartMeterDevice)

    class Mismatch(DeviceConfig):
        kind: Literal["another_meter"]
        extra: float = Field(0.0)

    with pytest.raises(ValueError, match="must be 'another_meter'"):
        register_device_kind(Mismatch, SmartMeterDevice)
    assert "another_meter" not in CONFIG_MODELS
