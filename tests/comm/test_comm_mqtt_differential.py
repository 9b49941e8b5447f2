"""The simulated MQTT broker against a real mosquitto: same scripted clients, same deliveries.

Each script runs on ``MqttBroker`` (simulated network) and on mosquitto
started by the test on a free loopback port (paho-mqtt clients); what every
connection receives (topic, payload, QoS, retain flag, in order) must agree.
Where MQTT 3.1.1 leaves a choice, the comparison names it:

* the order of several retained messages sent for one subscription is open
  (3.3.1.3): runs of retained deliveries are compared sorted;
* a message matching several of one client's subscriptions (3.3.5): both
  brokers deliver it once; mosquitto 2.0 gives it the QoS of one matching
  subscription rather than the highest that 3.3.5 requires, so that script
  compares topics, payloads and retain flags, and checks the simulated broker's
  QoS against the rule separately.
"""

from __future__ import annotations

import pytest

from cosim.comm.mqtt import Will

from mqttdiff import (Abort, Connect, Disconnect, Mosquitto, Publish, Silence, Step, Subscribe, Unsubscribe, Wait,
                      mosquitto_available, retained_runs_sorted, run_real, run_simulated)

pytestmark = pytest.mark.skipif(not mosquitto_available(), reason="mosquitto not installed (scripts/test-setup-and-run)")

WILDCARDS_AND_UNSUBSCRIBE: list[Step] = [
    Connect("s", "sub"),
    Subscribe("s", "grid/+/p", 1),
    Subscribe("s", "alarm/#", 0),
    Connect("p", "pub"),
    Publish("p", "grid/a/p", b"1", 1),
    Publish("p", "grid/a/q", b"no", 1),
    Publish("p", "grid/a/p/x", b"no", 0),
    Publish("p", "alarm", b"2", 0),  # '#' also matches the parent level (4.7.1.2)
    Publish("p", "alarm/x/y", b"3", 1),
    Publish("p", "grid//p", b"4", 0),  # '+' matches an empty level
    Unsubscribe("s", "grid/+/p"),
    Publish("p", "grid/b/p", b"no", 1),
    Unsubscribe("s", "never/subscribed"),  # answered with UNSUBACK all the same (3.10.4)
    Publish("p", "alarm/z", b"5", 0),
    Subscribe("s", "grid/b/p", 0),
    Publish("p", "grid/b/p", b"6", 1),  # downgraded to the subscription's QoS 0
]

RETAINED: list[Step] = [
    Connect("p", "pub"),
    Publish("p", "st/a", b"on", 1, retain=True),
    Publish("p", "st/b", b"off", 0, retain=True),
    Publish("p", "st/c", b"x", 2, retain=True),
    Publish("p", "st/c", b"", 0, retain=True),  # an empty retained payload clears the topic (3.3.1.3)
    Publish("p", "other", b"not retained", 1),
    Connect("s", "sub"),
    Subscribe("s", "st/#", 1),  # st/a and st/b, retain flag set
    Publish("p", "st/a", b"live", 1),  # to an established subscription: retain flag clear (3.3.1.9)
    Publish("p", "st/b", b"kept", 2, retain=True),  # also clear, though it replaces the retained one
    Connect("t", "late"),
    Subscribe("t", "st/b", 0),  # the newest retained st/b, downgraded to QoS 0
    Subscribe("t", "st/b", 2),  # subscribing again sends the retained message again (3.8.4)
]

QOS_LEVELS: list[Step] = [
    Connect("s", "sub"),
    Subscribe("s", "q/0", 0),
    Subscribe("s", "q/1", 1),
    Subscribe("s", "q/2", 2),
    Connect("p", "pub"),
    *[Publish("p", f"q/{sub}", f"{sub}{pub}".encode(), pub) for sub in range(3) for pub in range(3)],
]

OVERLAPPING: list[Step] = [
    Connect("s", "sub"),
    Subscribe("s", "a/#", 2),
    Subscribe("s", "a/+", 1),
    Subscribe("s", "+/b", 0),
    Connect("p", "pub"),
    Publish("p", "a/b", b"q0", 0),
    Publish("p", "a/b", b"q1", 1),
    Publish("p", "a/b", b"q2", 2),
    Publish("p", "a/c", b"c2", 2),
    Publish("p", "b/b", b"bb", 2),
]

