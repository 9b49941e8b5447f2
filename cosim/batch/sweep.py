"""Runs a validated sweep: decides what still needs running, hands it to an executor, writes the table.

``resume`` skips a run whose folder already holds a completed run of exactly
the same scenario: the manifest says ``completed`` and its scenario hash is
the hash of the resolved scenario this plan would run now (which covers the
swept values and the seed), and ``params.json`` matches. Anything else --
failed, interrupted, or a base scenario edited since -- is run again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .collect import write_tables
from .executors import Executor
from .sweepfile import RunPlan, Sweep
from .worker import PARAMS_FILE, RunOutcome, RunTask, params_json, scenario_sha256

OnOutcome = Callable[[RunOutcome], None]


@dataclass(frozen=True)
class SweepResult:
    outcomes: dict[str, RunOutcome]  # by run id
    tables: tuple[Path, ...]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes.values() if o.status == status)

    @property
    def failed(self) -> list[RunOutcome]:
        return sorted((o for o in self.outcomes.values() if o.status == "failed"), key=lambda o: o.run_id)


def task_for(sweep: Sweep, run: RunPlan) -> RunTask:
    return RunTask(
        run_id=run.run_id,
        run_dir=str(sweep.run_dir(run)),
        scenario_yaml=run.scenario_yaml,
        base_dir=str(sweep.base_scenario.parent),
        params=run.params,
        seed=run.seed,
    )


def already_completed(task: RunTask) -> bool:
    """Whether ``task``'s folder holds a completed run of the very same scenario and parameters."""
    run_dir = Path(task.run_dir)
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        recorded_params = (run_dir / PARAMS_FILE).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return False
    return (
        manifest.get("status") == "completed"
        and manifest.get("scenario_sha256") == scenario_sha256(task)
        and recorded_params == params_json(task)
    )


def run_sweep(sweep: Sweep, executor: Executor, resume: bool = False, on_outcome: OnOutcome | None = None) -> SweepResult:
    """Run every planned run (or those not yet completed, with ``resume``) and write the results table.

    ``on_outcome`` is called in this process as each run finishes (a progress
    bar). Failed runs are reported in the outcomes and the table; they never
    stop the others. An interruption (KeyboardInterrupt) still writes the
    table, then propagates.
    """
    outcomes: dict[str, RunOutcome] = {}
    pending = []
    for run in sweep.runs:
        task = task_for(sweep, run)
        if resume and already_completed(task):
            outcomes[run.run_id] = RunOutcome(run.run_id, "skipped")
            if on_outcome:
                on_outcome(outcomes[run.run_id])
        else:
            pending.append(task)
    sweep.out_dir.mkdir(parents=True, exist_ok=True)
    try:
        for outcome in executor.run(pending):
            outcomes[outcome.run_id] = outcome
            if on_outcome:
                on_outcome(outcome)
    finally:  # also when interrupted: the table then shows what finished and what did not
        tables = write_tables(sweep, outcomes)
    return SweepResult(outcomes, tuple(tables))
