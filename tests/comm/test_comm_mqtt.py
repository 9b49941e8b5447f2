"""MQTT semantics over simulated links: QoS 1 under loss, retained, will, sessions, schemas, sizes."""

from __future__ import annotations

import csv
import json
import mmap

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


def test_qos2_delivers_every_message_exactly_once_despite_loss(world):
    network = star(world, loss=0.3)
    pub = network.mqtt_client("pub", "p", "broker", retry_interval_s=1.0, keep_alive_s=600)
    sub = network.mqtt_client("sub", "s", "broker", retry_interval_s=1.0, keep_alive_s=600)
    got = []

    def story():
        yield from sub.connect()
        granted = yield from sub.subscribe("data", QoS.EXACTLY_ONCE, got.append)
        assert granted == QoS.EXACTLY_ONCE
        yield from pub.connect()
        for i in range(60):
            yield from pub.publish("data", str(i).encode(), QoS.EXACTLY_ONCE)
        yield world.timeout(60)

    run_process(world, story())
    assert sorted(m.payload for m in got) == sorted(str(i).encode() for i in range(60))  # once each
    assert {m.qos for m in got} == {QoS.EXACTLY_ONCE}
    broker = network.mqtt_broker("broker")
    assert broker.counters.retransmitted > 0  # the loss did force resends: duplicates were suppressed
    session = broker.sessions["s"]
    assert not session.inflight and not session.released  # every exchange completed (PUBCOMP)
    world.recorder.flush()
    kinds = {r["kind"] for r in csv.DictReader(open(world.recorder.out_dir / "messages.csv"))}
    assert {"pubrec", "pubrel", "pubcomp"} <= kinds


def test_qos2_exchange_survives_a_reconnect_of_a_persistent_session(world):
    network = star(world)
    pub = network.mqtt_client("pub", "p", "broker")
    sub = network.mqtt_client("sub", "s", "broker", clean_session=False, retry_interval_s=1.0)
    got = []

    def story():
        yield from sub.connect()
        yield from sub.subscribe("data", QoS.EXACTLY_ONCE, got.append)
        yield from pub.connect()
        network.schedule_outage("sub--broker", world.now + 0.01, 5)  # the path goes: the session waits offline
        yield from pub.publish("data", b"once", QoS.EXACTLY_ONCE)
        yield world.timeout(10)
        present = yield from sub.connect()  # the broker gave up when the path went; the session stayed
        assert present
        yield world.timeout(5)

    run_process(world, story())
    assert [m.payload for m in got] == [b"once"]
    assert not network.mqtt_broker("broker").sessions["s"].released


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


def test_will_at_once_when_the_last_path_to_the_client_goes(world):
    network = star(world)
    device = network.mqtt_client("pub", "dev", "broker", keep_alive_s=60, will=Will("lwt/dev", b"gone"))
    watcher = network.mqtt_client("sub", "ops", "broker", keep_alive_s=600)
    got = []
    outage = {}

    def story():
        yield from watcher.connect()
        yield from watcher.subscribe("lwt/+", QoS.AT_MOST_ONCE, lambda m: got.append((world.now, m.payload)))
        yield from device.connect()
        outage["at"] = world.now + 1
        network.schedule_outage("pub--broker", outage["at"], 100)
        yield world.timeout(20)

    run_process(world, story())
    assert [payload for _, payload in got] == [b"gone"]
    assert outage["at"] <= got[0][0] < outage["at"] + 1  # not 1.5 x 60 s later: the path loss is reported


def test_no_will_while_another_path_remains(world):
    network = star(world)
    network.add_node("relay")
    network.add_link("pub", "relay", Delay.fixed(0.05), 1e6)
    network.add_link("relay", "broker", Delay.fixed(0.05), 1e6)
    device = network.mqtt_client("pub", "dev", "broker", keep_alive_s=5, will=Will("lwt/dev", b"gone"))
    watcher = network.mqtt_client("sub", "ops", "broker", keep_alive_s=600)
    got = []

    def story():
        yield from watcher.connect()
        yield from watcher.subscribe("lwt/+", QoS.AT_MOST_ONCE, got.append)
        yield from device.connect()
        network.schedule_outage("pub--broker", world.now + 1, 100)  # traffic goes round by the relay
        yield world.timeout(60)

    run_process(world, story())
    assert got == [] and network.mqtt_broker("broker").sessions["dev"].connected


def test_will_at_once_when_the_client_process_dies(world):
    network = star(world)
    device = network.mqtt_client("pub", "dev", "broker", keep_alive_s=60, will=Will("lwt/dev", b"gone", 1))
    watcher = network.mqtt_client("sub", "ops", "broker", keep_alive_s=600)
    got = []
    killed = {}

    def story():
        yield from watcher.connect()
        yield from watcher.subscribe("lwt/+", QoS.AT_LEAST_ONCE, lambda m: got.append((world.now, m.payload)))
        yield from device.connect()
        yield world.timeout(5)
        killed["at"] = world.now
        device.abort()
        yield world.timeout(200)

    run_process(world, story())
    assert [payload for _, payload in got] == [b"gone"]
    assert killed["at"] < got[0][0] < killed["at"] + 1  # the closed socket reached the broker


