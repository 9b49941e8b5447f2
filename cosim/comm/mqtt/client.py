"""The simulated MQTT client: :class:`cosim.comm.interfaces.MqttClient` over the network.

One client per node (the node is the client's network endpoint). CONNECT,
SUBSCRIBE and QoS 1 PUBLISH are retried every ``retry_interval_s`` until
acknowledged (the PUBLISH retry with DUP set), counted from when the packet
has left the node: a packet still queued or being serialised on a slow link
is not resent behind itself, as a TCP stack does not resend what it has not
yet sent; PINGREQ goes out after
``keep_alive_s`` without sending anything. :meth:`drop` models a connection
lost without DISCONNECT: the broker notices when the keep-alive lapses and
publishes the will. When the broker has given up on a client that is still
talking, it answers with a DISCONNECT (standing for the TCP reset a real broker
causes); the client then counts as disconnected until :meth:`connect` again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generator

import simpy
from simpy.events import Timeout

from cosim.kernel.clock import delay_until

from ..errors import MqttError
from ..network import KeepAlives
from ..interfaces import MessageHandler, MqttMessage, QoS
from .broker import PROTOCOL, SUBACK_FAILURE
from .packets import ConnAck, Connect, Disconnect, PingReq, PingResp, PubAck, Publish, SubAck, Subscribe, Will, describe
from .topics import check_topic_filter, check_topic_name, topic_matches

PING_BYTES = PingReq().size_bytes()  # PINGRESP has the same two bytes (3.12, 3.13)

if TYPE_CHECKING:
    from ..network import CommNetwork, Message


class SimMqttClient:
    """An MQTT client at ``node_id`` talking to the broker at ``broker_node``."""

    def __init__(self, network: CommNetwork, node_id: str, client_id: str, broker_node: str, *,
                 keep_alive_s: float = 60.0, clean_session: bool = True, will: Will | None = None,
                 retry_interval_s: float = 5.0) -> None:
        self.network = network
        self.env: simpy.Environment = network.env
        self.node_id = node_id
        self.client_id = client_id
        self.broker_node = broker_node
        self.keep_alive_s = keep_alive_s
        self.clean_session = clean_session
        self.will = will
        self.retry_interval_s = retry_interval_s
        self.connected = False
        self.handlers: dict[str, MessageHandler] = {}
        self._waiting: dict[Any, simpy.Event] = {}  # "connack" or packet id -> event
        self._next_id = 0
        self._connection = 0
        self._last_sent_s = 0.0
        self.received = 0
        self.duplicates = 0
        network.attach(node_id, PROTOCOL, self._on_message)

    # -- plumbing ------------------------------------------------------------------
    def _send(self, packet: Any) -> Message:
        self._last_sent_s = self.env.now
        return self.network.send(self.node_id, self.broker_node, PROTOCOL, packet, packet.size_bytes(),
                                 kind=type(packet).__name__.lower(), info=describe(packet))

    def _packet_id(self) -> int:
        self._next_id = self._next_id % 0xFFFF + 1
        return self._next_id

    def _await(self, key: Any, timeout_s: float) -> Generator[Any, Any, Any]:
        """Wait for the answer registered under ``key``; None after ``timeout_s``."""
        event = self.env.event()
        self._waiting[key] = event

        def expire(_e: simpy.Event) -> None:
            if not event.triggered:
                if self._waiting.get(key) is event:
                    del self._waiting[key]
                event.succeed(None)
        Timeout(self.env, timeout_s).callbacks.append(expire)
        return (yield event)

    def _answer(self, key: Any, value: Any) -> None:
        event = self._waiting.pop(key, None)
        if event is not None and not event.triggered:
            event.succeed(value)

    # -- the MqttClient interface ----------------------------------------------------
    def connect(self) -> Generator[Any, Any, bool]:
        while True:
            self._send(Connect(self.client_id, self.clean_session, self.keep_alive_s, self.will))
            ack = yield from self._await("connack", self.retry_interval_s)
            if ack is not None:
                break
        self.connected = True
        self._connection += 1
        if self.keep_alive_s > 0:
            self.env.process(self._keep_alive(self._connection))
        return bool(ack.session_present)

    def subscribe(self, topic_filter: str, qos: QoS, handler: MessageHandler) -> Generator[Any, Any, QoS]:
        check_topic_filter(topic_filter)
        self._require_connected()
        self.handlers[topic_filter] = handler
        packet_id = self._packet_id()
        while True:
            self._send(Subscribe(packet_id, topic_filter, int(qos)))
            ack = yield from self._await(("suback", packet_id), self.retry_interval_s)
            if ack is not None:
                break
            self._require_connected()
        if ack.granted_qos == SUBACK_FAILURE:
            del self.handlers[topic_filter]
            raise MqttError(f"broker refused subscription to {topic_filter!r}")
        return QoS(ack.granted_qos)

    def publish(self, topic: str, payload: bytes, qos: QoS = QoS.AT_MOST_ONCE,
                retain: bool = False) -> Generator[Any, Any, None]:
        check_topic_name(topic)
        self._require_connected()
        if qos == QoS.AT_MOST_ONCE:
            self._send(Publish(topic, bytes(payload), 0, retain))
            return
        packet_id = self._packet_id()
        dup = False
        while True:
            sent = self._send(Publish(topic, bytes(payload), 1, retain, dup, packet_id))
            # The retry interval runs from when the packet has left the node (queueing and serialisation).
            ack = yield from self._await(("puback", packet_id), self.retry_interval_s + max(0.0, sent.left_s - self.env.now))
            if ack is not None:
                return
            self._require_connected()
            dup = True  # 3.3.1.1: set on every re-delivery attempt

    def disconnect(self) -> Generator[Any, Any, None]:
        if self.connected:
            self._send(Disconnect())
        self.connected = False
        self._connection += 1
        yield self.env.timeout(0)

    def drop(self) -> None:
        """Lose the connection silently (crash, cable cut): no DISCONNECT, pings stop."""
        self.connected = False
        self._connection += 1

    def _require_connected(self) -> None:
        if not self.connected:
            raise MqttError(f"client {self.client_id!r} is not connected")

    # -- receiving -----------------------------------------------------------------
    def _on_message(self, msg: Message) -> None:
        packet = msg.payload
        if isinstance(packet, ConnAck):
            self._answer("connack", packet)
            return
        if not self.connected:
            msg.reason = "client_offline"
            return
        if isinstance(packet, Publish):
            if packet.qos:
                self._send(PubAck(packet.packet_id))
            self.received += 1
            self.duplicates += packet.dup
            message = MqttMessage(packet.topic, packet.payload, QoS(packet.qos), packet.retain, packet.dup)
            for topic_filter, handler in list(self.handlers.items()):
                if topic_matches(topic_filter, packet.topic):
                    handler(message)
        elif isinstance(packet, PubAck):
            self._answer(("puback", packet.packet_id), packet)
        elif isinstance(packet, SubAck):
            self._answer(("suback", packet.packet_id), packet)
        elif isinstance(packet, Disconnect):
            # The broker closed the connection (keep-alive lapsed): pending operations fail with
            # MqttError at their next retry; the application decides when to connect again.
            self.connected = False
            self._connection += 1
        elif isinstance(packet, PingResp):
            pass

    def _ping(self) -> None:
        """PINGREQ, simulated; or accounted where the way is up and loss-free both ways (docs/comm.md)."""
        network = self.network
        if network.keep_alives is KeepAlives.ACCOUNT:
            there = network.accountable_latency_s(self.node_id, self.broker_node)
            back = network.accountable_latency_s(self.broker_node, self.node_id)
            broker = network.services.get(f"mqtt-broker/{self.broker_node}")
            if (there is not None and back is not None and broker is not None
                    and broker.ping_accounted(self.node_id, self.env.now + there)):
                network.account(self.node_id, self.broker_node, PROTOCOL, PING_BYTES, "pingreq")
                network.account(self.broker_node, self.node_id, PROTOCOL, PING_BYTES, "pingresp")
                self._last_sent_s = self.env.now
                return
        self._send(PingReq())

    def _keep_alive(self, connection: int) -> Generator[Any, Any, None]:
        """3.1.2.10: send PINGREQ if nothing was sent for keep_alive_s."""
        while self.connected and self._connection == connection:
            # Exact instants, no tolerance: the clock wakes at ``due`` or later (delay_until), so
            # the comparison holds at any clock value; ``keep_alive_s - idle`` could not promise that.
            due = self._last_sent_s + self.keep_alive_s
            if self.env.now >= due:
                self._ping()
                due = self._last_sent_s + self.keep_alive_s
            yield self.env.timeout(delay_until(self.env.now, due))
