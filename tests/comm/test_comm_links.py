"""Link arithmetic, queueing, loss streams, outages, routing and the trace, as small stories."""

from __future__ import annotations

import csv

import pytest

from cosim.comm import CommNetwork, Delay, DropReason
from cosim.kernel import World

from commtools import chain


def collect(network: CommNetwork, node: str, protocol: str = "test") -> list:
    arrived: list = []
    network.attach(node, protocol, lambda m: arrived.append((network.env.now, m)))
    return arrived


def test_one_message_pays_serialisation_plus_latency(world):
    network = chain(world, "a", "b", latency_s=0.010, bandwidth_bps=8000)
    network.links["a--b"].overhead_bytes = 0
    arrived = collect(network, "b")
    network.send("a", "b", "test", b"x" * 100, 100)  # 800 bits at 8 kbit/s = 0.1 s
    world.run(10)
    assert arrived[0][0] == pytest.approx(0.1 + 0.010)
    assert arrived[0][1].status == "delivered"
    assert arrived[0][1].path == ["a", "b"]


def test_back_to_back_messages_queue_fifo_per_direction(world):
    network = chain(world, "a", "b", latency_s=0.010, bandwidth_bps=8000)
    arrived = collect(network, "b")
    back = collect(network, "a")
    for _ in range(3):
        network.send("a", "b", "test", b"", 100)
    network.send("b", "a", "test", b"", 100)  # the other direction does not wait for them
    world.run(10)
    assert [t for t, _ in arrived] == pytest.approx([0.11, 0.21, 0.31])
    assert back[0][0] == pytest.approx(0.11)


def test_jitter_never_reorders_one_direction(world):
    network = CommNetwork(world)
    network.add_node("a"), network.add_node("b")
    network.add_link("a", "b", Delay.lognormal(0.05, 1.0), 1e9, jitter_s=0.05)
    arrived = collect(network, "b")
    for i in range(200):
        network.send("a", "b", "test", i, 10)
    world.run(100)
    assert [m.payload for _, m in arrived] == list(range(200))


def loss_pattern(seed: int, extra_link: bool) -> list[int]:
    world = World(seed)
    network = CommNetwork(world)
    for node in ("a", "b", "c", "d"):
        network.add_node(node)
    if extra_link:  # created first: must not shift the a--b stream
        network.add_link("c", "d", Delay.fixed(0.01), 1e6, loss=0.5)
        network.send("c", "d", "test", b"", 10)
    network.add_link("a", "b", Delay.fixed(0.01), 1e6, loss=0.3)
    messages = [network.send("a", "b", "test", b"", 10) for _ in range(300)]
    network.attach("b", "test", lambda m: None)
    world.run(100)
    return [i for i, m in enumerate(messages) if m.status == "dropped"]


def test_loss_is_reproducible_and_per_link():
    first = loss_pattern(1, extra_link=False)
    assert first == loss_pattern(1, extra_link=False)
    assert first == loss_pattern(1, extra_link=True)
    assert first != loss_pattern(2, extra_link=False)
    assert 60 < len(first) < 120  # 30 % of 300, loosely


def test_scheduled_outage_drops_messages_and_in_flight_ones(world):
    network = chain(world, "a", "b", latency_s=1.0)
    arrived = collect(network, "b")
    network.schedule_outage("a--b", start_s=10.0, duration_s=5.0)
    sent = {}

    def sender():
        sent["before"] = network.send("a", "b", "test", b"", 10)   # arrives at ~1 s
        yield world.timeout(9.5)
        sent["in_flight"] = network.send("a", "b", "test", b"", 10)  # on the wire when it fails at 10 s
        yield world.timeout(1.0)
        sent["during"] = network.send("a", "b", "test", b"", 10)
        yield world.timeout(5.0)
        sent["after"] = network.send("a", "b", "test", b"", 10)

    world.process(sender())
    world.run(30)
    # During the outage there is no route at all (the only link is down).
    assert sent["during"].reason == DropReason.NO_ROUTE
    assert sent["in_flight"].reason == DropReason.OUTAGE_IN_FLIGHT
    assert {sent["before"].status, sent["after"].status} == {"delivered"}
    assert len(arrived) == 2
    assert network.finish().links["a--b"].outages == 1