def test_takeover_closes_the_old_connection_and_queued_messages_reach_the_new_object(world):
    network = star(world)
    network.add_node("sub2")
    network.add_link("sub2", "broker", Delay.fixed(0.02), 1e6)
    pub = network.mqtt_client("pub", "p", "broker")
    first = network.mqtt_client("sub", "historian", "broker", clean_session=False)
    unhandled = []
    second = network.mqtt_client("sub2", "historian", "broker", clean_session=False, on_message=unhandled.append)
    got = []

    def story():
        yield from first.connect()
        yield from first.subscribe("r/#", QoS.EXACTLY_ONCE, got.append)
        yield from pub.connect()
        yield from pub.publish("r/1", b"1", QoS.AT_LEAST_ONCE)
        yield world.timeout(1)
        first.drop()
        yield from pub.publish("r/2", b"2", QoS.EXACTLY_ONCE)
        present = yield from second.connect()  # takes the session over before the broker noticed the drop
        assert present
        yield from pub.publish("r/3", b"3", QoS.AT_MOST_ONCE)
        yield world.timeout(1)

    run_process(world, story())
    assert [m.payload for m in got] == [b"1"]
    assert [(m.payload, m.qos) for m in unhandled] == [(b"2", QoS.EXACTLY_ONCE), (b"3", QoS.AT_MOST_ONCE)]


def test_takeover_of_a_connected_session_disconnects_the_old_client(world):
    network = star(world)
    network.add_node("sub2")
    network.add_link("sub2", "broker", Delay.fixed(0.02), 1e6)
    first = network.mqtt_client("sub", "historian", "broker", clean_session=False, will=Will("lwt", b"x"))
    second = network.mqtt_client("sub2", "historian", "broker", clean_session=False)
    watcher = network.mqtt_client("pub", "w", "broker")
    got = []

    def story():
        yield from watcher.connect()
        yield from watcher.subscribe("lwt", QoS.AT_MOST_ONCE, got.append)
        yield from first.connect()
        yield from second.connect()
        yield world.timeout(1)

    run_process(world, story())
    assert not first.connected and second.connected
    assert got == []  # like mosquitto: no will for a connection closed by a takeover


def test_unsubscribe_stops_deliveries_and_forgets_the_handler(world):
    network = star(world)
    pub = network.mqtt_client("pub", "p", "broker")
    sub = network.mqtt_client("sub", "s", "broker")
    got = []

    def story():
        yield from sub.connect()
        yield from sub.subscribe("a/+", QoS.AT_LEAST_ONCE, got.append)
        yield from pub.connect()
        yield from pub.publish("a/1", b"1", QoS.AT_LEAST_ONCE)
        yield world.timeout(1)
        yield from sub.unsubscribe("a/+")
        yield from pub.publish("a/2", b"2", QoS.AT_LEAST_ONCE)
        yield world.timeout(1)

    run_process(world, story())
    assert [m.payload for m in got] == [b"1"]
    assert sub.handlers == {} and network.mqtt_broker("broker").sessions["s"].subscriptions == {}


def test_packets_longer_than_mqtt_allows_are_refused_by_the_client(world):
    network = star(world)
    client = network.mqtt_client("pub", "p", "broker")
    run_process(world, client.connect())
    # 256 MiB of address space, never touched: the length is what the client checks before sending.
    huge = mmap.mmap(-1, 268_435_456)
    try:
        with pytest.raises(MqttError, match="268435455"):
            run_process(world, client.publish("x", huge, QoS.AT_MOST_ONCE))  # type: ignore[arg-type]
    finally:
        huge.close()
    with pytest.raises(MqttError, match="QoS 3"):
        run_process(world, client.publish("x", b"", 3))  # type: ignore[arg-type]


def test_the_broker_closes_a_connection_that_sends_a_packet_over_its_maximum(world):
    network = CommNetwork(world)
    for node in ("broker", "pub", "sub"):
        network.add_node(node)
        if node != "broker":
            network.add_link(node, "broker", Delay.fixed(0.02), 1e6)
    broker = network.add_mqtt_broker("broker", max_packet_bytes=1000)
    pub = network.mqtt_client("pub", "p", "broker", will=Will("lwt/p", b"cut"))
    sub = network.mqtt_client("sub", "s", "broker")
    got = []

    def story():
        yield from sub.connect()
        yield from sub.subscribe("#", QoS.AT_MOST_ONCE, got.append)
        yield from pub.connect()
        yield from pub.publish("fits", b"x" * 985, QoS.AT_MOST_ONCE)  # remaining length 2 + 4 + 985 = 991
        yield from pub.publish("over", b"x" * 995, QoS.AT_MOST_ONCE)  # 1001
        yield world.timeout(1)

    run_process(world, story())
    assert [m.topic for m in got] == ["fits", "lwt/p"]
    assert broker.counters.too_long == 1 and not pub.connected
    world.recorder.flush()
    rows = list(csv.DictReader(open(world.recorder.out_dir / "messages.csv")))
    assert any(r["status"] == "rejected" and "1001 > 1000" in r["reason"] for r in rows)


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
