"""What a worker does for one run of a sweep, wherever it runs (this process, a pool, Dask).

The task carries the resolved scenario text, so a worker needs the package
and a shared results folder but not the sweep or base scenario files. The
text is written into the run folder as ``scenario.yaml`` before the run:
the run folder then says exactly what ran, ``manifest.json`` points at it,
and ``cosim report`` can draw its diagram.

A run that fails -- a bad combination of values, an exception in a model --
comes back as an outcome with ``status="failed"`` and the error text; it
never raises, so one broken run cannot stop the sweep.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCENARIO_COPY = "scenario.yaml"
PARAMS_FILE = "params.json"


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run (picklable, no open files)."""

    run_id: str
    run_dir: str
    scenario_yaml: str
    base_dir: str  # where relative paths inside the scenario (grid cases, profiles) live
    params: tuple[tuple[str, Any], ...]
    seed: int


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    status: str  # completed | failed | skipped (already completed, --resume)
    error: str = ""
    wall_time_s: float = 0.0


def scenario_sha256(task: RunTask) -> str:
    """The hash the run's manifest will record: the bytes of the scenario copy."""
    return hashlib.sha256(task.scenario_yaml.encode("utf-8")).hexdigest()


def params_json(task: RunTask) -> str:
    return json.dumps({"run_id": task.run_id, "seed": task.seed, "params": dict(task.params)}, indent=2, sort_keys=True, default=str) + "\n"


def execute(task: RunTask) -> RunOutcome:
    """Run one task to completion or failure; never raises (except KeyboardInterrupt)."""
    from ..errors import ScenarioError
    from ..runner import run_scenario
    from ..scenario import load_scenario

    started = time.perf_counter()
    run_dir = Path(task.run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        for stale in run_dir.iterdir():  # a re-run starts clean: no file of an older attempt survives
            if stale.is_file():
                stale.unlink()
        copy = run_dir / SCENARIO_COPY
        copy.write_text(task.scenario_yaml, encoding="utf-8")
        (run_dir / PARAMS_FILE).write_text(params_json(task), encoding="utf-8")
        # Relative paths inside the scenario still mean the base scenario's folder.
        scenario = load_scenario(copy, base_dir=Path(task.base_dir))
        run_scenario(scenario, run_dir)
    except ScenarioError as error:
        _record_failure(run_dir, task, "; ".join(str(p) for p in error.problems))
        return RunOutcome(task.run_id, "failed", "; ".join(str(p) for p in error.problems), time.perf_counter() - started)
    except Exception as error:  # the run failed; run_scenario already closed its files
        text = f"{type(error).__name__}: {error}"
        _record_failure(run_dir, task, text, traceback.format_exc())
        return RunOutcome(task.run_id, "failed", text, time.perf_counter() - started)
    return RunOutcome(task.run_id, "completed", "", time.perf_counter() - started)


def _record_failure(run_dir: Path, task: RunTask, text: str, trace: str = "") -> None:
    """Leave the reason in the run folder too (a run that never started has no manifest of its own)."""
    try:
        manifest = run_dir / "manifest.json"
        if not manifest.exists():
            manifest.write_text(json.dumps({"status": "failed", "error": text, "scenario": str(run_dir / SCENARIO_COPY)}, indent=2) + "\n")
        if trace:
            (run_dir / "error.txt").write_text(trace, encoding="utf-8")
    except OSError:
        pass
