"""The two clocks of a run: as fast as possible (batch) or paced to the wall clock.

Batch and hardware-in-the-loop runs differ only here: the same World and the
same processes run on either environment.
"""

from __future__ import annotations

import math

import simpy
import simpy.rt


def make_environment(real_time: bool = False, factor: float = 1.0) -> simpy.Environment:
    """Build the SimPy environment; simulated time is in seconds.

    ``factor`` is the real-time factor: 10 runs ten simulated seconds per wall
    second. Real-time environments are not strict, so a slow step is reported
    as lag by the caller instead of raising in the middle of the run.
    """
    if not real_time:
        return simpy.Environment()
    if factor <= 0:
        raise ValueError("real-time factor must be positive")
    return simpy.rt.RealtimeEnvironment(factor=1.0 / factor, strict=False)


# -- time arithmetic on the float clock ------------------------------------------------
# SimPy time is a float: past 2**24 s its spacing exceeds 1e-9 s, past 2**26 s it is
# about 1.5e-8 s. A fixed tolerance ("due within 1e-9") or a delay computed as
# ``period - elapsed`` can then be a non-zero number that adds nothing to ``now``:
# a timeout at the same instant, forever. Compare instants exactly and schedule
# absolute instants through these helpers instead.


def delay_until(now: float, when: float) -> float:
    """The timeout delay (simulated s) that fires at ``when``, never before it; 0 if ``when <= now``.

    SimPy fires a timeout at ``now + delay`` rounded to the clock; this picks
    the delay so that the rounded instant is not below ``when``, so a process
    that wakes and checks ``now >= when`` always finds it true (no retry at
    the same instant).
    """
    if not when > now:
        return 0.0
    delay = when - now
    while now + delay < when:  # at most a step or two: only when rounding landed short
        delay = math.nextafter(delay, math.inf)
    return delay


def next_tick(now: float, origin: float, period: float) -> float:
    """The first instant ``origin + k * period`` (integer k) strictly after ``now``.

    Periodic processes schedule from integer multiples of their period, so
    their instants do not drift with accumulated rounding, and always advance:
    where the grid is finer than the clock itself the next representable
    instant after ``now`` is returned.
    """
    if not period > 0:
        raise ValueError(f"period must be positive, got {period}")
    k = math.floor((now - origin) / period) + 1
    tick = origin + k * period
    if tick <= now:
        tick = origin + (k + 1) * period
        if tick <= now:
            tick = math.nextafter(now, math.inf)
    return tick


def clock_resolution(t: float) -> float:
    """The spacing of the float clock at simulated time ``t`` (s): a tolerance relative to its magnitude."""
    return math.ulp(max(abs(t), 1.0))
