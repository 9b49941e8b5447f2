"""The simulated communication network: nodes, links, routing and the message path.

A message is handed to :meth:`CommNetwork.send` at its source node and moves
hop by hop along the shortest route (by mean link latency, over links that are
up; a message in flight when a link changes state takes the route from where
it is then). Routes come from :class:`~cosim.comm.routing.Router`, computed
for the pairs actually used. On each hop it waits for the link direction to be free
(FIFO, one message at a time per direction), is serialised at the link
bandwidth, may be lost (Bernoulli, the link's own random stream), and arrives
after the drawn latency plus jitter. Arrivals on one direction of a link keep
their order, as on a real FIFO link.

Cost per hop: one SimPy event (a Timeout whose callback moves the message on),
so a million messages over two hops is about two million events. Delivery
calls the handler attached at the destination node for the message's protocol
from that callback; handlers must not block (start a process if they need to).

Every message ends as one row of ``messages.csv`` (delivered or dropped and
why) and feeds per-link statistics (``link_stats.csv`` at :meth:`finish`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Callable, Generator, Protocol

import simpy
from simpy.events import Timeout

from .profiles import Delay
from .routing import NOMINAL_MESSAGE_BITS, Router
from .trace import LinkStats, MessageTrace, NetworkStatistics

if TYPE_CHECKING:
    from cosim.kernel import World

Handler = Callable[["Message"], None]


class DropReason:
    """Why a message did not arrive (the ``reason`` column of the trace)."""

    NO_ROUTE = "no_route"            # no path of up links from here to the destination
    LINK_DOWN = "link_down"          # next link of its route is in an outage
    LOST = "lost"                    # lost on a link (loss probability)
    OUTAGE_IN_FLIGHT = "outage_in_flight"  # link went down while the message was on it
    NO_ENDPOINT = "no_endpoint"      # arrived, but nothing listens for this protocol there
    UNKNOWN_NODE = "unknown_node"
    NOT_RETURNED = "not_returned"    # handed to an external network simulator, which had not delivered it by the end


class KeepAlives(enum.Enum):
    """How messages that carry no information (MQTT PINGREQ/PINGRESP) cross the network.

    ``SIMULATE``: each is a message like any other (a trace row, link
    occupancy, latency and loss draws). ``ACCOUNT``: where every link of the
    way is up, each is counted (per-link sent/delivered/lost/bytes,
    ``NetworkStatistics.accounted``) and takes effect after the mean latency
    of the way, without events or latency draws; its loss is drawn from the
    links' loss streams, and only a lost one gets a trace row. Where a link
    is down it is simulated. docs/comm.md says when that is exact.
    """

    SIMULATE = "simulate"
    ACCOUNT = "account"


class Message:
    """One message on the network. Receivers treat it as read-only.

    A plain slotted class rather than a frozen dataclass: the network fills in
    the path and outcome as the message moves, on the hot path.
    """

    __slots__ = ("msg_id", "protocol", "kind", "src", "dst", "payload", "size_bytes", "info",
                 "sent_s", "left_s", "done_s", "path", "status", "reason", "_link", "_epoch", "_entered_s",
                 "_route", "_hop", "_routing")

    def __init__(self, msg_id: int, protocol: str, kind: str, src: str, dst: str, payload: Any,
                 size_bytes: int, info: str, sent_s: float) -> None:
        self.msg_id = msg_id
        self.protocol = protocol
        self.kind = kind
        self.src = src
        self.dst = dst
        self.payload = payload
        self.size_bytes = size_bytes
        self.info = info
        self.sent_s = sent_s
        self.left_s = sent_s   # when its last byte left the source (after queueing and serialisation on the first link)
        self.done_s = sent_s
        self.path = [src]
        self.status = "in_flight"
        self.reason = ""
        self._link: Link | None = None
        self._epoch = 0
        self._entered_s = 0.0
        self._route: tuple[str, ...] | None = None  # planned node path from the node at _route[0]
        self._hop = 0  # index in _route of the node the message is at
        self._routing = -1  # routing version the plan was made under

    @property
    def latency_s(self) -> float:
        return self.done_s - self.sent_s

    def __repr__(self) -> str:
        return (f"Message({self.msg_id} {self.protocol}/{self.kind} {self.src}->{self.dst} "
                f"{self.size_bytes}B {self.status}{' ' + self.reason if self.reason else ''})")


class _Draws:
    """Batched draws from one random stream: numpy is fast per array, slow per scalar.

    Batches start small and double (to 4096), so ten thousand rarely used
    links do not each hold thousands of pre-drawn numbers.
    """

    __slots__ = ("_draw", "_buf", "_i", "_n")

    def __init__(self, draw: Callable[[int], Any]) -> None:
        self._draw = draw
        self._buf: list[float] = []
        self._i = 0
        self._n = 8

    def next(self) -> float:
        i = self._i
        if i >= len(self._buf):
            self._buf = self._draw(self._n).tolist()
            self._n = min(self._n * 2, 4096)
            i = 0
        self._i = i + 1
        return self._buf[i]


class ExternalCarrier(Protocol):
    """Carries messages across a link on behalf of another simulator (a network simulator federate).

    ``carry`` is called at the simulated time ``msg`` enters the link at
    ``from_node``; the carrier later calls :meth:`CommNetwork.external_arrival`
    at the time it reaches ``to_node``, or never if it was lost there.
    """

    def carry(self, msg: Message, from_node: str, to_node: str) -> None: ...


class _Direction:
    __slots__ = ("busy_until", "last_arrival")

    def __init__(self) -> None:
        self.busy_until = 0.0
        self.last_arrival = 0.0


@dataclass
class Link:
    """A bidirectional link; each direction queues on its own."""

    name: str
    a: str
    b: str
    latency: Delay
    jitter_s: float
    bandwidth_bps: float
    loss: float
    overhead_bytes: int
    profile: str | None = None
    down_count: int = 0
    epoch: int = 0  # bumped at each outage start: messages in flight across it are dropped
    stats: LinkStats = field(default_factory=lambda: LinkStats(""))
    _dirs: dict[str, _Direction] = field(default_factory=dict)
    _latency_draws: _Draws | None = None
    _jitter_draws: _Draws | None = None
    _loss_draws: _Draws | None = None
    _fixed_latency: float = 0.0
    route_cost_s: float = 0.0  # routing metric: mean latency + serialisation of a nominal 100-byte message
    carrier: ExternalCarrier | None = None  # another simulator carries this link's messages (cosim.coupling)

    @property
    def up(self) -> bool:
        return self.down_count == 0

    def other(self, node: str) -> str:
        return self.b if node == self.a else self.a


class Node:
    """An endpoint or relay of the network; ``actor`` names who owns it in the scenario."""

    __slots__ = ("node_id", "actor", "links")

    def __init__(self, node_id: str, actor: str | None = None) -> None:
        self.node_id = node_id
        self.actor = actor
        self.links: dict[str, Link] = {}  # neighbour id -> link


class CommNetwork:
    """Nodes, links and the message path of one World (registered as service ``"comm"``)."""

    def __init__(self, world: World, trace: bool = True, keep_alives: KeepAlives = KeepAlives.SIMULATE) -> None:
        self.world = world
        self.keep_alives = keep_alives
        self.env: simpy.Environment = world.env
        self.nodes: dict[str, Node] = {}
        self.links: dict[str, Link] = {}
        self._handlers: dict[tuple[str, str], Handler] = {}
        self.router = Router(self.nodes)
        self._routing = 0  # bumped at every change of a link's state: plans in flight are re-made
        self._next_id = 0
        self.trace = MessageTrace(world.recorder, enabled=trace)
        self.services: dict[str, Any] = {}  # per-protocol helpers (modbus ports, mqtt brokers)
        self._link_down_listeners: list[Callable[[], None]] = []
        self._finished: NetworkStatistics | None = None

    # -- building --------------------------------------------------------------
    def add_node(self, node_id: str, actor: str | None = None) -> Node:
        if node_id in self.nodes:
            raise ValueError(f"node {node_id!r} already exists")
        node = self.nodes[node_id] = Node(node_id, actor)
        self.router.topology_changed()
        return node

    def add_link(self, a: str, b: str, latency: Delay, bandwidth_bps: float, *, jitter_s: float = 0.0,
                 loss: float = 0.0, overhead_bytes: int = 0, name: str | None = None,
                 profile: str | None = None) -> Link:
        """Connect nodes ``a`` and ``b``. Raises ValueError for unknown nodes or a duplicate link."""
        for end in (a, b):
            if end not in self.nodes:
                raise ValueError(f"link {a}-{b}: unknown node {end!r}")
        if a == b:
            raise ValueError(f"link {a}-{b}: a link joins two different nodes")
        if b in self.nodes[a].links:
            raise ValueError(f"link {a}-{b}: nodes already linked")
        if bandwidth_bps <= 0 or not 0.0 <= loss <= 1.0 or jitter_s < 0:
            raise ValueError(f"link {a}-{b}: need bandwidth_bps > 0, 0 <= loss <= 1, jitter_s >= 0")
        name = name or f"{a}--{b}"
        if name in self.links:
            raise ValueError(f"link name {name!r} already used")
        link = Link(name, a, b, latency, jitter_s, bandwidth_bps, loss, overhead_bytes, profile)
        link.route_cost_s = latency.mean + NOMINAL_MESSAGE_BITS / bandwidth_bps
        link.stats = LinkStats(name)
        link._dirs = {a: _Direction(), b: _Direction()}  # keyed by the sending end
        rng = self.world.rng
        # Each link draws from its own named streams: adding a link never changes another's draws.
        if latency.is_random:
            link._latency_draws = _Draws(partial(latency.sample, rng(f"comm/link/{name}/latency")))
        else:
            link._fixed_latency = latency.value_s
        if jitter_s > 0:
            link._jitter_draws = _Draws(partial(rng(f"comm/link/{name}/jitter").uniform, 0.0, jitter_s))
        if loss > 0:
            link._loss_draws = _Draws(rng(f"comm/link/{name}/loss").random)
        self.links[name] = link
        self.nodes[a].links[b] = link
        self.nodes[b].links[a] = link
        self.router.topology_changed()
        return link

    def attach(self, node_id: str, protocol: str, handler: Handler) -> None:
        """Call ``handler(message)`` for each ``protocol`` message arriving at ``node_id``.

        One handler per node and protocol; it runs inside a SimPy callback at
        the arrival time and must not block. It may set ``message.status`` to
        ``"rejected"`` and ``message.reason`` (e.g. a failed schema check); the
        trace row is written after it returns.
        """
        if node_id not in self.nodes:
            raise ValueError(f"unknown node {node_id!r}")
        key = (node_id, protocol)
        if key in self._handlers:
            raise ValueError(f"node {node_id!r} already has a {protocol} endpoint")
        self._handlers[key] = handler

    def on_link_down(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after each link goes down (routes already updated).

        This is how an endpoint keeping a connection (an MQTT broker) learns
        that a connection may have lost its last path, as a TCP stack learns
        from its interface or an ICMP unreachable, without polling.
        """
        self._link_down_listeners.append(listener)

    # -- outages ---------------------------------------------------------------
    def set_link_down(self, name: str, cause: str = "outage") -> None:
        """Start an outage (nestable: the link is up again when every outage has ended)."""
        link = self.links[name]
        link.down_count += 1
        if link.down_count == 1:
            link.epoch += 1
            link.stats.outages += 1
            self._routing += 1
            self.router.link_down(link)
            self.world.log("comm.link_down", link=name, cause=cause)
            for listener in self._link_down_listeners:
                listener()

    def set_link_up(self, name: str, cause: str = "outage") -> None:
        link = self.links[name]
        if link.down_count == 0:
            raise ValueError(f"link {name!r} is not down")
        link.down_count -= 1
        if link.down_count == 0:
            self._routing += 1
            self.router.link_up(link)
            self.world.log("comm.link_up", link=name, cause=cause)

    def schedule_outage(self, name: str, start_s: float, duration_s: float) -> None:
        """Take link ``name`` down from ``start_s`` for ``duration_s`` (simulated seconds)."""
        def outage() -> Generator[simpy.Event, Any, None]:
            yield self.env.timeout(max(0.0, start_s - self.env.now))
            self.set_link_down(name, "scheduled")
            yield self.env.timeout(duration_s)
            self.set_link_up(name, "scheduled")
        self.env.process(outage())

    def random_outages(self, name: str, mtbf_s: float, mttr_s: float) -> None:
        """Alternate exponential up times (mean ``mtbf_s``) and repair times (mean ``mttr_s``)."""
        stream = self.world.rng(f"comm/link/{name}/outage")

        def failures() -> Generator[simpy.Event, Any, None]:
            while True:
                yield self.env.timeout(float(stream.exponential(mtbf_s)))
                self.set_link_down(name, "random")
                yield self.env.timeout(float(stream.exponential(mttr_s)))
                self.set_link_up(name, "random")
        self.env.process(failures())

    # -- routing ---------------------------------------------------------------
    def route(self, src: str, dst: str) -> list[str] | None:
        """The node path a message sent now would take, or None if there is none."""
        if src not in self.nodes or dst not in self.nodes:
            return None
        route = self.router.route(src, dst)
        return list(route) if route is not None else None

    # -- messages accounted, not simulated -------------------------------------------
    def accountable_latency_s(self, src: str, dst: str) -> float | None:
        """Mean one-way time of a small message from ``src`` to ``dst`` if it may be accounted, else None.

        It may be when there is a route and every link of it is up (a lossy
        link is fine: :meth:`draw_loss` decides the message's fate from the
        links' own loss streams). The time is the sum of the links' mean
        latencies, mean jitter and serialisation of a nominal 100-byte
        message (what routing also assumes).
        """
        if src not in self.nodes or dst not in self.nodes:
            return None
        route = self.router.route(src, dst)
        if route is None:
            return None
        nodes = self.nodes
        total = 0.0
        for a, b in pairwise(route):
            link = nodes[a].links[b]
            if link.down_count or link.carrier is not None:
                return None
            total += link.route_cost_s + link.jitter_s / 2.0
        return total

    def draw_loss(self, src: str, dst: str) -> int | None:
        """Whether an accounted message from ``src`` to ``dst`` is lost: the index of the link that loses it, or None.

        Each link of the way draws from its own loss stream, in order, with
        its own probability, until one loses the message: the draws a
        simulated message would make. Call only after
        :meth:`accountable_latency_s` said the way may be accounted.
        """
        route = self.router.route(src, dst)
        assert route is not None, "draw_loss() without accountable_latency_s()"
        nodes = self.nodes
        for hop, (a, b) in enumerate(pairwise(route)):
            link = nodes[a].links[b]
            if link._loss_draws is not None and link._loss_draws.next() < link.loss:
                return hop
        return None

    def account(self, src: str, dst: str, protocol: str, size_bytes: int, kind: str, *,
                lost_at: int | None = None, info: str = "") -> None:
        """Count a message along the route from ``src`` to ``dst`` without simulating it.

        Call only after :meth:`accountable_latency_s` said it may be;
        ``lost_at`` is what :meth:`draw_loss` drew. Each link up to the one
        that lost it counts it as sent and delivered with its bytes (no
        latency sample); a delivered message is counted under the trace's
        ``accounted`` (no row), a lost one gets its ``dropped``/``lost`` row,
        as a simulated one would, with the path it took.
        """
        route = self.router.route(src, dst)
        assert route is not None, "account() without accountable_latency_s()"
        nodes = self.nodes
        for hop, (a, b) in enumerate(pairwise(route)):
            stats = nodes[a].links[b].stats
            stats.sent += 1
            stats.bytes += size_bytes
            if hop == lost_at:
                stats.lost += 1
                self._next_id += 1
                msg = Message(self._next_id, protocol, kind, src, dst, None, size_bytes, info, self.env._now)
                msg.path = list(route[:hop + 2])
                self._drop(msg, DropReason.LOST)
                return
            stats.delivered += 1
        self.trace.account(protocol, kind)

    # -- the message path ---------------------------------------------------------
    def send(self, src: str, dst: str, protocol: str, payload: Any, size_bytes: int, *,
             kind: str = "", info: str = "") -> Message:
        """Send a message now; returns it (its fate is known once it is delivered or dropped).

        ``size_bytes`` is the application message size (a Modbus ADU, an MQTT
        packet); each link adds its own ``overhead_bytes``. Never raises for
        an unreachable destination: the message is dropped and traced.
        """
        self._next_id += 1
        msg = Message(self._next_id, protocol, kind, src, dst, payload, size_bytes, info, self.env._now)
        if src not in self.nodes or dst not in self.nodes:
            self._drop(msg, DropReason.UNKNOWN_NODE)
        elif src == dst:
            event = Timeout(self.env, 0.0, msg)
            event.callbacks.append(self._arrive_local)
        else:
            self._forward(msg, src)
        return msg

    def _forward(self, msg: Message, node: str) -> None:
        route = msg._route
        if route is None or msg._routing != self._routing:
            # First hop, or a link changed state since the plan was made: plan again from here.
            route = msg._route = self.router.route(node, msg.dst)
            msg._routing = self._routing
            msg._hop = 0
            if route is None:
                self._drop(msg, DropReason.NO_ROUTE)
                return
        msg._hop += 1
        nxt = route[msg._hop]
        link = self.nodes[node].links[nxt]
        stats = link.stats
        if link.down_count:
            stats.dropped_down += 1
            self._drop(msg, DropReason.LINK_DOWN)
            return
        now = self.env._now
        if link.carrier is not None:
            # Another simulator decides when (and whether) it reaches the far end: see carry_externally.
            stats.sent += 1
            stats.bytes += msg.size_bytes
            msg.path.append(nxt)
            msg._link = link
            msg._epoch = link.epoch
            msg._entered_s = now
            link.carrier.carry(msg, node, nxt)
            return
        direction = link._dirs[node]
        start = direction.busy_until if direction.busy_until > now else now
        end = start + (msg.size_bytes + link.overhead_bytes) * 8.0 / link.bandwidth_bps
        direction.busy_until = end
        if msg._hop == 1:
            msg.left_s = end
        stats.sent += 1
        stats.bytes += msg.size_bytes
        if link._loss_draws is not None and link._loss_draws.next() < link.loss:
            # Lost on the wire: it still occupied the link while being sent.
            stats.lost += 1
            msg.path.append(nxt)
            self._drop(msg, DropReason.LOST)
            return
        arrival = end + (link._latency_draws.next() if link._latency_draws is not None else link._fixed_latency)
        if link._jitter_draws is not None:
            arrival += link._jitter_draws.next()
        if arrival < direction.last_arrival:
            arrival = direction.last_arrival  # FIFO: no overtaking on one direction of a link
        direction.last_arrival = arrival
        msg.path.append(nxt)
        msg._link = link
        msg._epoch = link.epoch
        msg._entered_s = now
        event = Timeout(self.env, arrival - now, msg)
        event.callbacks.append(self._arrive)

    def _arrive(self, event: simpy.Event) -> None:
        self._arrived(event._value)

    def _arrived(self, msg: Message) -> None:
        link = msg._link
        assert link is not None
        if link.epoch != msg._epoch:
            link.stats.dropped_down += 1
            self._drop(msg, DropReason.OUTAGE_IN_FLIGHT)
            return
        stats = link.stats
        stats.delivered += 1
        stats.latencies.append(self.env._now - msg._entered_s)
        node = msg.path[-1]
        if node == msg.dst:
            self._deliver(msg)
        else:
            self._forward(msg, node)

    # -- links carried by another simulator ------------------------------------------
    def carry_externally(self, link_name: str, carrier: ExternalCarrier) -> None:
        """Hand every message that crosses ``link_name`` to ``carrier`` instead of the link's own model.

        The link keeps its place in routing (its configured latency is still
        the routing metric) and its outages; its latency, bandwidth and loss
        model is replaced by whatever the carrier -- a network simulator in a
        HELICS federation -- does. The carrier calls :meth:`external_arrival`
        when the message reaches the far end, at the simulated time it arrives.
        """
        try:
            link = self.links[link_name]
        except KeyError:
            raise ValueError(f"no link {link_name!r} (have: {', '.join(sorted(self.links))})") from None
        if link.carrier is not None:
            raise ValueError(f"link {link_name!r} is already carried externally")
        link.carrier = carrier

    def external_arrival(self, msg: Message) -> None:
        """A message handed to a carrier reached the far end of its link now; it goes on from there."""
        self._arrived(msg)

    def external_not_returned(self, msg: Message) -> None:
        """A message handed to a carrier never came back (the run ended): traced as dropped."""
        if msg._link is not None:
            msg._link.stats.lost += 1
        self._drop(msg, DropReason.NOT_RETURNED)

    def _arrive_local(self, event: simpy.Event) -> None:
        self._deliver(event._value)

    def _deliver(self, msg: Message) -> None:
        msg.done_s = self.env._now
        handler = self._handlers.get((msg.dst, msg.protocol))
        if handler is None:
            self._drop(msg, DropReason.NO_ENDPOINT)
            return
        msg.status = "delivered"
        handler(msg)
        self.trace.write(msg)

    def _drop(self, msg: Message, reason: str) -> None:
        msg.done_s = self.env._now
        msg.status = "dropped"
        msg.reason = reason
        self.trace.write(msg)

    # -- protocol endpoints (thin helpers; see cosim.comm.modbus.sim and cosim.comm.mqtt) --
    def modbus_server(self, node_id: str, response_delay_s: float | None = None) -> Any:
        """The :class:`ModbusServer` at ``node_id``: a device calls ``.add_unit(unit_id, bank)``."""
        from .modbus.sim import modbus_server
        return modbus_server(self, node_id, response_delay_s)

    def modbus_client(self, node_id: str, server_node: str, timeout_s: float = 1.0, retries: int = 2) -> Any:
        """A :class:`ModbusMaster` (the ModbusClient interface) at ``node_id`` for ``server_node``."""
        from .modbus.sim import modbus_client
        return modbus_client(self, node_id, server_node, timeout_s, retries)

    def mqtt_broker(self, node_id: str) -> Any:
        """The :class:`MqttBroker` at ``node_id`` (declared in the scenario or added with add_mqtt_broker)."""
        try:
            return self.services[f"mqtt-broker/{node_id}"]
        except KeyError:
            raise KeyError(f"no MQTT broker at node {node_id!r}") from None

    def add_mqtt_broker(self, node_id: str, retry_interval_s: float = 5.0,
                        schemas: list[tuple[str, Callable[[bytes], str | None]]] | None = None,
                        max_packet_bytes: int = 268_435_455) -> Any:
        """Put an MQTT broker at ``node_id``; ``schemas`` are (topic filter, payload check) pairs;
        a packet whose remaining length exceeds ``max_packet_bytes`` closes its connection."""
        from .mqtt.broker import MqttBroker
        broker = MqttBroker(self, node_id, retry_interval_s, schemas, max_remaining_length=max_packet_bytes)
        self.services[f"mqtt-broker/{node_id}"] = broker
        return broker

    def mqtt_client(self, node_id: str, client_id: str, broker_node: str, **options: Any) -> Any:
        """A :class:`SimMqttClient` (the MqttClient interface) at ``node_id``; options as its constructor."""
        from .mqtt.client import SimMqttClient
        if f"mqtt-broker/{broker_node}" not in self.services:
            raise ValueError(f"no MQTT broker at node {broker_node!r}")
        return SimMqttClient(self, node_id, client_id, broker_node, **options)

    # -- results -------------------------------------------------------------------
    def statistics(self) -> NetworkStatistics:
        """Per-link and per-outcome statistics so far (a snapshot; cheap enough to call often)."""
        return NetworkStatistics.collect(self.links.values(), self.trace)

    def finish(self) -> NetworkStatistics:
        """Write ``link_stats.csv`` once and return the final statistics; later calls return the same."""
        if self._finished is None:
            self._finished = self.statistics()
            self._finished.write(self.world.recorder)
        return self._finished
