"""MQTT semantics over simulated links: QoS 1 under loss, retained, will, sessions, schemas, sizes."""

from __future__ import annotations

import csv
import json

import pytest

from cosim.comm import CommConfig, CommNetwork, Delay, MqttError, QoS, build_network
from cosim.comm.mqtt import Will, json_schema_check
from cosim.comm.mqtt.packets import Connect, Publish, Subscribe
from cosim.kernel import World

from commtools import run_process


def star(world: World, loss: float = 0.0, schemas=None) -> CommNetwork:
    """A broker node with publisher 'pub' and subscriber 'sub' on their own links."""
    network = CommNetwork(world)
    for node in ("broker", "pub", "sub"):
        network.add_node(node)
    network.add_link("pub", "broker", Delay.fixed(0.02), 1e6, loss=loss)
    network.add_link("sub", "broker", Delay.fixed(0.02), 1e6, loss=loss)
    network.add_mqtt_broker("broker", retry_interval_s=1.0, schemas=schemas)
    return network


def test_qos0_is_fire_and_forget_and_reaches_subscribers(world):
    network = star(world)
    pub = network.mqtt_client("pub", "p", "broker")
    sub = network.mqtt_client("sub", "s", "broker")
    got = []

    def story():
        yield from sub.connect()
        yield from sub.subscribe("meters/+/kw", QoS.AT_MOST_ONCE, got.append)
        yield from pub.connect()
        yield from pub.publish("meters/m1/kw", b"1.5")
        yield from pub.publish("meters/m1/kvar", b"0.2")  # not subscribed
        yield world.timeout(1)

    run_process(world, story())
    assert [(m.topic, m.payload, m.qos, m.dup, m.retain) for m in got] == [
        ("meters/m1/kw", b"1.5", QoS.AT_MOST_ONCE, False, False)]


def test_qos1_delivers_every_message_despite_loss_and_flags_duplicates(world):
    network = star(world, loss=0.3)
    pub = network.mqtt_client("pub", "p", "broker", retry_interval_s=1.0, keep_alive_s=600)
    sub = network.mqtt_client("sub", "s", "broker", retry_interval_s=1.0, keep_alive_s=600)
    got = []

    def story():
        yield from sub.connect()
        yield from sub.subscribe("data", QoS.AT_LEAST_ONCE, got.append)
        yield from pub.connect()
        for i in range(60):
            yield from pub.publish("data", str(i).encode(), QoS.AT_LEAST_ONCE)
        yield world.timeout(60)

    run_process(world, story())
    payloads = [m.payload for m in got]
    assert set(payloads) == {str(i).encode() for i in range(60)}  # at least once
    assert network.mqtt_broker("broker").counters.retransmitted > 0
    duplicates = [m for m in got if payloads.count(m.payload) > 1]
    assert duplicates and all(m.dup for m in duplicates if got.index(m) != payloads.index(m.payload))
    retried = [r for r in csv.DictReader(open(world.recorder.out_dir / "messages.csv")) if " d " in r["info"] + " "]
    assert retried  # the trace shows PUBLISH packets with the DUP flag


def test_retained_message_goes_to_late_subscribers_and_empty_payload_clears(world):
    network = star(world)
    pub = network.mqtt_client("pub", "p", "broker")
    late = network.mqtt_client("sub", "s", "broker")
    got = []

    def story():
        yield from pub.connect()
        yield from pub.publish("site/1/status", b'{"on": true}', QoS.AT_LEAST_ONCE, retain=True)
        yield from pub.publish("site/2/status", b'{"on": false}', QoS.AT_MOST_ONCE, retain=True)
        yield from late.connect()
        yield from late.subscribe("site/+/status", QoS.AT_LEAST_ONCE, got.append)
        yield world.timeout(1)
        yield from pub.publish("site/1/status", b"", QoS.AT_LEAST_ONCE, retain=True)  # clears
        yield world.timeout(1)

    run_process(world, story())
    assert [(m.topic, m.retain, m.qos) for m in got[:2]] == [
        ("site/1/status", True, QoS.AT_LEAST_ONCE), ("site/2/status", True, QoS.AT_MOST_ONCE)]
    assert (got[2].payload, got[2].retain) == (b"", False)  # live subscribers still see the clearing publish
    assert sorted(network.mqtt_broker("broker").retained) == ["site/2/status"]


