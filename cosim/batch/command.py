"""``cosim sweep``: the command-line face of a sweep (options, progress bar, closing lines).

Exit codes follow ``cosim run``: 0 every run completed (or was already),
1 at least one run failed (the others ran, the table says which), 2 bad
input -- the sweep file, its addresses or values, or the options -- and 130
interrupted (the table of what finished is written; ``--resume`` goes on).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import Problem, ScenarioError

EXIT_RUN_FAILED = 1
EXIT_INTERRUPTED = 130  # as cosim run


def add_parser(commands: argparse._SubParsersAction) -> None:
    sweep = commands.add_parser("sweep", help="run a scenario over a grid of parameters and seeds")
    sweep.add_argument("sweep", type=Path, help="sweep file (base scenario, parameters, seeds)")
    sweep.add_argument("--workers", type=int, default=None, help="local worker processes (default: CPU count)")
    sweep.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask distributed scheduler, e.g. tcp://10.0.0.5:8786")
    sweep.add_argument("--resume", action="store_true", help="skip runs already completed with the same scenario")
    sweep.add_argument("--out", type=Path, help="results root (default: the sweep's 'out', else results/)")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import os

    from tqdm import tqdm

    from .executors import choose
    from .sweep import run_sweep
    from .sweepfile import load_sweep

    if args.workers is not None and args.workers < 1:
        raise ScenarioError([Problem("--workers", "", f"{args.workers} is not a number of workers (give 1 or more)")])
    if args.workers is not None and args.scheduler:
        raise ScenarioError([Problem("--workers", "", "the Dask scheduler decides the workers; give --workers or --scheduler, not both")])
    if args.scheduler:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ScenarioError([Problem("--scheduler", "", "needs Dask: pip install 'gridcosim[dask]'")]) from None
    sweep = load_sweep(args.sweep, args.out)
    executor = choose(args.workers or os.cpu_count() or 1, args.scheduler)
    print(f"Sweep {sweep.name}: {len(sweep.runs)} runs of {_relative(sweep.base_scenario)} on {executor.description} -> {sweep.out_dir}")
    with tqdm(total=len(sweep.runs), unit="run", disable=True if args.no_progress else None, file=sys.stderr, leave=False) as bar:

        def advance(outcome) -> None:
            bar.update(1)
            if outcome.status == "failed":
                bar.write(f"run {outcome.run_id} failed: {outcome.error}", file=sys.stderr)

        try:
            result = run_sweep(sweep, executor, resume=args.resume, on_outcome=advance)
        except KeyboardInterrupt:
            print(f"\ninterrupted; finished runs and the table so far are in {sweep.out_dir} (--resume continues)", file=sys.stderr)
            return EXIT_INTERRUPTED
    done, skipped, failed = result.count("completed"), result.count("skipped"), result.count("failed")
    print(runs_table(sweep, result))
    print(f"Done: {done} completed, {skipped} skipped (already completed), {failed} failed")
    for table in result.tables:
        print(f"Results: {table}")
    return EXIT_RUN_FAILED if failed else 0


def runs_table(sweep, result) -> str:
    """One line per run: its id, seed, swept values (named by item and key) and how it ended."""
    from ..texttable import format_table
    from .paths import parse_address

    names = [parse_address(address).short for address in sweep.addresses]
    rows = []
    for run in sweep.runs:
        outcome = result.outcomes.get(run.run_id)
        status = outcome.status if outcome is not None else "not run"
        rows.append([run.run_id, str(run.seed), *(str(value) for _, value in run.params), status])
    return format_table(["run", "seed", *names, "status"], rows)


def _relative(path: Path) -> str:
    from ..scenario.loader import display_name_for

    return display_name_for(path)
