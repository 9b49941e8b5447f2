"""The thread boundary: work handed to the SimPy thread, and the asyncio thread that does socket I/O.

Why a queue into the SimPy thread rather than a lock around register stores:
a master's write does not stop at the store -- ``on_write`` callbacks trip
breakers through the grid service and trigger SimPy events, and neither SimPy
nor the grid is thread-safe. A lock would have to be held around every SimPy
step and would still let a foreign thread schedule events while the real-time
loop sleeps (they would fire late, at a stale ``env.now``). Handing each
request to the SimPy thread keeps every touch of simulation state in one
thread, stamps it with the simulated time it arrived at, and reads see a
consistent image between two events (no torn 32-bit values).

The inbox is bounded: when it is full, :meth:`SimInbox.offer` refuses and the
edge answers for itself (Modbus exception 06 SERVER DEVICE BUSY), so a flood
of requests cannot grow memory or starve the simulation.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from concurrent.futures import Future
from typing import Any, Callable, Coroutine

Job = Callable[[], None]


class SimInbox:
    """Bounded, thread-safe hand-over of callables to the SimPy thread.

    Any thread may :meth:`offer`; only the SimPy thread calls :meth:`take_all`
    and :meth:`wait`. ``capacity`` bounds the jobs waiting at any moment.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.capacity = capacity
        self._jobs: collections.deque[Job] = collections.deque()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self.accepted = 0
        self.refused = 0

    def offer(self, job: Job, force: bool = False) -> bool:
        """Queue ``job`` for the SimPy thread; False (and nothing queued) when the inbox is full.

        ``force`` skips the bound: for completions of work the simulation itself
        started (an answer to its own request), which are bounded by what it asked.
        """
        with self._lock:
            if len(self._jobs) >= self.capacity and not force:
                self.refused += 1
                return False
            self._jobs.append(job)
            self.accepted += 1
        self._ready.set()
        return True

    def wait(self, timeout_s: float) -> bool:
        """Block (wall seconds) until a job is queued or the timeout passes; True if jobs wait."""
        if timeout_s > 0 and not self._jobs:
            self._ready.wait(timeout_s)
        return bool(self._jobs)

    def take_all(self) -> list[Job]:
        """Every queued job, oldest first (SimPy thread only)."""
        with self._lock:
            self._ready.clear()
            jobs = list(self._jobs)
            self._jobs.clear()
        return jobs

    def __len__(self) -> int:
        return len(self._jobs)


class IoThread:
    """One asyncio event loop in a daemon thread, for every socket of a session."""

    def __init__(self, name: str = "cosim-hil-io") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._started = False

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> "IoThread":
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def submit(self, coro: Coroutine[Any, Any, Any]) -> Future[Any]:
        """Run ``coro`` on the I/O loop; a concurrent Future for its result (any thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, Any], timeout_s: float = 10.0) -> Any:
        """Run ``coro`` on the I/O loop and wait (wall seconds) for its result."""
        return self.submit(coro).result(timeout_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Cancel what still runs on the loop, stop it and join the thread."""
        if not self._started or self.loop.is_closed():
            return

        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks(self.loop) if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.submit(_cancel_all()).result(timeout_s)
        except Exception:  # a task that refuses to die must not keep the process alive
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout_s)
        if not self._thread.is_alive():
            self.loop.close()