SESSION_TAKEOVER: list[Step] = [
    Connect("a1", "meter", clean=False),
    Subscribe("a1", "t/#", 2),
    Disconnect("a1"),
    Connect("p", "pub"),
    Publish("p", "t/1", b"1", 1),  # queued for the offline persistent session
    Publish("p", "t/2", b"2", 2),
    Publish("p", "t/3", b"3", 0),  # QoS 0 is not queued
    Connect("a2", "meter", clean=False),  # another client object takes the session over: gets t/1, t/2
    Publish("p", "t/4", b"4", 1),
    Connect("a3", "meter", clean=False),  # takes over while a2 is connected: a2 is closed
    Publish("p", "t/5", b"5", 2),
    Connect("a4", "meter", clean=True),  # a clean session discards the stored one
    Publish("p", "t/6", b"6", 1),
]

WILLS: list[Step] = [
    Connect("w", "watcher"),
    Subscribe("w", "will/#", 1),
    Connect("d", "dies", will=Will("will/d", b"gone", 1)),
    Connect("e", "polite", will=Will("will/e", b"bye", 0, retain=True)),
    Disconnect("e"),  # DISCONNECT discards the will (3.14.4)
    Abort("d"),  # socket closed without DISCONNECT: the will at once
    Connect("g", "crashes", will=Will("will/g", b"lost", 2, retain=True)),
    Abort("g"),
    Connect("f", "silent", will=Will("will/f", b"quiet", 0), keep_alive_s=1),
    Silence("f"),  # nothing sent, socket open: the will when the keep-alive lapses (1.5 s)
    Wait(2.5),
    Connect("l", "late"),
    Subscribe("l", "will/#", 0),  # only g's will was retained
]

SCRIPTS = {
    "wildcards_and_unsubscribe": WILDCARDS_AND_UNSUBSCRIBE,
    "retained": RETAINED,
    "qos_levels": QOS_LEVELS,
    "session_takeover": SESSION_TAKEOVER,
    "wills": WILLS,
}


@pytest.fixture
def mosquitto(tmp_path):
    def start(extra: str = "") -> Mosquitto:
        broker = Mosquitto(tmp_path, extra)
        started.append(broker)
        return broker

    started: list[Mosquitto] = []
    yield start
    for broker in started:
        broker.stop()


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_simulated_broker_delivers_what_mosquitto_delivers(name, mosquitto, tmp_path):
    script = SCRIPTS[name]
    simulated = run_simulated(script, tmp_path)
    real = run_real(script, mosquitto().port, simulated)
    for conn in simulated.deliveries:
        assert retained_runs_sorted(simulated.deliveries[conn]) == retained_runs_sorted(real.deliveries[conn]), conn
    assert any(simulated.deliveries.values()), "a script that delivers nothing compares nothing"


def test_overlapping_subscriptions_deliver_once(mosquitto, tmp_path):
    simulated = run_simulated(OVERLAPPING, tmp_path)
    real = run_real(OVERLAPPING, mosquitto().port, simulated)
    assert ([d[:1] + d[1:2] + d[3:] for d in simulated.deliveries["s"]]
            == [d[:1] + d[1:2] + d[3:] for d in real.deliveries["s"]])
    # 3.3.5: the highest QoS of the matching subscriptions, capped by the published QoS
    assert [(topic, qos) for topic, _, qos, _ in simulated.deliveries["s"]] == [
        ("a/b", 0), ("a/b", 1), ("a/b", 2), ("a/c", 2), ("b/b", 0)]


def test_a_packet_over_the_broker_maximum_closes_the_connection(mosquitto, tmp_path):
    script: list[Step] = [
        Connect("w", "watcher"),
        Subscribe("w", "big/#", 0),
        Subscribe("w", "will/#", 0),
        Connect("b", "bulky", will=Will("will/b", b"cut")),
        Publish("b", "big/ok", b"x" * 200, 0),
        Publish("b", "big/no", b"x" * 5000, 1),  # over max_packet_size: connection closed, will published
        Connect("c", "other"),
        Publish("c", "big/after", b"y", 0),
    ]
    simulated = run_simulated(script, tmp_path, max_packet_bytes=1000)
    real = run_real(script, mosquitto("max_packet_size 1000\n").port, simulated)
    assert simulated.deliveries == real.deliveries
    assert [topic for topic, *_ in simulated.deliveries["w"]] == ["big/ok", "will/b", "big/after"]
