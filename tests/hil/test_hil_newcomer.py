"""The documented HIL example serves devices, prints where, and a port flag that cannot apply is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).parents[2]


def serve(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cosim.cli", "serve", *args, "--out", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_documented_example_serves_the_quickstart_relay_and_rtu(tmp_path):
    result = serve("configs/quickstart.yaml", "--hil", "configs/hil_bench.yaml", "--until", "1s", "--modbus-port", "0",
                   tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip().startswith("modbus tcp")]
    assert [line.split(": ", 1)[1] for line in lines] == ["sub_relay (protective_relay)", "sub_rtu (rtu)"]
    documented = (ROOT / "docs" / "hil.md").read_text()
    assert "unit 1: sub_relay (protective_relay)" in documented and "unit 2: sub_rtu (rtu)" in documented


def test_a_gateway_port_that_no_device_uses_is_refused(tmp_path):
    result = serve("configs/protection_feeder.yaml", "--until", "1s", "--modbus-port", "0", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "--modbus-port" in result.stderr and "Traceback" not in result.stderr


def test_serving_nothing_over_modbus_warns(tmp_path):
    result = serve("configs/cosimulation/mosaik_feeder.yaml", "--until", "1s", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no device is served over Modbus" in result.stderr
