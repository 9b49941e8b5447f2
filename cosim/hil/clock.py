"""The real-time loop: SimPy events processed at their wall-clock time, I/O admitted in between.

:class:`simpy.rt.RealtimeEnvironment` sleeps in ``time.sleep`` until the next
event is due, deaf to sockets. This loop replaces only that sleep: it waits on
the :class:`~.bridge.SimInbox` until the next event's wall deadline, and work
that arrives meanwhile (a Modbus request, an MQTT message) is scheduled as an
event at the simulated time matching its arrival, then processed at once.
The simulation itself (``simpy.Environment.step``) is untouched, so batch and
real-time runs differ only in this clock.

Pacing is non-strict: when events take longer than their share of wall time
the loop processes them as fast as it can and catches up later; it never
skips or re-bases time. :func:`lag_monitor` makes any lateness visible.
"""

from __future__ import annotations

import math
import sys
import threading
from time import monotonic
from typing import Any, Generator, TextIO, cast

import simpy
import simpy.rt
from simpy.events import URGENT

from ..kernel.clock import delay_until, next_tick
from .bridge import SimInbox

INFINITY = math.inf


class RealtimeLoop:
    """Runs ``env`` paced to the wall clock at ``speed`` simulated seconds per wall second.

    For a :class:`simpy.rt.RealtimeEnvironment` (the World's clock in
    realtime mode) the speed is taken from its factor. All methods except
    :meth:`stop` and :meth:`lag_s` belong to the SimPy thread.
    """

    def __init__(self, env: simpy.Environment, inbox: SimInbox | None = None, speed: float | None = None) -> None:
        if speed is None:
            speed = 1.0 / env.factor if isinstance(env, simpy.rt.RealtimeEnvironment) else 1.0
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.env = env
        self.inbox = inbox if inbox is not None else SimInbox()
        self.speed = float(speed)
        self._t0_wall: float | None = None
        self._t0_sim = 0.0
        self._stop = threading.Event()
        self.admitted = 0  # jobs run so far

    # -- time ------------------------------------------------------------------------
    def start_clock(self) -> None:
        """Pin simulated ``env.now`` to the wall clock now (called by :meth:`run` the first time)."""
        if self._t0_wall is None:
            self._t0_wall = monotonic()
            self._t0_sim = float(self.env.now)
            if isinstance(self.env, simpy.rt.RealtimeEnvironment):
                self.env.sync()  # the environment's own notion agrees with ours

    def due_wall(self, sim_time_s: float) -> float:
        """The monotonic wall time at which simulated ``sim_time_s`` is due."""
        assert self._t0_wall is not None, "clock not started"
        return self._t0_wall + (sim_time_s - self._t0_sim) / self.speed

    def sim_time_at(self, wall_s: float) -> float:
        assert self._t0_wall is not None, "clock not started"
        return self._t0_sim + (wall_s - self._t0_wall) * self.speed

    def lag_s(self) -> float:
        """Wall seconds the simulation is behind its schedule now (negative: ahead)."""
        if self._t0_wall is None:
            return 0.0
        return monotonic() - self.due_wall(float(self.env.now))

    # -- running ---------------------------------------------------------------------
    def stop(self) -> None:
        """Ask :meth:`run` to return after the event in progress (any thread)."""
        self._stop.set()
        self.inbox.offer(_nothing)  # wake the wait

    def run(self, until_s: float = INFINITY) -> None:
        """Process events until simulated ``until_s`` (or :meth:`stop`), paced to the wall clock.

        Exceptions from processes propagate, as from ``env.run``; so does
        KeyboardInterrupt, between two events.
        """
        self.start_clock()
        self._stop.clear()
        env, inbox = self.env, self.inbox
        while not self._stop.is_set():
            upcoming = env.peek()
            target = min(upcoming, until_s)
            if target == INFINITY:
                inbox.wait(3600.0)
                self._admit()
                continue
            remaining = self.due_wall(target) - monotonic()
            if remaining > 0:
                if inbox.wait(remaining):
                    self._admit()
                continue
            if len(inbox):  # behind schedule: still let I/O in between events
                self._admit()
                continue
            if upcoming >= until_s:
                if until_s > env.now:  # move now to until_s, as env.run(until=...) does
                    mark = simpy.Event(env)
                    mark._ok, mark._value = True, None
                    env.schedule(mark, URGENT, delay_until(env.now, until_s))
                    simpy.Environment.step(env)
                return
            simpy.Environment.step(env)  # the plain step: the waiting was done above

    def run_process(self, generator: Generator[Any, Any, Any], timeout_s: float = 30.0) -> Any:
        """Run ``generator`` as a process, paced, until it ends; its value (or its exception).

        ``timeout_s`` (wall seconds) bounds the wait: TimeoutError after it.
        """
        process = self.env.process(generator)

        def finished(event: simpy.Event) -> None:
            if not event.ok:
                event.defused = True  # re-raised below, as itself (SimPy would rebuild it from its args)
            self.stop()

        process.callbacks.append(finished)
        self.start_clock()
        deadline_sim = self.sim_time_at(monotonic() + timeout_s)
        self.run(until_s=deadline_sim)
        if not process.triggered:
            raise TimeoutError(f"process still running after {timeout_s} s wall")
        if not process.ok:
            raise cast(BaseException, process.value)
        return process.value

    def _admit(self) -> None:
        """Schedule every waiting job at the simulated time of now (never before env.now)."""
        jobs = self.inbox.take_all()
        if not jobs:
            return
        env = self.env
        arrived = min(self.sim_time_at(monotonic()), env.peek())
        event = env.timeout(max(0.0, arrived - env.now))
        event.callbacks.append(lambda _event: self._run_jobs(jobs))

    def _run_jobs(self, jobs: list[Any]) -> None:
        self.admitted += len(jobs)
        for job in jobs:
            job()


def _nothing() -> None:
    pass


def lag_monitor(world: Any, loop: RealtimeLoop, step_s: float, warn_s: float,
                stream: TextIO | None = None, entity: str = "hil") -> Generator[Any, Any, None]:
    """Every ``step_s`` simulated seconds, record how far behind the wall clock the run is.

    Records ``hil/lag_s`` (wall seconds behind schedule). When the lag first
    exceeds ``warn_s`` it prints one line on ``stream`` (stderr) and logs a
    ``hil_lag`` event; once it is back under half of ``warn_s`` it logs
    ``hil_lag_recovered``. ``loop.lag_samples`` keeps every sample for statistics.
    """
    stream = stream if stream is not None else sys.stderr
    behind = False
    worst = 0.0
    samples: list[float] = []
    loop.lag_samples = samples  # type: ignore[attr-defined]
    origin = world.now
    while True:
        lag = loop.lag_s()
        samples.append(lag)
        world.record(entity, "lag_s", lag, "s")
        if lag > warn_s and not behind:
            behind, worst = True, lag
            print(f"hil: simulation is {lag:.3f} s behind the wall clock at t={world.now:.3f} s", file=stream, flush=True)
            world.log("hil_lag", lag_s=lag, warn_s=warn_s)
        elif behind:
            worst = max(worst, lag)
            if lag < warn_s / 2:
                behind = False
                print(f"hil: caught up at t={world.now:.3f} s (worst lag {worst:.3f} s)", file=stream, flush=True)
                world.log("hil_lag_recovered", lag_s=lag, worst_lag_s=worst)
        # Ticks at integer multiples of step_s from the start: no drift, and always a later instant.
        now = world.now
        yield world.timeout(delay_until(now, next_tick(now, origin, step_s)))
