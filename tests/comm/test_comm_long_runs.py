"""Long runs never stall: MQTT keep-alive across the binades of the float clock (2^24 s to 2^27 s).

Past 2^24 s (194 days) the spacing of a float clock exceeds 1e-9 s; past 2^26 s
it is 1.5e-8 s. Where the clock crosses a power of two its spacing doubles, so
a wake-up computed as ``now + (keep_alive - idle)`` can land half a spacing
short of the due instant: a fixed 1e-9 s tolerance then schedules a timeout that
adds nothing to ``now``, forever. These runs start a few minutes before each
crossing (a sleep, not a hack of the clock) with odd instants drawn from LTE
latencies, and must end within an event budget.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from cosim.comm import CommNetwork
from cosim.comm.interfaces import QoS
from cosim.comm.profiles import LINK_PROFILES
from cosim.kernel import World

EVENT_BUDGET = 100_000  # a healthy 10-minute window takes a few hundred events


def _meter_over_lte(world: World, start_s: float, report_s: float) -> tuple[CommNetwork, Any]:
    """One MQTT meter reaching a head-end broker over two LTE hops, connecting at ``start_s``."""
    network = CommNetwork(world, trace=False)
    for node in ("meter", "tower", "headend"):
        network.add_node(node)
    lte = LINK_PROFILES["lte"]
    for a, b in (("meter", "tower"), ("tower", "headend")):
        network.add_link(a, b, lte.latency, lte.bandwidth_bps, jitter_s=lte.jitter_s)
    network.add_mqtt_broker("headend")
    client = network.mqtt_client("meter", "meter-1", "headend", keep_alive_s=60.0)

    def meter() -> Generator[Any, Any, None]:
        yield world.timeout(start_s)
        yield from client.connect()
        while True:  # reports at odd instants: each one moves the keep-alive's due time
            yield world.timeout(report_s)
            yield from client.publish("ami/meter-1/kwh", b"12.5", QoS.AT_LEAST_ONCE)

    world.process(meter())
    return network, client


def _run_with_budget(world: World, until_s: float) -> int:
    """Step the world to ``until_s``; fail (instead of hanging) if time stops advancing."""
    env = world.env
    steps = 0
    while env.peek() < until_s:
        env.step()
        steps += 1
        assert steps < EVENT_BUDGET, f"simulated time stuck at t = {env.now!r} s"
    return steps


@pytest.mark.parametrize("power", [24, 25, 26, 27])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_keep_alive_run_across_a_clock_binade_ends(power: int, seed: int) -> None:
    world = World(seed=seed)
    crossing = 2.0 ** power
    offset = float(world.rng("test/offset").uniform(250.0, 350.0))
    network, client = _meter_over_lte(world, crossing - offset, report_s=173.0 + seed)
    _run_with_budget(world, crossing + 600.0)
    broker = network.mqtt_broker("headend")
    assert client.connected and broker.sessions["meter-1"].connected  # the keep-alive held the session
    # A keep-alive of 60 s, with reports in between, over 15 minutes: PINGREQs went out.
    assert network.statistics().links["meter--tower"].sent > 10


def test_daily_meter_past_2_26_seconds_ends_for_every_seed() -> None:
    """The issue's case in small: a daily report over LTE, run from 2^26 - 1 day to 2^26 + 1 day."""
    for seed in range(1, 7):
        world = World(seed=seed)
        start = 2.0 ** 26 - 86_400.0 + float(world.rng("test/offset").uniform(0.0, 1.0))
        _meter_over_lte(world, start, report_s=86_400.0)
        _run_with_budget(world, start + 2 * 86_400.0)
        assert world.now > 2.0 ** 26
