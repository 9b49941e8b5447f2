"""Property tests: every periodic process advances simulated time at any clock value.

Hypothesis picks clock values from 2^20 s to 2^40 s (12 days to 35,000 years)
with arbitrary low bits, and periods, latencies and report intervals from
their realistic ranges; each process is run over a window of several periods
with a guard that fails (instead of hanging) when events keep firing at one
instant. The float clock's spacing is 2^-32 s at 2^20 s and 2^-12 s at 2^40 s,
so the window crosses the same rounding cases that stalled runs past 2^24 s
with a fixed 1e-9 s tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cosim.comm import CommNetwork, Delay
from cosim.comm.interfaces import QoS
from cosim.hil.clock import RealtimeLoop, lag_monitor
from cosim.kernel import World
from cosim.kernel.clock import delay_until, next_tick
from cosim.operations.scada import PolledDevice, ScadaMaster
from devices.protection.curves import Curve
from devices.protection.overcurrent import TimeOvercurrentSettings
from devices.protection.fuse import Fuse, FuseLinkType, FuseSettings
from devices.protection.recloser import Recloser, RecloserSettings, RecloserState
from devices.protection.sectionalizer import Sectionalizer, SectionalizerSettings
from devices.registermaps import DeviceKind, standard_map
from devices.registerstore import RegisterStore

LARGE_CLOCK = st.floats(min_value=2.0 ** 20, max_value=2.0 ** 40, allow_nan=False, allow_infinity=False)
SAME_INSTANT_LIMIT = 1_000  # events at one instant before we call it a stall (a busy instant has a few dozen)
PROPERTY = settings(max_examples=30, deadline=None, derandomize=True)


def run_window(world: World, until_s: float) -> int:
    """Step ``world`` to ``until_s``; fail if time stops advancing. Returns the number of events."""
    env = world.env
    steps = same = 0
    last = env.now
    while env.peek() < until_s:
        env.step()
        steps += 1
        same = same + 1 if env.now == last else 0
        last = env.now
        assert same < SAME_INSTANT_LIMIT, f"simulated time stuck at t = {env.now!r} s"
    return steps


# -- the kernel's time arithmetic ---------------------------------------------------------------
@PROPERTY
@given(now=st.floats(min_value=0.0, max_value=2.0 ** 60), ahead=st.floats(min_value=0.0, max_value=1e6))
def test_delay_until_fires_at_or_after_the_instant_and_never_stays(now: float, ahead: float) -> None:
    when = now + ahead
    delay = delay_until(now, when)
    assert now + delay >= when
    if when > now:
        assert now + delay > now
    else:
        assert delay == 0.0


@PROPERTY
@given(now=st.floats(min_value=0.0, max_value=2.0 ** 60), origin=st.floats(min_value=0.0, max_value=1e6),
       period=st.floats(min_value=1e-6, max_value=1e6))
def test_next_tick_is_strictly_later_and_on_the_grid_where_the_clock_can_hold_it(
        now: float, origin: float, period: float) -> None:
    tick = next_tick(now, origin, period)
    assert tick > now
    if period > 4 * math.ulp(max(now, origin, 1.0)):
        k = round((tick - origin) / period)
        assert abs(tick - (origin + k * period)) <= 2 * math.ulp(max(tick, 1.0))
        assert origin + (k - 1) * period <= now + 2 * math.ulp(max(now, 1.0))


# -- MQTT keep-alive: client PINGREQ and broker watch ----------------------------------------
@PROPERTY
@given(start=LARGE_CLOCK, keep_alive=st.floats(min_value=5.0, max_value=3600.0),
       report=st.floats(min_value=0.5, max_value=7200.0), latency=st.floats(min_value=1e-4, max_value=0.05))
def test_mqtt_keep_alive_advances_at_large_clock_values(start: float, keep_alive: float, report: float,
                                                        latency: float) -> None:
    world = World(seed=1)
    network = CommNetwork(world, trace=False)
    for node in ("meter", "headend"):
        network.add_node(node)
    network.add_link("meter", "headend", Delay.lognormal(latency, 0.4), 5e6, jitter_s=latency / 3)
    network.add_mqtt_broker("headend")
    client = network.mqtt_client("meter", "m", "headend", keep_alive_s=keep_alive, retry_interval_s=keep_alive)

    def meter() -> Generator[Any, Any, None]:
        yield world.timeout(start)
        yield from client.connect()
        while True:
            yield world.timeout(report)
            if not client.connected:
                return  # the assertion below says why
            yield from client.publish("m/kwh", b"1", QoS.AT_MOST_ONCE)

    world.process(meter())
    run_window(world, start + 8 * keep_alive)
    assert client.connected  # the broker's 1.5 x keep-alive watch never lapsed: pings went out in time
    # Something was sent at least every keep-alive: CONNECT, then publishes or PINGREQs.
    sent = network.statistics().links["meter--headend"].sent
    assert sent >= 8


# -- SCADA polling ---------------------------------------------------------------------------
@PROPERTY
@given(start=LARGE_CLOCK, scan=st.floats(min_value=0.1, max_value=600.0))
def test_scada_polling_advances_at_large_clock_values(start: float, scan: float) -> None:
    world = World(seed=2)
    network = CommNetwork(world, trace=False)
    for node in ("master", "field"):
        network.add_node(node)
    network.add_link("master", "field", Delay.fixed(0.002), 10e6)
    network.modbus_server("field").add_unit(1, RegisterStore(standard_map(DeviceKind.RECLOSER)))
    device = PolledDevice.of_kind("r1", DeviceKind.RECLOSER, "field", 1, scan_s=scan)
    master = ScadaMaster(world, network, "master", [device], entity="scada")

    def begin() -> Generator[Any, Any, None]:
        yield world.timeout(start)
        master.start()

    world.process(begin())
    run_window(world, start + 20 * scan)
    assert master.polls >= 19 and master.poll_failures == 0


# -- protection timers (reclose intervals, reset times) -----------------------------------------
FAST = TimeOvercurrentSettings(400.0, Curve.IEEE_EXTREMELY_INVERSE.curve, time_dial=0.1)
DELAYED = TimeOvercurrentSettings(400.0, Curve.IEEE_VERY_INVERSE.curve, time_dial=1.0)


@PROPERTY
@given(start=LARGE_CLOCK, first=st.floats(min_value=0.05, max_value=60.0),
       second=st.floats(min_value=0.05, max_value=60.0))
def test_recloser_sequence_to_lockout_advances_at_large_clock_values(start: float, first: float, second: float) -> None:
    """A permanent fault: trip, reclose, trip, reclose, trip, lockout, each at a later instant."""
    recloser = Recloser("cb", RecloserSettings(FAST, DELAYED, 1, 2, reclose_intervals_s=(first, second),
                                               reset_time_s=30.0))
    now, closed, steps = start, True, 0
    recloser.step(now, 2000.0)  # the fault appears
    while recloser.state is not RecloserState.LOCKED_OUT:
        due = recloser.next_event_time_s()
        assert math.isfinite(due) and due > now, f"timer due at {due!r}, not after {now!r}"
        now = now + delay_until(now, due)
        for intent in recloser.step(now, 2000.0 if closed else 0.0):
            closed = type(intent).__name__ == "CloseBreaker"
        steps += 1
        assert steps < 100, f"no lockout after {steps} steps at t = {now!r}"
    assert recloser.lockout_time_s is not None and recloser.lockout_time_s > start


@PROPERTY
@given(start=LARGE_CLOCK, reset=st.floats(min_value=0.05, max_value=600.0))
def test_sectionalizer_reset_timer_advances_at_large_clock_values(start: float, reset: float) -> None:
    sectionalizer = Sectionalizer("s1", SectionalizerSettings(counts_to_open=3, actuating_current_a=400.0, reset_time_s=reset))
    sectionalizer.step(start, 2000.0)
    now = math.nextafter(start + 0.1, math.inf)
    sectionalizer.step(now, 0.0)  # one count, then the upstream device recloses onto a healthy feeder
    sectionalizer.step(math.nextafter(now, math.inf), 150.0)
    due = sectionalizer.next_event_time_s()
    assert math.isfinite(due) and due > now
    now = now + delay_until(now, due)
    sectionalizer.step(now, 150.0)
    assert sectionalizer.count == 0  # reset at its timer: the next fault counts from one again


@PROPERTY
@given(start=LARGE_CLOCK, shot=st.floats(min_value=0.01, max_value=0.5), dead=st.floats(min_value=0.05, max_value=30.0),
       delay=st.floats(min_value=0.0, max_value=0.05))
def test_fuse_melts_and_clears_at_large_clock_values(start: float, shot: float, dead: float, delay: float) -> None:
    """Two short fault shots with dead times between (a recloser's fast shots), then a fault that stays."""
    fuse = Fuse("cutout", FuseSettings(25, FuseLinkType.T, clearing_delay_s=delay))
    now, fault_on, shots, steps = start, True, 1, 0
    fuse.step(now, 1000.0)
    while not fuse.blown:
        timer = now + (shot if fault_on else dead) if shots < 3 else math.inf
        due = min(fuse.next_event_time_s(), timer)
        assert math.isfinite(due) and due >= now, f"no timer at t = {now!r}"
        now = now + delay_until(now, due)
        if now >= timer:
            fault_on = not fault_on
            shots += fault_on
        fuse.step(now, 1000.0 if fault_on else 0.0)
        steps += 1
        assert steps < 20, f"link not cleared after {steps} steps at t = {now!r}"
    assert fuse.clear_time_s is not None and fuse.clear_time_s > start


# -- HIL lag monitor -----------------------------------------------------------------------------
@PROPERTY
@given(start=LARGE_CLOCK, step=st.floats(min_value=0.01, max_value=60.0))
def test_hil_lag_monitor_advances_at_large_clock_values(start: float, step: float) -> None:
    world = World(seed=3)
    loop = RealtimeLoop(world.env, speed=1.0)  # never started: lag 0, only the sampling schedule matters

    def begin() -> Generator[Any, Any, None]:
        yield world.timeout(start)
        world.process(lag_monitor(world, loop, step, warn_s=1.0))

    world.process(begin())
    run_window(world, start + 50.5 * step)
    assert 50 <= len(loop.lag_samples) <= 52  # type: ignore[attr-defined]
