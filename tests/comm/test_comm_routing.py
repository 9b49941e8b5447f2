"""Routing: latency-shortest against networkx, deterministic, repaired incrementally, memory by use.

Reference: networkx's Dijkstra (an independent implementation) on the same
graph with the same link costs, over up links only. The networks mix the
shapes utility networks have: a meshed core (WAN routers), stars and trees
hanging from it (collectors with meters, RTUs behind a router), chains.
"""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest

from cosim.comm import CommNetwork, Delay
from cosim.kernel import World


def utility_network(seed: int, core: int = 8, extra_core_links: int = 6, leaves: int = 60) -> CommNetwork:
    """A random meshed core with trees and stars hanging from it; latencies drawn per link."""
    rnd = random.Random(seed)
    network = CommNetwork(World(seed=seed), trace=False)
    names = [f"core{i}" for i in range(core)]
    for name in names:
        network.add_node(name)

    def link(a: str, b: str) -> None:
        latency = rnd.choice([0.001, 0.002, 0.005, 0.01]) * rnd.choice([1, 1, 2, 3])
        network.add_link(a, b, Delay.fixed(latency), rnd.choice([1e6, 10e6, 100e6]))

    for i in range(1, core):  # a spanning tree of the core, then chords: cycles and equal-cost ties
        link(names[i], names[rnd.randrange(i)])
    pairs = [p for p in itertools.combinations(names, 2) if p[1] not in network.nodes[p[0]].links]
    for a, b in rnd.sample(pairs, min(extra_core_links, len(pairs))):
        link(a, b)
    hanging = list(names)
    for i in range(leaves):
        node = f"n{i:03d}"
        network.add_node(node)
        link(node, rnd.choice(hanging))
        hanging.append(node)
    return network


def reference_graph(network: CommNetwork) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(network.nodes)
    for link in network.links.values():
        if link.up:
            graph.add_edge(link.a, link.b, weight=link.latency.mean + 800.0 / link.bandwidth_bps)
    return graph


def path_cost(graph: nx.Graph, path: list[str]) -> float:
    return sum(graph.edges[a, b]["weight"] for a, b in itertools.pairwise(path))


def check_against_networkx(network: CommNetwork, pairs: list[tuple[str, str]]) -> None:
    graph = reference_graph(network)
    for src, dst in pairs:
        route = network.route(src, dst)
        if not nx.has_path(graph, src, dst):
            assert route is None, (src, dst, route)
            continue
        assert route is not None and route[0] == src and route[-1] == dst
        assert all(graph.has_edge(a, b) for a, b in itertools.pairwise(route)), route  # up links only
        best = nx.dijkstra_path_length(graph, src, dst)
        assert path_cost(graph, route) == pytest.approx(best, rel=1e-12, abs=0.0), (src, dst, route)


def sample_pairs(network: CommNetwork, count: int, seed: int) -> list[tuple[str, str]]:
    rnd = random.Random(seed)
    nodes = sorted(network.nodes)
    return [(rnd.choice(nodes), rnd.choice(nodes)) for _ in range(count)]


@pytest.mark.parametrize("seed", range(6))
def test_routes_are_latency_shortest_like_networkx(seed: int) -> None:
    network = utility_network(seed)
    check_against_networkx(network, sample_pairs(network, 300, seed))


@pytest.mark.parametrize("seed", range(6))
def test_repaired_routes_stay_shortest_and_equal_a_fresh_computation(seed: int) -> None:
    """Random outages and repairs; after each, cached routes equal those of a network built fresh."""
    network = utility_network(seed)
    pairs = sample_pairs(network, 200, seed + 100)
    for src, dst in pairs:
        network.route(src, dst)  # fill the caches before the first outage
    rnd = random.Random(seed)
    names = sorted(network.links)
    for _ in range(25):
        name = rnd.choice(names)
        if network.links[name].up:
            network.set_link_down(name)
        else:
            network.set_link_up(name)
        check_against_networkx(network, pairs)
        fresh = utility_network(seed)
        for link_name, link in network.links.items():
            if not link.up:
                fresh.set_link_down(link_name)
        assert [network.route(s, d) for s, d in pairs] == [fresh.route(s, d) for s, d in pairs]


def test_routes_do_not_depend_on_the_order_they_are_asked_for() -> None:
    """Equal-cost paths abound (a ring of identical links): the choice must be fixed by the rule, not history."""
    def ring() -> CommNetwork:
        network = CommNetwork(World(seed=1), trace=False)
        for i in range(12):
            network.add_node(f"r{i:02d}")
        for i in range(12):
            network.add_link(f"r{i:02d}", f"r{(i + 1) % 12:02d}", Delay.fixed(0.01), 1e6)
        network.add_link("r00", "r06", Delay.fixed(0.03), 1e6)  # ties with the three-hop ways round
        return network

    pairs = [(f"r{a:02d}", f"r{b:02d}") for a in range(12) for b in range(12)]
    forward, backward = ring(), ring()
    first = {pair: forward.route(*pair) for pair in pairs}
    second = {pair: backward.route(*pair) for pair in reversed(pairs)}
    assert first == second
    check_against_networkx(forward, pairs)
    # The rule: among equally short ways (six hops either way round), each node forwards to the
    # smallest-id neighbour on one.
    assert first[("r03", "r09")] == ["r03", "r02", "r01", "r00", "r11", "r10", "r09"]