def test_last_will_when_keep_alive_lapses_but_not_after_disconnect(world):
    network = star(world)
    network.add_node("pub2")
    network.add_link("pub2", "broker", Delay.fixed(0.02), 1e6)
    crashing = network.mqtt_client("pub", "rtu-a", "broker", keep_alive_s=10,
                                   will=Will("status/rtu-a", b"offline", 1, True))
    polite = network.mqtt_client("pub2", "rtu-b", "broker", keep_alive_s=10,
                                 will=Will("status/rtu-b", b"offline", 1, True))
    watcher = network.mqtt_client("sub", "ops", "broker", keep_alive_s=10)
    got = []

    def story():
        yield from watcher.connect()
        yield from watcher.subscribe("status/#", QoS.AT_LEAST_ONCE, lambda m: got.append((world.now, m.topic)))
        yield from crashing.connect()
        yield from polite.connect()
        yield world.timeout(30)  # pings keep both alive
        assert got == []
        crashing.drop()
        yield from polite.disconnect()
        yield world.timeout(30)

    run_process(world, story())
    assert [topic for _, topic in got] == ["status/rtu-a"]
    assert 30 + 15 - 10 < got[0][0] < 30 + 15 + 1  # within 1.5 x keep-alive of the last packet
    assert network.mqtt_broker("broker").retained["status/rtu-a"].payload == b"offline"


def test_will_when_the_link_goes_down(world):
    network = star(world)
    device = network.mqtt_client("pub", "dev", "broker", keep_alive_s=5, will=Will("lwt/dev", b"gone"))
    watcher = network.mqtt_client("sub", "ops", "broker", keep_alive_s=60)
    got = []

    def story():
        yield from watcher.connect()
        yield from watcher.subscribe("lwt/+", QoS.AT_MOST_ONCE, got.append)
        yield from device.connect()
        network.schedule_outage("pub--broker", world.now + 1, 100)
        yield world.timeout(20)

    run_process(world, story())
    assert [m.payload for m in got] == [b"gone"]


def test_client_learns_the_broker_gave_up_and_can_reconnect(world):
    network = star(world)
    device = network.mqtt_client("pub", "dev", "broker", keep_alive_s=5, retry_interval_s=1.0)
    outcome = {}

    def story():
        yield from device.connect()
        network.schedule_outage("pub--broker", world.now + 1, 20)  # keep-alive lapses at the broker
        yield world.timeout(25)
        try:
            yield from device.publish("x", b"1", QoS.AT_LEAST_ONCE)
        except MqttError:
            outcome["refused"] = world.now
        yield from device.connect()
        yield from device.publish("x", b"2", QoS.AT_LEAST_ONCE)
        outcome["ok"] = world.now

    run_process(world, story())
    assert "refused" in outcome and outcome["ok"] > outcome["refused"]


def test_persistent_session_queues_qos1_while_offline(world):
    network = star(world)
    pub = network.mqtt_client("pub", "p", "broker")
    sub = network.mqtt_client("sub", "historian", "broker", clean_session=False)
    got = []

    def story():
        present = yield from sub.connect()
        assert present is False
        yield from sub.subscribe("readings/#", QoS.AT_LEAST_ONCE, got.append)
        yield from sub.disconnect()
        yield from pub.connect()
        for i in range(3):
            yield from pub.publish(f"readings/{i}", b"x", QoS.AT_LEAST_ONCE)
        yield from pub.publish("readings/qos0", b"x", QoS.AT_MOST_ONCE)  # not queued
        yield world.timeout(1)
        assert got == []
        present = yield from sub.connect()
        assert present is True
        yield world.timeout(1)

    run_process(world, story())
    assert [m.topic for m in got] == ["readings/0", "readings/1", "readings/2"]
    counters = network.mqtt_broker("broker").counters
    assert counters.queued == 3 and counters.dropped_offline == 1


def test_clean_session_forgets_subscriptions(world):
    network = star(world)
    pub = network.mqtt_client("pub", "p", "broker")
    sub = network.mqtt_client("sub", "s", "broker", clean_session=True)
    got = []

    def story():
        yield from sub.connect()
        yield from sub.subscribe("x", QoS.AT_LEAST_ONCE, got.append)
        yield from sub.disconnect()
        yield from sub.connect()
        yield from pub.connect()
        yield from pub.publish("x", b"1", QoS.AT_LEAST_ONCE)
        yield world.timeout(1)

    run_process(world, story())
    assert got == []


