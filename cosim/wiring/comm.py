"""The communication network of a scenario inside a World."""

from __future__ import annotations

from ..comm import CommNetwork, build_network
from ..kernel import World
from ..scenario import Scenario

SERVICE = "comm"


def attach_comm(world: World, scenario: Scenario) -> CommNetwork | None:
    """Build the scenario's network and register it as the world's ``comm`` service.

    The runner calls ``finish()`` on it before the recorder closes, so the
    per-link statistics are written even when the run fails.
    """
    if scenario.comm is None:
        return None
    network = build_network(world, scenario.comm)
    world.add_service(SERVICE, network)
    return network
