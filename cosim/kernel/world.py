"""The World: one SimPy environment, the run's random streams and its recorder.

Everything in a run hangs off one World, passed explicitly to every process:
there are no globals, so two worlds in one Python process never interfere.
The kernel knows nothing of buses, registers or markets; layers (the grid, the
communication network) register themselves as named services.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Generator

import simpy

from .clock import make_environment
from .recorder import Recorder
from .rng import RandomStreams

ProgressCallback = Callable[[float, float], None]
"""Called as ``progress(now_s, until_s)`` at each checkpoint of :meth:`World.run`."""


class World:
    """Simulated time in seconds, named random streams, a recorder and layer services."""

    def __init__(
        self,
        seed: int = 0,
        out_dir: Path | None = None,
        real_time: bool = False,
        realtime_factor: float = 1.0,
    ) -> None:
        self.seed = int(seed)
        self.env = make_environment(real_time, realtime_factor)
        self.rng = RandomStreams(self.seed)
        self.recorder = Recorder(out_dir, clock=lambda: self.env.now)
        self._services: dict[str, Any] = {}
        # The two hottest calls are bound straight to their implementations,
        # saving a Python call layer per event; the methods below document them.
        self.timeout = self.env.timeout  # type: ignore[method-assign, assignment]
        self.record = self.recorder.record  # type: ignore[method-assign]

    @property
    def now(self) -> float:
        """Current simulated time in seconds."""
        return float(self.env.now)

    # -- processes -----------------------------------------------------------
    def process(self, generator: Generator[simpy.Event, Any, Any]) -> simpy.Process:
        """Start a SimPy process (a generator that yields events)."""
        return self.env.process(generator)

    def timeout(self, delay_s: float, value: Any = None) -> simpy.Timeout:
        """An event that fires ``delay_s`` simulated seconds from now."""
        return self.env.timeout(delay_s, value)

    # -- recording -----------------------------------------------------------
    def record(self, entity: str, quantity: str, value: float, unit: str) -> None:
        """A time-series sample at the current simulated time."""
        self.recorder.record(entity, quantity, value, unit)

    def log(self, kind: str, **fields: Any) -> None:
        """An event-log entry at the current simulated time."""
        self.recorder.log(kind, **fields)

    # -- layers --------------------------------------------------------------
    def add_service(self, name: str, service: Any) -> None:
        """Register a layer (``"grid"``, ``"comm"``, ...) for processes to find."""
        if name in self._services:
            raise ValueError(f"service {name!r} already registered")
        self._services[name] = service

    def service(self, name: str) -> Any:
        """The layer registered as ``name``; KeyError names what is available."""
        try:
            return self._services[name]
        except KeyError:
            raise KeyError(f"no {name!r} service in this world (have: {sorted(self._services)})") from None

    def has_service(self, name: str) -> bool:
        return name in self._services

    # -- running -------------------------------------------------------------
    def run(self, until_s: float, progress: ProgressCallback | None = None, checkpoints: int = 200) -> None:
        """Advance simulated time to ``until_s``.

        With a ``progress`` callback the run advances in ``checkpoints`` equal
        slices, flushes the recorder and reports after each; the slicing does
        not change results, since SimPy processes events in the same order
        either way.
        """
        if progress is None:
            self.env.run(until=until_s)
            return
        start = self.now
        for index in range(1, checkpoints + 1):
            target = start + (until_s - start) * index / checkpoints
            if target > self.now:
                self.env.run(until=target)
            self.recorder.flush()
            progress(self.now, until_s)