def test_schema_rejects_bad_payloads_without_crashing(world):
    schema = {"type": "object", "required": ["kwh"], "properties": {"kwh": {"type": "number"}}}
    network = star(world, schemas=[("meters/+/reading", json_schema_check(schema))])
    pub = network.mqtt_client("pub", "p", "broker")
    sub = network.mqtt_client("sub", "s", "broker")
    got = []

    def story():
        yield from sub.connect()
        yield from sub.subscribe("meters/#", QoS.AT_LEAST_ONCE, got.append)
        yield from pub.connect()
        yield from pub.publish("meters/m1/reading", json.dumps({"kwh": 1.5}).encode(), QoS.AT_LEAST_ONCE)
        yield from pub.publish("meters/m1/reading", json.dumps({"kwh": "lots"}).encode(), QoS.AT_LEAST_ONCE)
        yield from pub.publish("meters/m1/reading", b"{not json", QoS.AT_MOST_ONCE)
        yield from pub.publish("meters/m1/other", b"free text", QoS.AT_MOST_ONCE)  # no schema
        yield world.timeout(1)

    run_process(world, story())
    assert [m.payload for m in got] == [b'{"kwh": 1.5}', b"free text"]
    assert network.mqtt_broker("broker").counters.rejected == 2
    world.recorder.flush()
    rejected = [r for r in csv.DictReader(open(world.recorder.out_dir / "messages.csv")) if r["status"] == "rejected"]
    assert [r["reason"].split(":")[0] for r in rejected] == ["schema", "payload is not JSON"]
    assert "kwh" in rejected[0]["reason"]


def test_client_errors_are_typed(world):
    network = star(world)
    client = network.mqtt_client("pub", "p", "broker")
    with pytest.raises(MqttError):
        run_process(world, client.publish("x", b"", QoS.AT_MOST_ONCE))
    run_process(world, client.connect())
    with pytest.raises(ValueError):  # a bad filter is the caller's bug (TopicError), not a network outcome
        run_process(world, client.subscribe("a/#/b", QoS.AT_MOST_ONCE, print))


def test_packet_sizes_follow_the_wire_format():
    # PUBLISH QoS 0, topic "a/b" (2+3), payload 10: fixed header 2 + 5 + 10
    assert Publish("a/b", b"x" * 10, 0).size_bytes() == 17
    # QoS 1 adds the packet id; a 200-byte payload needs a 2-byte remaining length
    assert Publish("a/b", b"x" * 200, 1, packet_id=1).size_bytes() == 1 + 2 + 5 + 2 + 200
    # CONNECT with client id "c1": 10 variable header + 4 payload, fixed header 2
    assert Connect("c1", True, 60).size_bytes() == 16
    assert Subscribe(1, "a/#", 1).size_bytes() == 2 + 2 + 5 + 1


def test_broker_and_schemas_from_config(world):
    config = CommConfig.model_validate({
        "nodes": [{"id": "broker"}, {"id": "meter"}],
        "links": [{"a": "meter", "b": "broker", "profile": "lte"}],
        "mqtt": {"brokers": [{"node": "broker"}],
                 "topic_schemas": [{"filter": "m/#", "schema": {"type": "object"}}]},
    })
    network = build_network(world, config)
    assert network.mqtt_broker("broker").schemas[0][0] == "m/#"


def test_a_qos1_packet_slower_to_send_than_the_retry_interval_is_not_resent_behind_itself(world):
    # 1 Mbit/s links and a 1 s retry interval: a 500 kB payload takes 4 s to serialise on each link
    # (500e3 B x 8 / 1e6 bit/s), so a timer started at the hand-over would resend it 3 times on each leg.
    network = star(world)
    pub = network.mqtt_client("pub", "p", "broker", retry_interval_s=1.0, keep_alive_s=600)
    sub = network.mqtt_client("sub", "s", "broker", retry_interval_s=1.0, keep_alive_s=600)
    got = []
    payload = bytes(500_000)

    def story():
        yield from sub.connect()
        yield from sub.subscribe("bulk", QoS.AT_LEAST_ONCE, got.append)
        yield from pub.connect()
        started = world.now
        yield from pub.publish("bulk", payload, QoS.AT_LEAST_ONCE)
        acked = world.now - started
        yield world.timeout(30)
        return acked

    acked = run_process(world, story())
    assert [(m.payload == payload, m.dup) for m in got] == [(True, False)]
    assert network.mqtt_broker("broker").counters.retransmitted == 0
    assert acked == pytest.approx(500_000 * 8 / 1e6, rel=0.05)   # one serialisation, then latency and PUBACK
