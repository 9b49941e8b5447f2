"""Where the runs of a sweep execute: this process, local worker processes, or a Dask cluster.

All three take the same tasks and yield outcomes as runs finish, in whatever
order they finish. Nothing a run produces depends on that order or on which
worker ran it (ids and seeds come from the parameters, each run writes only
its own folder, the results table is assembled in plan order afterwards),
so the choice of executor changes the wall time and nothing else.
"""

from __future__ import annotations

import concurrent.futures as cf
import uuid
from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol

from .worker import RunOutcome, RunTask, execute


class Executor(Protocol):
    @property
    def description(self) -> str:
        """Where the runs go, for the command's first line."""
        ...

    def run(self, tasks: Iterable[RunTask]) -> Iterator[RunOutcome]:
        """Yield one outcome per task as runs finish."""
        ...


@dataclass(frozen=True)
class InProcess:
    """One run after the other in this process: no start-up cost, easiest to debug."""

    description: str = "in this process"

    def run(self, tasks: Iterable[RunTask]) -> Iterator[RunOutcome]:
        for task in tasks:
            yield execute(task)


@dataclass(frozen=True)
class LocalProcesses:
    """A pool of ``workers`` local processes (one run per process at a time)."""

    workers: int

    @property
    def description(self) -> str:
        return f"{self.workers} local processes"

    def run(self, tasks: Iterable[RunTask]) -> Iterator[RunOutcome]:
        with cf.ProcessPoolExecutor(max_workers=self.workers) as pool:
            futures = {pool.submit(execute, task): task for task in tasks}
            try:
                for future in cf.as_completed(futures):
                    yield _outcome(future, futures[future])
            finally:  # interrupted (Ctrl-C) or abandoned: do not start the queued runs on the way out
                for future in futures:
                    future.cancel()


@dataclass(frozen=True)
class DaskCluster:
    """The workers of a running Dask distributed scheduler at ``address`` (e.g. ``tcp://host:8786``).

    Workers must import this package and see the results folder at the same
    path (a shared filesystem); the run folders are written by the workers.
    """

    address: str

    @property
    def description(self) -> str:
        return f"Dask scheduler {self.address}"

    def run(self, tasks: Iterable[RunTask]) -> Iterator[RunOutcome]:
        from distributed import Client, as_completed

        with Client(self.address, set_as_default=False) as client:
            # A run has side effects: each submission gets its own key, so two sweeps with the same run
            # ids on one long-lived cluster never share (or skip) a run. The run id stays readable in it.
            futures = {client.submit(execute, task, key=f"cosim-run-{task.run_id}-{uuid.uuid4().hex[:8]}"): task for task in tasks}
            for future in as_completed(futures, loop=client.loop):
                yield _outcome(future, futures[future])


def _outcome(future: object, task: RunTask) -> RunOutcome:
    """The worker's outcome; a crash of the worker itself (not of the run) is a failed run too."""
    try:
        return future.result()  # type: ignore[attr-defined]
    except Exception as error:  # e.g. BrokenProcessPool, a killed Dask worker
        return RunOutcome(task.run_id, "failed", f"worker failed: {type(error).__name__}: {error}")


def choose(workers: int, scheduler: str | None) -> Executor:
    """The executor the command-line options ask for."""
    if scheduler:
        return DaskCluster(scheduler)
    if workers <= 1:
        return InProcess()
    return LocalProcesses(workers)
