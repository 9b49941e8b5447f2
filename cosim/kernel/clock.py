"""The two clocks of a run: as fast as possible (batch) or paced to the wall clock.

Batch and hardware-in-the-loop runs differ only here: the same World and the
same processes run on either environment.
"""

from __future__ import annotations

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
