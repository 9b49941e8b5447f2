"""Topology processing: islands from branch and switch states, sources, slack choice.

An island is a set of buses joined by closed branches
(``scipy.sparse.csgraph.connected_components``). It is energised when it holds
an in-service generator; DER follow the grid and cannot energise an island
alone. Each energised island gets one slack bus: the designated slack
(``Buses.is_slack``) if it has an in-service generator there, else the bus of
the island's largest voltage-controlling generator (by ``p_max_mw``, or
``mbase_mva`` when P max is unlimited), else its largest generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from cosim.grid.network import BoolArray, IntArray, Network


@dataclass(frozen=True)
class Topology:
    """Result of topology processing.

    ``island[b]`` labels each bus; ``slack_bus[k]`` is the slack of island k,
    or -1 when island k has no source (de-energised); ``slack_gen[k]`` is the
    generator that balances island k (-1 likewise).
    """

    branch_closed: BoolArray
    island: IntArray
    slack_bus: IntArray
    slack_gen: IntArray
    energised: BoolArray

    @property
    def n_islands(self) -> int:
        return len(self.slack_bus)

    def energised_islands(self) -> IntArray:
        return np.flatnonzero(self.slack_bus >= 0)


def analyse(network: Network) -> Topology:
    """Islands, energised buses and slack buses for the network's present states."""
    n = network.n_bus
    closed = network.branch_closed()
    br = network.branches
    graph = sp.coo_matrix((np.ones(int(closed.sum())), (br.from_bus[closed], br.to_bus[closed])),
                          shape=(n, n))
    n_islands, island = connected_components(graph, directed=False)
    island = island.astype(np.int64)

    gen = network.generators
    g_on = np.flatnonzero(gen.in_service)
    g_bus = gen.bus[g_on]
    size = np.where(np.isfinite(gen.p_max_mw[g_on]), gen.p_max_mw[g_on], gen.mbase_mva[g_on])
    designated = network.buses.is_slack[g_bus]
    controls = gen.voltage_control[g_on]
    g_island = island[g_bus]
    # Sort by island, then designated slack first, then voltage-controlling, then
    # largest, then table order.
    order = np.lexsort((np.arange(len(g_on)), -size, ~controls, ~designated, g_island))
    first = np.ones(len(order), dtype=bool)
    first[1:] = g_island[order][1:] != g_island[order][:-1]
    slack_bus = np.full(n_islands, -1, dtype=np.int64)
    slack_gen = np.full(n_islands, -1, dtype=np.int64)
    slack_bus[g_island[order][first]] = g_bus[order][first]
    slack_gen[g_island[order][first]] = g_on[order][first]
    energised = slack_bus[island] >= 0
    return Topology(branch_closed=closed, island=island, slack_bus=slack_bus,
                    slack_gen=slack_gen, energised=energised)
