"""One tidy table across the runs of a sweep: ``results.csv`` (and ``results.parquet``).

One row per run and summary row (domain, quantity): the run's id, status,
error and seed, then one column per swept address, then the columns of the
run's ``summary.csv``. A run with no summary (it failed before recording,
or was never run) still gets one row, so its status is visible.

The table is read back from the run folders on disk, in the sweep's plan
order, never from the order runs finished in: the same sweep gives the same
bytes whatever executor or worker count produced it. Nothing wall-clock
(run times, hosts) goes in; those are in each run's ``manifest.json``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Mapping

from .sweepfile import RunPlan, Sweep
from .worker import RunOutcome

RUN_COLUMNS = ("run_id", "status", "error", "seed")
SUMMARY_COLUMNS = ("domain", "quantity", "unit", "entities", "samples", "min", "mean", "max", "last_total")
_INT_COLUMNS = {"seed", "entities", "samples"}
_FLOAT_COLUMNS = {"min", "mean", "max", "last_total"}


def run_status(run_dir: Path) -> tuple[str, str]:
    """(status, error) from the run's manifest; ``not run`` when it has none."""
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "not run", ""
    return str(manifest.get("status", "unknown")), str(manifest.get("error") or "")


def table_rows(sweep: Sweep, outcomes: Mapping[str, RunOutcome] | None = None) -> list[list[str]]:
    """The results table as text cells (header first), in plan order."""
    outcomes = outcomes or {}
    header = list(RUN_COLUMNS) + list(sweep.addresses) + list(SUMMARY_COLUMNS)
    rows: list[list[str]] = [header]
    for run in sweep.runs:
        run_dir = sweep.run_dir(run)
        status, error = run_status(run_dir)
        outcome = outcomes.get(run.run_id)
        if status == "not run" and outcome is not None:  # e.g. the worker process died
            status, error = outcome.status, outcome.error
        lead = [run.run_id, status, _one_line(error), str(run.seed)] + [_cell(v) for v in _param_values(sweep, run)]
        summary = _summary_rows(run_dir / "summary.csv")
        if not summary:
            rows.append(lead + [""] * len(SUMMARY_COLUMNS))
        for item in summary:
            rows.append(lead + [item.get(c, "") for c in SUMMARY_COLUMNS])
    return rows


def write_tables(sweep: Sweep, outcomes: Mapping[str, RunOutcome] | None = None) -> list[Path]:
    """Write ``results.csv`` and, when pyarrow is installed, ``results.parquet``; return the paths."""
    rows = table_rows(sweep, outcomes)
    sweep.out_dir.mkdir(parents=True, exist_ok=True)
    written = [sweep.out_dir / "results.csv"]
    with open(written[0], "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    parquet = _write_parquet(sweep.out_dir / "results.parquet", rows, set(sweep.addresses))
    if parquet is not None:
        written.append(parquet)
    return written


def _write_parquet(path: Path, rows: list[list[str]], param_columns: set[str]) -> Path | None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    header, body = rows[0], rows[1:]
    arrays = {}
    for i, name in enumerate(header):
        cells = [row[i] for row in body]
        arrays[name] = pa.array(_typed(name, cells, name in param_columns))
    pq.write_table(pa.table(arrays), path)
    return path


def _typed(name: str, cells: list[str], is_param: bool) -> list[Any]:
    """Numbers as numbers where the whole column is numeric; empty cells as nulls."""
    if name in _INT_COLUMNS:
        return [int(c) if c else None for c in cells]
    if name in _FLOAT_COLUMNS or (is_param and all(_is_number(c) for c in cells if c)):
        return [float(c) if c else None for c in cells]
    return [c if c != "" or not is_param else None for c in cells]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.lower() not in {"nan", "inf", "-inf", "infinity"}


def _param_values(sweep: Sweep, run: RunPlan) -> list[Any]:
    values = run.params_dict
    return [values.get(address) for address in sweep.addresses]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _summary_rows(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except OSError:
        return []
