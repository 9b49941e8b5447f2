"""Helpers shared by the communication-layer tests (a unique module name: tests/grid has a conftest too)."""

from __future__ import annotations

from typing import Any, Generator

from cosim.comm import CommNetwork, Delay
from cosim.kernel import World


def run_process(world: World, gen: Generator[Any, Any, Any], until_s: float = 1e6) -> Any:
    """Run ``gen`` as a process to completion and return its value (re-raising its exception)."""
    process = world.process(gen)
    world.env.run(until=process)
    return process.value


def chain(world: World, *nodes: str, latency_s: float = 0.01, bandwidth_bps: float = 1e6,
          loss: float = 0.0) -> CommNetwork:
    """A network of ``nodes`` linked in a line with identical fixed-latency links."""
    network = CommNetwork(world)
    for node in nodes:
        network.add_node(node)
    for a, b in zip(nodes, nodes[1:]):
        network.add_link(a, b, Delay.fixed(latency_s), bandwidth_bps, loss=loss)
    return network