def test_equal_cost_paths_found_in_either_order_break_on_the_smaller_node_id() -> None:
    """V reaches D in 0.75 s via a1 (0.25 + 0.5) or a2 (0.5 + 0.25), exactly (binary fractions).

    The search from D reaches V through a2 first; the rule still picks a1.
    """
    network = CommNetwork(World(seed=1), trace=False)
    for node in ("D", "V", "a1", "a2"):
        network.add_node(node)
    def cost(seconds: float) -> float:  # zero latency, so the cost is the 800-bit serialisation alone
        return 800.0 / seconds
    network.add_link("D", "a2", Delay.fixed(0.0), cost(0.25))
    network.add_link("a2", "V", Delay.fixed(0.0), cost(0.5))
    network.add_link("D", "a1", Delay.fixed(0.0), cost(0.5))
    network.add_link("a1", "V", Delay.fixed(0.0), cost(0.25))
    assert network.route("V", "D") == ["V", "a1", "D"]
    assert network.route("D", "V") == ["D", "a1", "V"]


def test_an_outage_drops_only_the_routes_across_it_and_repair_restores_the_shorter_way() -> None:
    network = CommNetwork(World(seed=1), trace=False)
    for node in ("ops", "wan1", "wan2", "wan3", "rtu1", "rtu2", "m1", "m2"):
        network.add_node(node)
    fixed = Delay.fixed
    network.add_link("ops", "wan1", fixed(0.001), 1e8)
    network.add_link("wan1", "wan2", fixed(0.005), 1e8, name="short")
    network.add_link("wan1", "wan3", fixed(0.006), 1e8)
    network.add_link("wan3", "wan2", fixed(0.006), 1e8)
    network.add_link("wan2", "rtu1", fixed(0.002), 1e7)
    network.add_link("wan2", "rtu2", fixed(0.002), 1e7)
    network.add_link("ops", "m1", fixed(0.002), 1e7, name="m1-link")
    network.add_link("m1", "m2", fixed(0.002), 1e7)
    router = network.router
    assert network.route("rtu1", "ops") == ["rtu1", "wan2", "wan1", "ops"]
    assert network.route("m2", "ops") == ["m2", "m1", "ops"]
    searches = router.searches
    network.set_link_down("short")
    assert ("m2", "ops") in set(router.cached_pairs())  # did not cross the link: kept
    assert ("rtu1", "ops") not in set(router.cached_pairs())
    assert network.route("rtu1", "ops") == ["rtu1", "wan2", "wan3", "wan1", "ops"]
    assert router.searches == searches + 1
    network.set_link_up("short")
    assert network.route("rtu1", "ops") == ["rtu1", "wan2", "wan1", "ops"]
    network.set_link_down("m1-link")  # a bridge: no other way
    assert network.route("m2", "ops") is None
    assert network.route("rtu2", "ops") == ["rtu2", "wan2", "wan1", "ops"]
    network.set_link_up("m1-link")
    assert network.route("m2", "ops") == ["m2", "m1", "ops"]


def test_a_star_of_thousands_needs_no_search_and_keeps_only_the_pairs_used() -> None:
    """A SCADA master behind a router with 3,000 RTUs: a tree, so no core search, one tuple per used pair."""
    network = CommNetwork(World(seed=1), trace=False)
    network.add_node("master")
    network.add_node("router")
    network.add_link("master", "router", Delay.fixed(0.001), 1e8)
    for i in range(3000):
        network.add_node(f"rtu{i}")
        network.add_link("router", f"rtu{i}", Delay.lognormal(0.03, 0.4), 5e6)
    for i in range(0, 3000, 10):
        assert network.route("master", f"rtu{i}") == ["master", "router", f"rtu{i}"]
        assert network.route(f"rtu{i}", "master") == [f"rtu{i}", "router", "master"]
    assert network.router.searches == 0
    assert len(list(network.router.cached_pairs())) == 600
    check_against_networkx(network, sample_pairs(network, 100, 3))


def test_a_message_in_flight_takes_the_new_way_when_a_link_fails_ahead_of_it(world) -> None:
    network = CommNetwork(world)
    for node in ("a", "b", "c", "d"):
        network.add_node(node)
    network.add_link("a", "b", Delay.fixed(0.010), 1e6)
    network.add_link("b", "c", Delay.fixed(0.010), 1e6, name="b-c")
    network.add_link("c", "d", Delay.fixed(0.010), 1e6)
    network.add_link("b", "d", Delay.fixed(0.050), 1e6)
    arrived = []
    network.attach("d", "test", arrived.append)
    msg = network.send("a", "d", "test", b"x", 10)
    world.env.run(until=0.005)  # on the first hop a-b
    network.set_link_down("b-c")
    world.env.run(until=1.0)
    assert arrived == [msg] and msg.path == ["a", "b", "d"]
