"""A paho-mqtt client behind the :class:`cosim.comm.interfaces.MqttClient` protocol, for a real broker.

Devices publish and subscribe with the same calls, topics and payloads as on
the simulated broker; only the client object differs. paho runs its network
loop in its own thread (``loop_start``); everything it reports (CONNACK,
SUBACK, PUBACK, messages) is handed to the SimPy thread through the session's
:class:`~.bridge.SimInbox`, where handlers run and SimPy events fire.

Delivery guarantees (QoS 1 and 2, MQTT 3.1.1):

* persistent session (``clean_session=False``): the broker keeps the
  subscriptions and queues QoS 1 and 2 messages while the client is away, and paho
  re-sends unacknowledged outgoing QoS 1 and 2 messages (DUP set) on reconnect;
* publishes attempted while disconnected go to a bounded outbox (``outbox``;
  the oldest is dropped and counted beyond it) and are sent on reconnect;
* reconnects use paho's exponential backoff (``reconnect_delay_set``), from
  ``reconnect_min_s`` doubling to ``reconnect_max_s``;
* subscriptions are renewed after every CONNACK that reports no session;
* received messages wait in a bounded queue (``inbox``): beyond it paho's
  thread waits (back-pressure on the broker) for QoS 1 and 2, and QoS 0 is dropped
  and counted.

``publish`` with QoS 1 or 2 returns once the broker acknowledged (PUBACK, PUBCOMP), as the simulated
client does, when connected; while disconnected it returns at once with the
message in the outbox. Always ``CallbackAPIVersion.VERSION2``.
"""

from __future__ import annotations

import collections
import ssl
import threading
from typing import Any, Callable, Generator

import paho.mqtt.client as paho
import simpy
from paho.mqtt.enums import CallbackAPIVersion

from cosim.comm.errors import MqttError
from cosim.comm.interfaces import MessageHandler, MqttMessage, QoS
from cosim.comm.mqtt.packets import Will
from cosim.comm.mqtt.topics import check_topic_filter, check_topic_name, topic_matches

from .bridge import SimInbox
from .config import MqttBrokerConfig

SUBACK_FAILURE = 0x80
Logger = Callable[..., None]