def test_random_outages_follow_mtbf_and_are_seeded():
    def downtime(seed: int) -> float:
        world = World(seed)
        network = chain(world, "a", "b")
        network.random_outages("a--b", mtbf_s=100.0, mttr_s=10.0)
        down = 0
        for _ in range(20000):
            world.run(world.now + 1.0)
            down += not network.links["a--b"].up
        return down / 20000

    assert downtime(3) == downtime(3)
    assert 0.04 < downtime(3) < 0.16  # availability ~ MTBF / (MTBF + MTTR) = 0.91


def test_routes_take_the_lowest_latency_path_and_reroute_around_outages(world):
    network = CommNetwork(world)
    for node in ("premises", "collector", "headend", "control", "satellite_hub"):
        network.add_node(node)
    network.add_link("premises", "collector", Delay.fixed(0.5), 50e3)
    network.add_link("collector", "headend", Delay.fixed(0.03), 5e6)
    network.add_link("headend", "control", Delay.fixed(0.005), 100e6)
    network.add_link("collector", "satellite_hub", Delay.fixed(0.28), 2e6)
    network.add_link("satellite_hub", "control", Delay.fixed(0.01), 100e6)
    arrived = collect(network, "control")
    assert network.route("premises", "control") == ["premises", "collector", "headend", "control"]
    network.send("premises", "control", "test", b"", 100)
    world.run(5)
    network.set_link_down("collector--headend")
    assert network.route("premises", "control") == ["premises", "collector", "satellite_hub", "control"]
    network.send("premises", "control", "test", b"", 100)
    world.run(10)
    assert [len(m.path) - 1 for _, m in arrived] == [3, 3]
    assert arrived[1][1].path[2] == "satellite_hub"
    network.set_link_down("satellite_hub--control")
    assert network.route("premises", "control") is None
    dropped = network.send("premises", "control", "test", b"", 100)
    assert dropped.reason == DropReason.NO_ROUTE


def test_message_to_a_node_without_listener_or_unknown_node_is_dropped(world):
    network = chain(world, "a", "b")
    nobody = network.send("a", "b", "modbus", b"\x00", 1)
    unknown = network.send("a", "zz", "test", b"", 1)
    world.run(1)
    assert nobody.reason == DropReason.NO_ENDPOINT
    assert unknown.reason == DropReason.UNKNOWN_NODE


def test_trace_rows_and_link_stats_are_written(world, tmp_path):
    network = chain(world, "a", "b", "c", latency_s=0.02)
    collect(network, "c")
    network.send("a", "c", "test", b"\x01\x02", 2)
    network.send("a", "c", "test", "not bytes", 5, info="hello")
    network.send("a", "nowhere", "test", b"", 1)
    world.run(5)
    stats = network.finish()
    assert network.finish() is stats
    world.recorder.close()
    rows = list(csv.DictReader(open(tmp_path / "messages.csv")))
    assert [r["status"] for r in rows] == ["dropped", "delivered", "delivered"]
    first = rows[1]
    assert first["path"] == "a>b>c" and first["hops"] == "2" and first["info"] == "0102"
    assert float(first["done_s"]) > float(first["sent_s"])
    assert rows[2]["info"] == "hello"
    links = {r["link"]: r for r in csv.DictReader(open(tmp_path / "link_stats.csv"))}
    assert links["a--b"]["delivered"] == "2"
    assert stats.links["b--c"].latency_p50_s == pytest.approx(0.02, rel=0.1)
    assert stats.delivered == 2 and stats.dropped == {"unknown_node": 1}


def test_link_statistics_percentiles(world):
    network = CommNetwork(world)
    network.add_node("a"), network.add_node("b")
    network.add_link("a", "b", Delay.uniform(0.0, 1.0), 1e12)
    collect(network, "b")

    def paced():
        for _ in range(2000):
            network.send("a", "b", "test", b"", 0)
            yield world.timeout(2.0)

    world.process(paced())
    world.run(5000)
    summary = network.statistics().links["a--b"]
    assert summary.delivered == 2000
    assert summary.latency_p50_s == pytest.approx(0.5, abs=0.05)
    assert summary.latency_p95_s == pytest.approx(0.95, abs=0.03)
    assert summary.latency_p99_s == pytest.approx(0.99, abs=0.02)
