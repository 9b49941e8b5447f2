"""An MQTT 3.1.1 broker living at one node of the simulated network (QoS 0, 1 and 2).

Semantics kept from OASIS MQTT v3.1.1: topic filters with ``+``/``#`` and the
``$``-topic rule (4.7), retained messages with an empty payload clearing the
topic (3.3.1.3), SUBSCRIBE and UNSUBSCRIBE (3.8, 3.10), QoS 1 and the QoS 2
exactly-once exchange PUBLISH/PUBREC/PUBREL/PUBCOMP both ways (4.3.3), clean
and persistent sessions with QoS 1 and 2 messages queued for an offline
persistent client (3.1.2.4), a new connection taking over a client id closing
the old one (3.1.4-2), the will published when the connection ends without
DISCONNECT (3.1.2.5), and packets longer than the maximum remaining length
refused by closing the connection (2.2.3; a protocol violation, 4.8).

When the broker learns that a connection ended (docs/comm.md, "When the
broker notices a lost connection"):

* at once, when a client's TCP-equivalent close arrives (a client ending
  without DISCONNECT: :meth:`SimMqttClient.abort`, as a killed process whose
  operating system closes its socket);
* at once, when a link state change leaves no route at all between the broker
  and the client's node (the comm layer reports it; the connection cannot
  carry anything any more);
* otherwise when the keep-alive lapses (1.5 x keep-alive without a packet,
  3.1.2.10): a client losing power, or a path that still exists but loses
  everything, sends no signal.

Deliberate choices, documented in docs/comm.md:

* Unacknowledged QoS 1 and 2 PUBLISHes and unanswered PUBRELs are resent
  every ``retry_interval_s`` while connected (MQTT 3.1 style; 3.1.1 only
  resends on reconnect, which a lossy simulated link without TCP would make
  useless), and on reconnect. The interval runs from when the packet has
  left the broker's node, so a large packet on a slow link is not resent
  while it is still being sent.
* A publisher's QoS 1 retransmission (DUP) of a packet id the broker already
  forwarded is forwarded again with DUP set, so subscribers can see that it
  may be a duplicate (3.1.1 would clear DUP on forwarding). QoS 2 forwards a
  packet id once until its PUBREL (4.3.3 method B).
* A message matching several of one client's subscriptions is delivered once,
  at the highest QoS of those subscriptions (3.3.5's MUST; the further copies
  it allows are not sent).
* A payload failing the topic's schema is not forwarded; QoS 1 and 2 are
  still acknowledged (3.1.1 has no negative PUBACK), and the trace row of that
  PUBLISH says ``rejected`` and why.

The broker never raises for bad client input: it refuses, counts and traces.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import simpy
from simpy.events import Timeout

from cosim.kernel.clock import delay_until

from .packets import (MAX_REMAINING_LENGTH, ConnAck, Connect, ConnectionClosed, Disconnect, PingReq, PingResp,
                      PubAck, PubComp, Publish, PubRec, PubRel, SubAck, Subscribe, UnsubAck, Unsubscribe, Will,
                      describe, remaining_length)
from .topics import TopicError, check_topic_filter, check_topic_name, topic_matches

if TYPE_CHECKING:
    from ..network import CommNetwork, Message

PROTOCOL = "mqtt"
SUBACK_FAILURE = 0x80
MAX_QOS = 2
PayloadCheck = Callable[[bytes], str | None]  # returns why the payload is refused, or None


@dataclass
class Session:
    """What the broker keeps for one client id (3.1.2.4): subscriptions and unfinished QoS 1/2 exchanges."""

    client_id: str
    clean: bool
    node: str | None = None
    connected: bool = False
    keep_alive_s: float = 0.0
    last_seen_s: float = 0.0
    will: Will | None = None
    connection: int = 0  # bumped at every CONNECT: old timers recognise they are stale
    subscriptions: dict[str, int] = field(default_factory=dict)
    inflight: dict[int, Publish] = field(default_factory=dict)  # sent to the client, no PUBACK/PUBREC yet
    released: set[int] = field(default_factory=set)  # QoS 2 to the client: PUBREL sent, no PUBCOMP yet
    awaiting_release: set[int] = field(default_factory=set)  # QoS 2 from the client: forwarded, no PUBREL yet
    queued: deque[Publish] = field(default_factory=deque)
    received_ids: deque[int] = field(default_factory=lambda: deque(maxlen=64))
    next_id: int = 0

    def packet_id(self) -> int:
        """The next packet id not held by an unfinished exchange (2.3.1: unused while in flight)."""
        for _ in range(0xFFFF):
            self.next_id = self.next_id % 0xFFFF + 1
            if self.next_id not in self.inflight and self.next_id not in self.released:
                return self.next_id
        raise RuntimeError(f"client {self.client_id!r}: all 65535 packet ids are in flight")


@dataclass
class BrokerCounters:
    published: int = 0
    forwarded: int = 0
    retransmitted: int = 0
    queued: int = 0
    dropped_offline: int = 0
    rejected: int = 0
    wills: int = 0
    too_long: int = 0
    connections_lost: int = 0


def json_schema_check(schema: dict[str, Any]) -> PayloadCheck:
    """A payload check from a JSON Schema (uses the ``jsonschema`` package)."""
    import jsonschema

    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def check(payload: bytes) -> str | None:
        try:
            document = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            return f"payload is not JSON: {exc}"
        error = jsonschema.exceptions.best_match(validator.iter_errors(document))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return f"schema: {where}: {error.message}"

    return check


class MqttBroker:
    """The broker at ``node_id``; clients reach it over the network.

    ``max_remaining_length`` is the longest packet (its remaining length,
    2.2.3) the broker accepts, at most the protocol's 268,435,455 bytes; a
    client sending a longer one has its connection closed (its will is
    published), as mosquitto's ``max_packet_size`` does.
    """

    def __init__(self, network: CommNetwork, node_id: str, retry_interval_s: float = 5.0,
                 schemas: list[tuple[str, PayloadCheck]] | None = None, max_queued: int = 10000,
                 max_remaining_length: int = MAX_REMAINING_LENGTH) -> None:
        if not 0 < max_remaining_length <= MAX_REMAINING_LENGTH:
            raise ValueError(f"max_remaining_length must be in 1..{MAX_REMAINING_LENGTH}, not {max_remaining_length}")
        self.network = network
        self.env: simpy.Environment = network.env
        self.node_id = node_id
        self.retry_interval_s = retry_interval_s
        self.schemas = list(schemas or [])
        self.max_queued = max_queued
        self.max_remaining_length = max_remaining_length
        self.sessions: dict[str, Session] = {}
        self.retained: dict[str, Publish] = {}
        self._by_node: dict[str, str] = {}
        self.counters = BrokerCounters()
        network.attach(node_id, PROTOCOL, self._on_message)
        network.on_link_down(self._check_paths)

    # -- sending -----------------------------------------------------------------
    def _send(self, session: Session, packet: Any) -> Message:
        assert session.node is not None
        return self.network.send(self.node_id, session.node, PROTOCOL, packet, packet.size_bytes(),
                                 kind=type(packet).__name__.lower(), info=describe(packet))

    def _close_socket(self, node: str, why: str) -> None:
        """Tell ``node`` its connection is closed. A real broker closes the TCP connection and the client
        sees the reset; here a DISCONNECT back to the node stands for that."""
        self.network.send(self.node_id, node, PROTOCOL, Disconnect(), Disconnect().size_bytes(),
                          kind="disconnect", info=f"DISCONNECT (connection closed by broker: {why})")

    # -- receiving ---------------------------------------------------------------
    def _on_message(self, msg: Message) -> None:
        packet = msg.payload
        client_id = self._by_node.get(msg.src)
        session = self.sessions.get(client_id) if client_id is not None else None
        if not isinstance(packet, ConnectionClosed) and remaining_length(packet) > self.max_remaining_length:
            # 2.2.3 / 4.8: a packet the broker will not take is a protocol violation: close the connection.
            self.counters.too_long += 1
            msg.status = "rejected"
            msg.reason = f"remaining length {remaining_length(packet)} > {self.max_remaining_length}"
            self.network.world.log("mqtt.packet_too_long", broker=self.node_id, node=msg.src, reason=msg.reason)
            if session is not None and session.connected:
                self.connection_lost(session.client_id)
            self._close_socket(msg.src, "packet too long")
            return
        if isinstance(packet, Connect):
            self._connect(msg.src, packet)
            return
        if isinstance(packet, ConnectionClosed):
            if session is not None and session.connected:
                self.network.world.log("mqtt.connection_closed", broker=self.node_id, client=session.client_id)
                self.connection_lost(session.client_id)
            else:
                msg.reason = "not_connected"
            return
        if session is None or not session.connected:
            # 3.1.0: the first packet must be CONNECT.
            msg.reason = "not_connected"
            if not isinstance(packet, Disconnect):
                self._close_socket(msg.src, "not connected")
            return
        session.last_seen_s = self.env.now
        if isinstance(packet, Publish):
            refusal = self._publish_from(session, packet)
            if refusal:
                msg.status = "rejected"
                msg.reason = refusal
        elif isinstance(packet, PubAck):
            publish = session.inflight.get(packet.packet_id)
            if publish is not None and publish.qos == 1:
                del session.inflight[packet.packet_id]
        elif isinstance(packet, PubRec):
            self._received_by_client(session, packet.packet_id)
        elif isinstance(packet, PubComp):
            session.released.discard(packet.packet_id)
        elif isinstance(packet, PubRel):
            session.awaiting_release.discard(packet.packet_id)  # 4.3.3: the id may now be used again
            self._send(session, PubComp(packet.packet_id))
        elif isinstance(packet, Subscribe):
            self._subscribe(session, packet)
        elif isinstance(packet, Unsubscribe):
            self._unsubscribe(session, packet)
        elif isinstance(packet, PingReq):
            self._send(session, PingResp())
        elif isinstance(packet, Disconnect):
            session.will = None  # 3.14.4: a DISCONNECT discards the will
            self._close(session)

    def _connect(self, node: str, packet: Connect) -> None:
        old = self.sessions.get(packet.client_id)
        if old is not None and old.connected and old.node is not None:
            # 3.1.4-2: the new connection takes over the client id and the old one is closed. mosquitto
            # publishes no will for a connection it closes this way, and neither do we.
            self._by_node.pop(old.node, None)
            if old.node != node:
                self._close_socket(old.node, f"client id {packet.client_id!r} taken over")
        present = old is not None and not packet.clean_session and not old.clean
        session = old if present and old is not None else Session(packet.client_id, packet.clean_session)
        session.clean = packet.clean_session
        session.node = node
        session.connected = True
        session.keep_alive_s = packet.keep_alive_s
        session.last_seen_s = self.env.now
        session.will = packet.will
        session.connection += 1
        self.sessions[packet.client_id] = session
        self._by_node[node] = packet.client_id
        self._send(session, ConnAck(session_present=present))
        if present:
            for packet_id, publish in list(session.inflight.items()):  # 4.4: resend unacknowledged, DUP set
                sent = self._send(session, Publish(publish.topic, publish.payload, publish.qos, publish.retain, True,
                                                   packet_id))
                self.counters.retransmitted += 1
                self._retry_later(session, session.connection, packet_id, sent.left_s)
            for packet_id in sorted(session.released):  # 4.4: and the PUBRELs not yet completed
                sent = self._send(session, PubRel(packet_id))
                self._retry_later(session, session.connection, packet_id, sent.left_s)
            while session.queued:
                self._deliver(session, session.queued.popleft(), False)
        if session.keep_alive_s > 0:
            self._watch(session, session.connection, 1.5 * session.keep_alive_s)

    def _publish_from(self, session: Session, packet: Publish) -> str:
        repeated = False
        if packet.qos == 1:
            self._send(session, PubAck(packet.packet_id))
        elif packet.qos == MAX_QOS:
            # 4.3.3 method B: forward on first receipt, remember the id until PUBREL, and answer a
            # resent PUBLISH with that id by PUBREC only: the message goes on exactly once.
            repeated = packet.packet_id in session.awaiting_release
            session.awaiting_release.add(packet.packet_id)
            self._send(session, PubRec(packet.packet_id))
        if repeated:
            return ""
        try:
            check_topic_name(packet.topic)
        except TopicError as exc:
            self.counters.rejected += 1
            return str(exc)
        for topic_filter, check in self.schemas:
            if topic_matches(topic_filter, packet.topic):
                why = check(packet.payload)
                if why:
                    self.counters.rejected += 1
                    self.network.world.log("mqtt.rejected", broker=self.node_id, client=session.client_id,
                                           topic=packet.topic, reason=why)
                    return why
                break
        duplicate = False
        if packet.qos == 1:
            duplicate = packet.dup and packet.packet_id in session.received_ids
            session.received_ids.append(packet.packet_id)
        self.publish(packet.topic, packet.payload, packet.qos, packet.retain, duplicate)
        return ""

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False, dup: bool = False) -> None:
        """Route an application message to every matching subscription (also used for wills)."""
        self.counters.published += 1
        if retain:
            if payload:
                self.retained[topic] = Publish(topic, payload, qos, True)
            else:
                self.retained.pop(topic, None)  # 3.3.1.3: empty retained payload clears the topic
        for session in self.sessions.values():
            granted = -1
            for topic_filter, sub_qos in session.subscriptions.items():
                if sub_qos > granted and topic_matches(topic_filter, topic):
                    granted = sub_qos
            if granted < 0:
                continue
            out = Publish(topic, payload, min(qos, granted), False, dup)
            if session.connected:
                self._deliver(session, out, dup)
            elif out.qos and not session.clean and len(session.queued) < self.max_queued:
                session.queued.append(out)
                self.counters.queued += 1
            else:
                self.counters.dropped_offline += 1

    def _deliver(self, session: Session, publish: Publish, dup: bool) -> None:
        self.counters.forwarded += 1
        if not publish.qos:
            self._send(session, publish)
            return
        packet_id = session.packet_id()
        out = Publish(publish.topic, publish.payload, publish.qos, publish.retain, dup, packet_id)
        session.inflight[packet_id] = out
        sent = self._send(session, out)
        self._retry_later(session, session.connection, packet_id, sent.left_s)

    def _received_by_client(self, session: Session, packet_id: int) -> None:
        """PUBREC from the client: the QoS 2 PUBLISH arrived; release it (resent until PUBCOMP)."""
        publish = session.inflight.get(packet_id)
        if publish is not None and publish.qos == MAX_QOS:
            del session.inflight[packet_id]
            session.released.add(packet_id)
        if packet_id in session.released:  # a repeated PUBREC (our PUBREL was lost) gets PUBREL again
            self._send(session, PubRel(packet_id))

    def _retry_later(self, session: Session, connection: int, packet_id: int, left_s: float) -> None:
        """Retry ``retry_interval_s`` after the packet has left the broker's node (``left_s``)."""
        timer = Timeout(self.env, self.retry_interval_s + max(0.0, left_s - self.env.now))
        timer.callbacks.append(lambda _e: self._retry(session, connection, packet_id))

    def _retry(self, session: Session, connection: int, packet_id: int) -> None:
        if not session.connected or session.connection != connection:
            return
        publish = session.inflight.get(packet_id)
        if publish is not None:
            sent = self._send(session, Publish(publish.topic, publish.payload, publish.qos, publish.retain, True, packet_id))
        elif packet_id in session.released:
            sent = self._send(session, PubRel(packet_id))
        else:
            return
        self.counters.retransmitted += 1
        self._retry_later(session, connection, packet_id, sent.left_s)

    def _subscribe(self, session: Session, packet: Subscribe) -> None:
        try:
            check_topic_filter(packet.topic_filter)
        except TopicError:
            self._send(session, SubAck(packet.packet_id, SUBACK_FAILURE))
            return
        if not 0 <= packet.qos <= MAX_QOS:
            self._send(session, SubAck(packet.packet_id, SUBACK_FAILURE))
            return
        granted = packet.qos
        session.subscriptions[packet.topic_filter] = granted  # 3.8.4: an equal filter is replaced
        self._send(session, SubAck(packet.packet_id, granted))
        for topic, retained in sorted(self.retained.items()):  # 3.3.1.3: retained on new subscription
            if topic_matches(packet.topic_filter, topic):
                self._deliver(session, Publish(topic, retained.payload, min(retained.qos, granted), True), False)

    def _unsubscribe(self, session: Session, packet: Unsubscribe) -> None:
        """3.10.4: stop adding messages for the filter (those in flight complete); UNSUBACK even if absent."""
        session.subscriptions.pop(packet.topic_filter, None)
        self._send(session, UnsubAck(packet.packet_id))

    def ping_accounted(self, node: str, arrival_s: float) -> bool:
        """A PINGREQ from ``node`` accounted, not simulated, arriving at ``arrival_s``: True if it keeps a session alive.

        False when no connected session has that node: the client then sends
        a real PINGREQ, and gets the DISCONNECT a real broker's reset stands for.
        """
        client_id = self._by_node.get(node)
        session = self.sessions.get(client_id) if client_id is not None else None
        if session is None or not session.connected:
            return False
        session.last_seen_s = max(session.last_seen_s, arrival_s)
        return True

    # -- connection ends -----------------------------------------------------------
    def _check_paths(self) -> None:
        """A link changed state: a connection left without any route to its client is lost now."""
        network = self.network
        for node, client_id in list(self._by_node.items()):
            if network.route(self.node_id, node) is None:
                self.network.world.log("mqtt.path_lost", broker=self.node_id, client=client_id)
                self.connection_lost(client_id)

    def _watch(self, session: Session, connection: int, delay_s: float) -> None:
        timer = Timeout(self.env, delay_s)
        timer.callbacks.append(lambda _e: self._check_alive(session, connection))

    def _check_alive(self, session: Session, connection: int) -> None:
        if not session.connected or session.connection != connection:
            return
        lapse = session.last_seen_s + 1.5 * session.keep_alive_s
        if self.env.now < lapse:  # exact: _watch wakes at ``lapse`` or later, never short of it
            self._watch(session, connection, delay_until(self.env.now, lapse))
            return
        self.network.world.log("mqtt.keepalive_lapsed", broker=self.node_id, client=session.client_id)
        self.connection_lost(session.client_id)

    def connection_lost(self, client_id: str) -> None:
        """The client's connection ended without DISCONNECT: publish its will, end or keep the session."""
        session = self.sessions.get(client_id)
        if session is None or not session.connected:
            return
        self.counters.connections_lost += 1
        will = session.will
        session.will = None
        self._close(session)
        if will is not None:
            self.counters.wills += 1
            self.publish(will.topic, will.payload, will.qos, will.retain)

    def _close(self, session: Session) -> None:
        session.connected = False
        if session.node is not None and self._by_node.get(session.node) == session.client_id:
            del self._by_node[session.node]
        if session.clean:
            self.sessions.pop(session.client_id, None)
