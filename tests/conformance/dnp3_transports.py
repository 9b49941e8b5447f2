"""A DNP3 master's end for the conformance cases, over either transport the outstations serve.

Both transports run the same scenario (configs/dnp3_feeder.yaml without its
simulated master, with short select and confirm timeouts so the timeout cases
stay fast) and talk to its recloser outstation (link address 20):

* :func:`simulated`: octets through the comm network in simulated time, from
  the control centre's node;
* :func:`tcp`: octets over a real TCP connection to the HIL DNP3 server on
  127.0.0.1 (a free port), the world paced to the wall clock.

Each keeps every octet string it carried, in order, for tshark.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from hiltools import ROOT, ServedWorld, settings
from wire import SimulatedCarrier, TcpCarrier

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
        device["protocols"]["dnp3"].update(select_timeout_s=SELECT_TIMEOUT_S, confirm_timeout_s=CONFIRM_TIMEOUT_S,
                                         unsolicited=unsolicited)
        device["allow_protection_writes"] = True  # so an analog output can succeed (the case is the protocol's)
    path = folder / "dnp3_conformance.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def simulated(folder: Path) -> SimulatedCarrier:
    """Octets through the simulated comm network from the control centre's node to the recloser's."""
    return SimulatedCarrier(conformance_scenario(folder), "scada", "recloser_radio", "dnp3")


def served_world(folder: Path, unsolicited: bool = True) -> ServedWorld:
    """The conformance scenario paced to the wall clock, its outstations on a free loopback port (started)."""
    from cosim.hil.config import Dnp3ServeConfig

    served = ServedWorld(None, settings(dnp3=Dnp3ServeConfig(port=0)), duration_s=120.0,
                         scenario_path=conformance_scenario(folder, unsolicited)).start()
    assert served.session.dnp3_server is not None
    return served


def tcp(folder: Path) -> TcpCarrier:
    """Octets over a TCP connection to the HIL DNP3 server (a free loopback port)."""
    served = served_world(folder)
    return TcpCarrier(served, served.session.dnp3_server.port)


TRANSPORTS: dict[str, Callable[[Path], Any]] = {"simulated": simulated, "tcp": tcp}
