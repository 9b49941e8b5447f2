"""The simulated MQTT client: :class:`cosim.comm.interfaces.MqttClient` over the network.

One client per node (the node is the client's network endpoint). CONNECT,
SUBSCRIBE, UNSUBSCRIBE, QoS 1 and 2 PUBLISH and PUBREL are retried every
``retry_interval_s`` until answered (the PUBLISH retry with DUP set); a
PUBLISH's interval counts from when the packet has left the node: a packet
still queued or being serialised on a slow link is not resent behind itself,
as a TCP stack does not resend what it has not yet sent. PINGREQ goes out
after ``keep_alive_s`` without sending anything. A QoS 2 message received is
handed over once per packet id until its PUBREL (exactly once).

Two ways to end without DISCONNECT: :meth:`abort` (the process is killed:
its operating system closes the socket, the broker learns at once and
publishes the will) and :meth:`drop` (power lost, cable cut: nothing is sent,
the broker notices when the keep-alive lapses or the comm layer reports the
path gone). When the broker has given up on a client that is still talking,
or another connection took over its client id, it answers with a DISCONNECT
(standing for the TCP reset a real broker causes); the client then counts as
disconnected until :meth:`connect` again.
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
from .packets import (MAX_REMAINING_LENGTH, ConnAck, Connect, ConnectionClosed, Disconnect, PingReq, PingResp, PubAck,
                      PubComp, Publish, PubRec, PubRel, SubAck, Subscribe, UnsubAck, Unsubscribe, Will, describe,
                      remaining_length)
from .topics import check_topic_filter, check_topic_name, topic_matches

PING_BYTES = PingReq().size_bytes()  # PINGRESP has the same two bytes (3.12, 3.13)

if TYPE_CHECKING:
    from ..network import CommNetwork, Message


class SimMqttClient:
    """An MQTT client at ``node_id`` talking to the broker at ``broker_node``."""

    def __init__(self, network: CommNetwork, node_id: str, client_id: str, broker_node: str, *,
                 keep_alive_s: float = 60.0, clean_session: bool = True, will: Will | None = None,
                 retry_interval_s: float = 5.0, on_message: MessageHandler | None = None) -> None:
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
        self.on_message = on_message  # for messages no handler's filter matches (a taken-over session's)
        self._awaiting_release: set[int] = set()  # QoS 2 received and handed over, no PUBREL yet
        self._waiting: dict[Any, simpy.Event] = {}  # "connack" or packet id -> event
        self._next_id = 0
        self._connection = 0
        self._last_sent_s = 0.0
        self.received = 0
        self.duplicates = 0
        self.unhandled = 0  # messages that matched no handler while ``on_message`` was None
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
        if not ack.session_present:
            self._awaiting_release.clear()  # QoS 2 state is session state (4.1): a new session starts empty
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

    def unsubscribe(self, topic_filter: str) -> Generator[Any, Any, None]:
        check_topic_filter(topic_filter)
        self._require_connected()
        packet_id = self._packet_id()
        while True:
            self._send(Unsubscribe(packet_id, topic_filter))
            ack = yield from self._await(("unsuback", packet_id), self.retry_interval_s)
            if ack is not None:
                break
            self._require_connected()
        self.handlers.pop(topic_filter, None)  # after UNSUBACK: messages sent before it still find it

    def publish(self, topic: str, payload: bytes, qos: QoS = QoS.AT_MOST_ONCE,
                retain: bool = False) -> Generator[Any, Any, None]:
        check_topic_name(topic)
        if not 0 <= qos <= 2:
            raise MqttError(f"QoS {qos} does not exist (0, 1 or 2)")
        length = remaining_length(Publish(topic, payload, int(qos), retain, False, 1))
        if length > MAX_REMAINING_LENGTH:
            raise MqttError(f"PUBLISH to {topic!r} would be {length} bytes long; MQTT allows "
                            f"{MAX_REMAINING_LENGTH} (remaining length, 2.2.3)")
        self._require_connected()
        if qos == QoS.AT_MOST_ONCE:
            self._send(Publish(topic, bytes(payload), 0, retain))
            return
        packet_id = self._packet_id()
        answer = "puback" if qos == QoS.AT_LEAST_ONCE else "pubrec"
        dup = False
        while True:
            sent = self._send(Publish(topic, bytes(payload), int(qos), retain, dup, packet_id))
            # The retry interval runs from when the packet has left the node (queueing and serialisation).
            ack = yield from self._await((answer, packet_id), self.retry_interval_s + max(0.0, sent.left_s - self.env.now))
            if ack is not None:
                break
            self._require_connected()
            dup = True  # 3.3.1.1: set on every re-delivery attempt
        if qos == QoS.AT_LEAST_ONCE:
            return
        while True:  # 4.3.3: PUBREL until PUBCOMP; the broker has the message and forwards it once
            self._send(PubRel(packet_id))
            done = yield from self._await(("pubcomp", packet_id), self.retry_interval_s)
            if done is not None:
                return
            self._require_connected()

    def disconnect(self) -> Generator[Any, Any, None]:
        if self.connected:
            self._send(Disconnect())
        self.connected = False
        self._connection += 1
        yield self.env.timeout(0)

    def drop(self) -> None:
        """Lose the connection silently (power lost, cable cut): nothing is sent, pings stop."""
        self.connected = False
        self._connection += 1

    def abort(self) -> None:
        """End without DISCONNECT as a killed process does: its socket is closed, the broker learns at once."""
        if self.connected:
            self._send(ConnectionClosed())
        self.drop()

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
            self._received(packet)
        elif isinstance(packet, PubAck):
            self._answer(("puback", packet.packet_id), packet)
        elif isinstance(packet, PubRec):
            self._answer(("pubrec", packet.packet_id), packet)
        elif isinstance(packet, PubComp):
            self._answer(("pubcomp", packet.packet_id), packet)
        elif isinstance(packet, PubRel):
            self._awaiting_release.discard(packet.packet_id)
            self._send(PubComp(packet.packet_id))
        elif isinstance(packet, SubAck):
            self._answer(("suback", packet.packet_id), packet)
        elif isinstance(packet, UnsubAck):
            self._answer(("unsuback", packet.packet_id), packet)
        elif isinstance(packet, Disconnect):
            # The broker closed the connection (keep-alive lapsed, client id taken over): pending
            # operations fail with MqttError at their next retry; the application decides when to connect again.
            self.connected = False
            self._connection += 1
        elif isinstance(packet, PingResp):
            pass

    def _received(self, packet: Publish) -> None:
        if packet.qos == 1:
            self._send(PubAck(packet.packet_id))
        elif packet.qos == 2:
            first = packet.packet_id not in self._awaiting_release
            self._awaiting_release.add(packet.packet_id)
            self._send(PubRec(packet.packet_id))
            if not first:
                return  # 4.3.3: handed over already; this id is not new until its PUBREL
        self.received += 1
        self.duplicates += packet.dup
        message = MqttMessage(packet.topic, packet.payload, QoS(packet.qos), packet.retain, packet.dup)
        handled = False
        for topic_filter, handler in list(self.handlers.items()):
            if topic_matches(topic_filter, packet.topic):
                handled = True
                handler(message)
        if not handled:
            if self.on_message is not None:
                self.on_message(message)
            else:
                self.unhandled += 1

    def _ping(self) -> None:
        """PINGREQ, simulated; or accounted where the way is up both ways (docs/comm.md)."""
        network = self.network
        if network.keep_alives is KeepAlives.ACCOUNT:
            node, broker_node, now = self.node_id, self.broker_node, self.env.now
            there = network.accountable_latency_s(node, broker_node)
            back = network.accountable_latency_s(broker_node, node)
            broker = network.services.get(f"mqtt-broker/{broker_node}")
            if there is not None and back is not None and broker is not None:
                lost_at = network.draw_loss(node, broker_node)
                if lost_at is not None:  # lost on the way: the broker never hears it, as in the simulation
                    network.account(node, broker_node, PROTOCOL, PING_BYTES, "pingreq", lost_at=lost_at,
                                    info=describe(PingReq()))
                    self._last_sent_s = now
                    return
                if broker.ping_accounted(node, now + there):
                    network.account(node, broker_node, PROTOCOL, PING_BYTES, "pingreq")
                    network.account(broker_node, node, PROTOCOL, PING_BYTES, "pingresp",
                                    lost_at=network.draw_loss(broker_node, node), info=describe(PingResp()))
                    self._last_sent_s = now
                    return
                # No session at the broker: a real PINGREQ, to get the DISCONNECT a reset stands for.
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
