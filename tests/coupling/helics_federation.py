"""Runs a test federation on loopback: a broker, gridcosim and one peer federate, each its own process.

Shared by the HELICS tests: gridcosim's federate JSON gets the broker's port
and a core port of its own (see docs/cosimulation.md, "Ports"); the peer is
one of ``helics_peers.py``'s roles, given the broker port first.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
PEERS = Path(__file__).with_name("helics_peers.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_federation(tmp_path: Path, config: Path, scenario: Path, gridcosim_args: list[str], peer: str,
                   peer_args: list[str], timeout_s: float = 300) -> Path:
    """Run the three processes to their end (each must exit 0); returns gridcosim's results folder."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    federate = json.loads(config.read_text())
    federate["coreInitString"] = (f"--federates=1 --broker_address=127.0.0.1:{port} --localinterface=127.0.0.1 "
                                  f"--localport={free_port()}")
    config_path = tmp_path / "gridcosim.json"
    config_path.write_text(json.dumps(federate))
    out_dir = tmp_path / "run"
    procs = [subprocess.Popen([sys.executable, str(PEERS), "broker", str(port), "2"], cwd=ROOT)]
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "cosim.coupling.helics_federate", str(scenario),
                                       str(config_path), "--out", str(out_dir), *gridcosim_args], cwd=ROOT))
        procs.append(subprocess.Popen([sys.executable, str(PEERS), peer, str(port), *peer_args], cwd=ROOT))
        codes = [p.wait(timeout=timeout_s) for p in procs[::-1]]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert codes == [0, 0, 0]
    return out_dir
