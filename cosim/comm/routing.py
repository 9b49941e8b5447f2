"""Latency-shortest routes, computed for the (source, destination) pairs actually used.

Cost follows the topology and the traffic, not N^2. Most utility networks are
trees or stars (meters under a collector, RTUs under a router) around a small
meshed core (the WAN). The graph is split once, over all links up or down:

* **hanging trees**: peel nodes of degree 1 until none is left. Each peeled
  node keeps its one remaining neighbour as ``parent``; the link to it is a
  bridge, so the path through it is the only one there is. A node with one
  link has one route.
* **the core**: what no peeling removes (the 2-core, where paths can differ).
  Each node's ``anchor`` is the core node its hanging tree hangs from. A
  component that is a tree has no core: its last peeled node is its anchor.

A route from ``s`` to ``d`` is then the climb from ``s`` to its anchor, the
shortest core path between the anchors, and the descent to ``d`` (or, in one
hanging tree, the path through the lowest common ancestor). Only the core
part needs a search: Dijkstra from the destination's anchor over up core
links, stopped as soon as the source's anchor is settled.

Link cost: mean latency plus the serialisation of a nominal 100-byte message.
Ties between equally short core paths break on node id: each core node
forwards to the neighbour with the smallest id among those on a shortest
path (the search runs from the destination, as a distance-vector protocol
would), so routes do not depend on the order in which they were asked for.

Memory is one tuple per pair asked for and per anchor pair searched, plus
indexes from each link to the routes that cross it. Repairs are incremental:
a link going down drops only the routes that cross it; a core link coming up
drops only core routes that are missing or not shorter than the link itself
(the only ones it could improve or tie); a hanging-tree link coming up
needs nothing (no route was cached across it while it was down).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Protocol

Pair = tuple[str, str]
Route = tuple[str, ...]

NOMINAL_MESSAGE_BITS = 800.0  # a 100-byte message: what the serialisation part of a link's cost assumes


class RoutedLink(Protocol):
    """What routing needs of a link (read only)."""

    @property
    def name(self) -> str: ...
    @property
    def a(self) -> str: ...
    @property
    def b(self) -> str: ...
    @property
    def down_count(self) -> int: ...
    @property
    def route_cost_s(self) -> float: ...


class RoutedNode(Protocol):
    @property
    def links(self) -> Mapping[str, RoutedLink]: ...  # neighbour id -> link


class Router:
    """Routes over ``nodes`` (id -> node with ``links``); call :meth:`topology_changed` after adding."""

    def __init__(self, nodes: Mapping[str, RoutedNode]) -> None:
        self._nodes = nodes
        self._parent: dict[str, str] | None = None  # hanging node -> neighbour towards its anchor
        self._anchor: dict[str, str] = {}
        self._depth: dict[str, int] = {}
        self._core: set[str] = set()
        self._pairs: dict[Pair, Route] = {}
        self._pairs_by_link: dict[str, set[Pair]] = {}
        self._core_paths: dict[Pair, tuple[Route | None, float]] = {}
        self._core_by_link: dict[str, set[Pair]] = {}
        self._pairs_by_core: dict[Pair, set[Pair]] = {}
        self.searches = 0  # core searches run (for tests and benchmarks)

    # -- topology --------------------------------------------------------------------
    def topology_changed(self) -> None:
        """A node or link was added: the split and every cached route are rebuilt lazily."""
        self._parent = None
        self._pairs.clear()
        self._pairs_by_link.clear()
        self._core_paths.clear()
        self._core_by_link.clear()
        self._pairs_by_core.clear()

    def link_down(self, link: RoutedLink) -> None:
        """``link`` went down: forget the routes that cross it."""
        for pair in self._pairs_by_link.pop(link.name, ()):
            self._pairs.pop(pair, None)
        for core_pair in self._core_by_link.pop(link.name, ()):
            self._forget_core(core_pair)

    def link_up(self, link: RoutedLink) -> None:
        """``link`` came up: forget the core routes it could shorten (or tie) and the missing ones."""
        if self._parent is None or link.a not in self._core or link.b not in self._core:
            return  # a hanging-tree link: routes across it were never cached while it was down
        stale = [pair for pair, (_, cost) in self._core_paths.items() if cost >= link.route_cost_s]
        for core_pair in stale:
            self._forget_core(core_pair)

    def _forget_core(self, core_pair: Pair) -> None:
        self._core_paths.pop(core_pair, None)
        for pair in self._pairs_by_core.pop(core_pair, ()):
            self._pairs.pop(pair, None)

    def _split(self) -> None:
        """Peel degree-1 nodes (over all links) into hanging trees; the rest is the core."""
        nodes = self._nodes
        degree = {node_id: len(node.links) for node_id, node in nodes.items()}
        parent: dict[str, str] = {}
        peeled: list[str] = []
        removed: set[str] = set()
        queue = [node_id for node_id in sorted(nodes) if degree[node_id] <= 1]
        head = 0
        while head < len(queue):
            node_id = queue[head]
            head += 1
            removed.add(node_id)
            peeled.append(node_id)
            remaining = [n for n in nodes[node_id].links if n not in removed]
            if not remaining:
                continue  # the last node of a tree component: its anchor
            [up] = remaining
            parent[node_id] = up
            degree[up] -= 1
            if degree[up] == 1:
                queue.append(up)
        core = {node_id for node_id in nodes if node_id not in removed}
        anchor: dict[str, str] = {node_id: node_id for node_id in core}
        depth: dict[str, int] = {node_id: 0 for node_id in core}
        for node_id in reversed(peeled):  # parents were peeled after their children
            towards = parent.get(node_id)
            if towards is None:
                anchor[node_id], depth[node_id] = node_id, 0
                core.add(node_id)  # a tree component's root behaves as a one-node core
            else:
                anchor[node_id], depth[node_id] = anchor[towards], depth[towards] + 1
        self._parent, self._anchor, self._depth, self._core = parent, anchor, depth, core

    # -- routes ----------------------------------------------------------------------
    def route(self, src: str, dst: str) -> Route | None:
        """The node path from ``src`` to ``dst`` over up links, or None; cached per pair."""
        pair = (src, dst)
        cached = self._pairs.get(pair)
        if cached is not None:
            return cached
        if self._parent is None:
            self._split()
        route, core_pair = self._compute(src, dst)
        if route is None:
            return None  # not cached: a link coming up anywhere on the way may restore it
        self._pairs[pair] = route
        nodes = self._nodes
        for a, b in pairwise(route):
            self._pairs_by_link.setdefault(nodes[a].links[b].name, set()).add(pair)
        if core_pair is not None:
            self._pairs_by_core.setdefault(core_pair, set()).add(pair)
        return route

    def _compute(self, src: str, dst: str) -> tuple[Route | None, Pair | None]:
        if src == dst:
            return (src,), None
        anchor_src, anchor_dst = self._anchor[src], self._anchor[dst]
        if anchor_src == anchor_dst:
            route = self._tree_path(src, dst)
            core_pair = None
        else:
            core_pair = (anchor_src, anchor_dst)
            core = self._core_path(anchor_src, anchor_dst)
            if core is None:
                return None, core_pair
            up = self._climb(src, anchor_src)
            down = self._climb(dst, anchor_dst)
            route = tuple(up[:-1]) + core + tuple(reversed(down[:-1]))
        if route is None or not self._tree_links_up(route):
            return None, core_pair
        return route, core_pair

    def _climb(self, node: str, to: str) -> list[str]:
        parent = self._parent
        assert parent is not None
        path = [node]
        while node != to:
            node = parent[node]
            path.append(node)
        return path

    def _tree_path(self, src: str, dst: str) -> Route:
        """The unique path between two nodes of one hanging tree (through their lowest common ancestor)."""
        parent, depth = self._parent, self._depth
        assert parent is not None
        up, down = [src], [dst]
        a, b = src, dst
        while depth[a] > depth[b]:
            a = parent[a]
            up.append(a)
        while depth[b] > depth[a]:
            b = parent[b]
            down.append(b)
        while a != b:
            a, b = parent[a], parent[b]
            up.append(a)
            down.append(b)
        return tuple(up) + tuple(reversed(down[:-1]))

    def _tree_links_up(self, route: Route) -> bool:
        nodes = self._nodes
        return all(not nodes[a].links[b].down_count for a, b in pairwise(route))

    def _core_path(self, src: str, dst: str) -> Route | None:
        """Shortest path between two core nodes over up core links, cached per pair."""
        key = (src, dst)
        cached = self._core_paths.get(key)
        if cached is None:
            cached = self._core_paths[key] = self._search(src, dst)
            path = cached[0]
            if path is not None:
                nodes = self._nodes
                for a, b in pairwise(path):
                    self._core_by_link.setdefault(nodes[a].links[b].name, set()).add(key)
        return cached[0]

    def _search(self, src: str, dst: str) -> tuple[Route | None, float]:
        """Dijkstra from ``dst`` over up core links until ``src`` is settled; ties on node id.

        A node's next hop is fixed when it is settled (every neighbour that
        could offer an equal distance was settled before it), so stopping at
        ``src`` gives the path a full tree towards ``dst`` would.
        """
        self.searches += 1
        nodes, core = self._nodes, self._core
        nxt: dict[str, str] = {}
        dist = {dst: 0.0}
        heap: list[tuple[float, str]] = [(0.0, dst)]
        done: set[str] = set()
        while heap:
            d, node = heapq.heappop(heap)
            if node in done:
                continue
            done.add(node)
            if node == src:
                path = [src]
                while path[-1] != dst:
                    path.append(nxt[path[-1]])
                return tuple(path), d
            for neighbour, link in nodes[node].links.items():
                if link.down_count or neighbour in done or neighbour not in core:
                    continue
                nd = d + link.route_cost_s
                old = dist.get(neighbour)
                if old is None or nd < old or (nd == old and node < nxt[neighbour]):
                    dist[neighbour] = nd
                    nxt[neighbour] = node
                    heapq.heappush(heap, (nd, neighbour))
        return None, math.inf

    # -- for tests and benchmarks --------------------------------------------------------
    def cached_pairs(self) -> Iterable[Pair]:
        return self._pairs.keys()

    def core_size(self) -> int:
        if self._parent is None:
            self._split()
        return len(self._core)
