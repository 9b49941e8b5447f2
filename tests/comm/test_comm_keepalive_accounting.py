"""Keep-alives accounted, not simulated: the same counts and session state as simulating each packet.

Each story runs twice on identical networks, once simulating every PINGREQ
and PINGRESP (the reference: the full message path) and once accounting
them, and compares what the accounting promises to keep (docs/comm.md).
"""

from __future__ import annotations

import csv
from collections.abc import Generator
from pathlib import Path
from typing import Any

from cosim.comm import CommNetwork, Delay, QoS
from cosim.comm.mqtt import Will
from cosim.comm.network import KeepAlives
from cosim.kernel import World


def meter_story(out: Path, mode: KeepAlives, *, loss: float = 0.0, outage: tuple[float, float] | None = None,
                hours: float = 2.0, seed: int = 5) -> tuple[CommNetwork, list[float], list[dict[str, str]]]:
    """A meter behind a collector publishing every 100 s (keep-alive 30 s) to a head-end; a watcher on the will."""
    world = World(seed=seed, out_dir=out)
    network = CommNetwork(world, keep_alives=mode)
    for node in ("meter", "collector", "headend", "ops"):
        network.add_node(node)
    network.add_link("meter", "collector", Delay.lognormal(0.2, 0.5), 50e3, jitter_s=0.05, loss=loss)
    network.add_link("collector", "headend", Delay.lognormal(0.03, 0.4), 5e6, jitter_s=0.01, name="backhaul")
    network.add_link("ops", "headend", Delay.fixed(0.001), 100e6)
    network.add_mqtt_broker("headend")
    meter = network.mqtt_client("meter", "m1", "headend", keep_alive_s=30.0, will=Will("lwt/m1", b"gone"))
    watcher = network.mqtt_client("ops", "ops", "headend", keep_alive_s=0.0)  # no keep-alive: only the meter pings
    wills: list[float] = []
    if outage is not None:
        network.schedule_outage("backhaul", *outage)

    def story() -> Generator[Any, Any, None]:
        yield from watcher.connect()
        yield from watcher.subscribe("lwt/#", QoS.AT_MOST_ONCE, lambda _m: wills.append(world.now))
        yield from meter.connect()
        while meter.connected:
            yield world.timeout(100.0)
            if meter.connected:
                yield from meter.publish("ami/m1", b"kwh=1.5", QoS.AT_MOST_ONCE)

    world.process(story())
    world.env.run(until=hours * 3600.0)
    world.recorder.close()
    rows = list(csv.DictReader(open(out / "messages.csv")))
    return network, wills, rows


def kinds(rows: list[dict[str, str]]) -> list[str]:
    return [r["kind"] for r in rows]


def test_on_an_up_loss_free_way_counts_and_session_match_the_simulation(tmp_path: Path) -> None:
    simulated, _, sim_rows = meter_story(tmp_path / "sim", KeepAlives.SIMULATE)
    accounted, _, acc_rows = meter_story(tmp_path / "acc", KeepAlives.ACCOUNT, loss=0.0)
    pings = kinds(sim_rows).count("pingreq")
    assert pings > 100  # the meter is quiet between reports: most of its traffic is keep-alive
    assert "pingreq" not in kinds(acc_rows) and "pingresp" not in kinds(acc_rows)
    stats_sim, stats_acc = simulated.statistics(), accounted.statistics()
    assert stats_acc.accounted == {"mqtt/pingreq": pings, "mqtt/pingresp": kinds(sim_rows).count("pingresp")}
    for name, link in stats_sim.links.items():  # every link carried the same messages and bytes
        other = stats_acc.links[name]
        assert (link.sent, link.delivered, link.lost, link.bytes) == (other.sent, other.delivered, other.lost,
                                                                      other.bytes), name
    assert simulated.mqtt_broker("headend").sessions["m1"].connected
    assert accounted.mqtt_broker("headend").sessions["m1"].connected
    assert sorted(kinds(sim_rows)) == sorted(kinds(acc_rows) + ["pingreq"] * pings + ["pingresp"] * pings)


def first_loss(rows: list[dict[str, str]]) -> dict[str, str]:
    """The first packet from the meter lost on the wire."""
    return next(r for r in rows if r["src"] == "meter" and r["status"] == "dropped" and r["reason"] == "lost")


def test_on_a_lossy_way_the_same_pings_are_lost_and_the_broker_gives_up_as_in_the_simulation(tmp_path: Path) -> None:
    """5 % loss on the meter's radio link: a lost PINGREQ makes the broker give up 1.5 keep-alives after the last.

    An accounted ping draws its loss from the same per-link loss stream, in
    the same order, as the simulated one: the same ping is lost in both runs.
    """
    for seed in (1, 3, 9):
        _, wills_sim, sim_rows = meter_story(tmp_path / f"sim{seed}", KeepAlives.SIMULATE, loss=0.05, seed=seed)
        network, wills_acc, acc_rows = meter_story(tmp_path / f"acc{seed}", KeepAlives.ACCOUNT, loss=0.05, seed=seed)
        assert network.statistics().accounted["mqtt/pingreq"] > 0
        lost_sim, lost_acc = first_loss(sim_rows), first_loss(acc_rows)
        assert (lost_acc["kind"], lost_acc["path"]) == ("pingreq", "meter>collector")  # traced, with its way
        assert (lost_sim["kind"], lost_sim["path"], lost_sim["sent_s"]) == ("pingreq", lost_acc["path"],
                                                                             lost_acc["sent_s"])
        assert len(wills_sim) == len(wills_acc) == 1
        # The broker last heard the meter one keep-alive (30 s) before: it gives up 15 s after the lost ping,
        # up to the latency of the last ping it heard (drawn in one run, its mean in the other).
        for will in (wills_sim[0], wills_acc[0]):
            assert 15.0 < will - float(lost_acc["sent_s"]) < 16.0
        for link in network.statistics().links.values():  # each message a link counted: delivered, lost or cut
            assert link.sent == link.delivered + link.lost + link.dropped_down


def test_during_an_outage_pings_are_simulated_and_the_will_comes_as_in_the_simulation(tmp_path: Path) -> None:
    """The backhaul fails at 1 h for 10 min: pings are dropped, the broker gives up and publishes the will."""
    outage = (3600.0, 600.0)
    _, wills_sim, sim_rows = meter_story(tmp_path / "sim", KeepAlives.SIMULATE, outage=outage)
    network, wills_acc, acc_rows = meter_story(tmp_path / "acc", KeepAlives.ACCOUNT, outage=outage)
    assert len(wills_sim) == len(wills_acc) == 1
    # Same instant up to the latency of the last ping before the outage: drawn in one, its mean in the other.
    assert abs(wills_sim[0] - wills_acc[0]) < 1.0
    dropped = [r for r in acc_rows if r["kind"] == "pingreq" and r["status"] == "dropped"]
    assert dropped and all(3600.0 <= float(r["sent_s"]) < 4200.0 for r in dropped)
    assert network.statistics().accounted["mqtt/pingreq"] > 100