def make_paho_client(client_id: str, config: MqttBrokerConfig, clean_session: bool) -> paho.Client:
    """A configured (not connected) paho client: credentials, TLS, backoff."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_session,
                         protocol=paho.MQTTv311)
    if config.username is not None:
        client.username_pw_set(config.username, config.password)
    if config.tls is not None:
        tls = config.tls
        client.tls_set(ca_certs=None if tls.ca_file is None else str(tls.ca_file),
                       certfile=None if tls.cert_file is None else str(tls.cert_file),
                       keyfile=None if tls.key_file is None else str(tls.key_file),
                       cert_reqs=ssl.CERT_REQUIRED)
        client.tls_insecure_set(tls.insecure)
    # paho doubles the delay after each failed attempt up to max_delay (floats work, ints are annotated).
    client.reconnect_delay_set(min_delay=config.reconnect_min_s, max_delay=config.reconnect_max_s)  # type: ignore[arg-type]
    client.max_inflight_messages_set(20)
    client.max_queued_messages_set(config.outbox)
    return client


class PahoMqttClient:
    """An MQTT client on a real broker; implements :class:`cosim.comm.interfaces.MqttClient`."""

    def __init__(self, client_id: str, config: MqttBrokerConfig, env: simpy.Environment, inbox: SimInbox, *,
                 clean_session: bool = False, will: Will | None = None, keep_alive_s: float | None = None,
                 log: Logger | None = None, on_message: MessageHandler | None = None) -> None:
        self.client_id = client_id
        self.on_message = on_message  # for messages no handler's filter matches, as in SimMqttClient
        self.config = config
        self.env = env
        self.inbox = inbox
        self.log = log
        self.connected = False
        self.handlers: dict[str, tuple[MessageHandler, QoS]] = {}
        self.outbox: collections.deque[tuple[str, bytes, int, bool]] = collections.deque()
        self.received = 0
        self.duplicates = 0
        self.dropped_incoming = 0
        self.dropped_outbox = 0
        self.connects = 0
        self._keep_alive = int(keep_alive_s) if keep_alive_s else config.keepalive_s
        self._room = threading.Semaphore(config.inbox)
        self._closing = threading.Event()
        self._started = False
        self._connect_waiters: list[simpy.Event] = []
        self._acks: dict[int, simpy.Event] = {}
        self._paho = make_paho_client(client_id, config, clean_session)
        if will is not None:
            self._paho.will_set(will.topic, will.payload, will.qos, will.retain)
        self._paho.on_connect = self._paho_connect
        self._paho.on_disconnect = self._paho_disconnect
        self._paho.on_message = self._paho_message
        self._paho.on_publish = self._paho_publish
        self._paho.on_subscribe = self._paho_subscribe
        self._paho.on_unsubscribe = self._paho_unsubscribe

    # -- the MqttClient protocol (SimPy thread) ------------------------------------------
    def connect(self) -> Generator[Any, Any, bool]:
        """Start the connection (paho retries with backoff) and wait for the first CONNACK."""
        waiter = self.env.event()
        self._connect_waiters.append(waiter)
        if not self._started:
            self._started = True
            self._paho.connect_async(self.config.host, self.config.port, keepalive=self._keep_alive)
            self._paho.loop_start()
        elif self.connected:
            self._connect_waiters.remove(waiter)
            return True
        session_present: bool = yield waiter
        return session_present

    def subscribe(self, topic_filter: str, qos: QoS, handler: MessageHandler) -> Generator[Any, Any, QoS]:
        """Subscribe now if connected (waiting for SUBACK), and again after any reconnect without session."""
        check_topic_filter(topic_filter)
        self.handlers[topic_filter] = (handler, QoS(qos))
        if not self.connected:
            return QoS(qos)
        result, mid = self._paho.subscribe(topic_filter, int(qos))
        if result != paho.MQTT_ERR_SUCCESS or mid is None:
            return QoS(qos)  # connection just dropped: renewed on reconnect
        waiter = self._acks[mid] = self.env.event()
        granted: int = yield waiter
        if granted >= SUBACK_FAILURE:
            del self.handlers[topic_filter]
            raise MqttError(f"broker refused subscription to {topic_filter!r}")
        return QoS(granted)

    def unsubscribe(self, topic_filter: str) -> Generator[Any, Any, None]:
        """Unsubscribe (waiting for UNSUBACK when connected) and forget the filter's handler."""
        check_topic_filter(topic_filter)
        if self.connected:
            result, mid = self._paho.unsubscribe(topic_filter)
            if result == paho.MQTT_ERR_SUCCESS and mid is not None:
                waiter = self._acks[mid] = self.env.event()
                yield waiter
        self.handlers.pop(topic_filter, None)

    def publish(self, topic: str, payload: bytes, qos: QoS = QoS.AT_MOST_ONCE,
                retain: bool = False) -> Generator[Any, Any, None]:
        check_topic_name(topic)
        if not self.connected:
            self._hold(topic, bytes(payload), int(qos), retain)
            return
        info = self._paho.publish(topic, bytes(payload), int(qos), retain)
        if qos == QoS.AT_MOST_ONCE or info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            return
        # QoS 1 and 2: paho holds the message until PUBACK or PUBCOMP, across reconnects (persistent session).
        waiter = self._acks[info.mid] = self.env.event()
        yield waiter

    def disconnect(self) -> Generator[Any, Any, None]:
        self.close()
        yield self.env.timeout(0)

    def close(self) -> None:
        """Clean DISCONNECT (the broker discards the will) and stop paho's thread."""
        self._closing.set()
        if self._started:
            self._paho.disconnect()
            self._paho.loop_stop()
            self._started = False
        self.connected = False

    # -- SimPy thread ------------------------------------------------------------------
    def _hold(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        if len(self.outbox) >= self.config.outbox:
            self.outbox.popleft()
            self.dropped_outbox += 1
        self.outbox.append((topic, payload, qos, retain))

    def _connected(self, session_present: bool) -> None:
        self.connected = True
        self.connects += 1
        if self.log is not None:
            self.log("hil_mqtt_connected", client_id=self.client_id, session_present=session_present,
                     held=len(self.outbox))
        if not session_present:
            for topic_filter, (_handler, wanted) in self.handlers.items():
                self._paho.subscribe(topic_filter, int(wanted))
        while self.outbox and self.connected:
            topic, payload, qos, retain = self.outbox.popleft()
            self._paho.publish(topic, payload, qos, retain)
        waiters, self._connect_waiters = self._connect_waiters, []
        for waiter in waiters:
            waiter.succeed(session_present)

    def _disconnected(self, reason: str) -> None:
        was = self.connected
        self.connected = False
        if was and self.log is not None:
            self.log("hil_mqtt_disconnected", client_id=self.client_id, reason=reason)

    def _deliver(self, message: MqttMessage) -> None:
        self._room.release()
        self.received += 1
        self.duplicates += message.dup
        handled = False
        for topic_filter, (handler, _qos) in list(self.handlers.items()):
            if topic_matches(topic_filter, message.topic):
                handled = True
                handler(message)
        if not handled and self.on_message is not None:
            self.on_message(message)

    def _ack(self, mid: int, value: Any) -> None:
        waiter = self._acks.pop(mid, None)
        if waiter is not None and not waiter.triggered:
            waiter.succeed(value)

    # -- paho's thread: hand everything over -------------------------------------------
    def _paho_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if not reason_code.is_failure:
            session_present = bool(flags.session_present)
            self.inbox.offer(lambda: self._connected(session_present), force=True)

    def _paho_disconnect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        text = str(reason_code)
        self.inbox.offer(lambda: self._disconnected(text), force=True)

    def _paho_message(self, client: Any, userdata: Any, msg: paho.MQTTMessage) -> None:
        message = MqttMessage(msg.topic, bytes(msg.payload), QoS(msg.qos), bool(msg.retain), bool(msg.dup))
        if msg.qos == 0:
            if not self._room.acquire(blocking=False):
                self.dropped_incoming += 1
                return
        else:
            while not self._room.acquire(timeout=0.5):  # back-pressure: PUBACK only once queued
                if self._closing.is_set():
                    return
        self.inbox.offer(lambda: self._deliver(message), force=True)

    def _paho_publish(self, client: Any, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        self.inbox.offer(lambda: self._ack(mid, None), force=True)

    def _paho_subscribe(self, client: Any, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        granted = int(reason_codes[0].value) if reason_codes else SUBACK_FAILURE
        self.inbox.offer(lambda: self._ack(mid, granted), force=True)

    def _paho_unsubscribe(self, client: Any, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        self.inbox.offer(lambda: self._ack(mid, None), force=True)
