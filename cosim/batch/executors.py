"""Where the runs of a sweep execute: this process, local worker processes, or a Dask cluster.

All three take the same tasks and yield outcomes as runs finish, in whatever
order they finish. Nothing a run produces depends on that order or on which
worker ran it (ids and seeds come from the parameters, each run writes only
its own folder, the results table is assembled in plan order afterwards),
so the choice of executor changes the wall time and nothing else.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import os
import signal
import sys
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
        with cf.ProcessPoolExecutor(max_workers=self.workers, initializer=end_with_parent) as pool:
            futures = {pool.submit(_execute_in_worker, task): task for task in tasks}
            finished = False
            try:
                for future in cf.as_completed(futures):
                    yield _outcome(future, futures[future])
                finished = True
            finally:  # interrupted (Ctrl-C, SIGTERM) or abandoned: do not start the queued runs on the way out
                for future in futures:
                    future.cancel()
                if not finished:
                    _stop_workers(pool)


def end_with_parent() -> None:
    """In a worker: receive SIGTERM when the sweep process dies, even by SIGKILL (Linux ``PR_SET_PDEATHSIG``).

    SIGTERM in a worker ends its run like Ctrl-C (files closed, manifest
    ``interrupted``), so a killed sweep leaves no worker running on.
    """
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _interrupt(signum: int, frame: object) -> None:
    """The first stop signal ends the run; later ones are ignored, because the run is then closing its files.

    A worker can be signalled more than once (the parent's death, then the
    pool's own stop); a second KeyboardInterrupt raised inside the closing
    would leave the manifest saying ``running``.
    """
    global _STOPPING
    if _STOPPING:
        return
    _STOPPING = True
    raise KeyboardInterrupt()


_STOPPING = False  # set in a worker by SIGTERM/SIGINT


def _execute_in_worker(task: RunTask) -> RunOutcome:
    """One run in a pool worker; a worker told to stop exits once its run has closed its files.

    Exiting matters: sibling workers hold the pool's pipes open, so a worker
    whose parent died would otherwise wait for its next task for ever.
    """
    try:
        return execute(task)
    finally:
        if _STOPPING:
            os._exit(128 + signal.SIGTERM)


def _stop_workers(pool: cf.ProcessPoolExecutor) -> None:
    """Ask the workers to end their current run now (SIGTERM), instead of waiting for them on the way out."""
    processes = getattr(pool, "_processes", None) or {}  # CPython keeps the worker processes here
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


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
