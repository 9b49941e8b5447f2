"""Sweep speed-up: the same sweep with 1 worker (in process) and with N local worker processes.

    python benchmarks/bench_sweep.py                   # 8 quickstart runs of 10 simulated days, 2 workers
    python benchmarks/bench_sweep.py --runs 8 --days 10 --workers 2 --repeats 3

Each run records every sample to CSV, as a real study would. The speed-up is
wall(1 worker) / wall(N workers), best of ``--repeats``; the two results
tables are also compared byte for byte (they must be identical). Run it on a
quiet machine: other load on the cores shows up directly in the ratio.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from cosim.batch import load_sweep, run_sweep
from cosim.batch.executors import Executor, InProcess, LocalProcesses

QUICKSTART = Path(__file__).resolve().parents[1] / "configs" / "quickstart.yaml"


def timed(sweep_path: Path, out_root: Path, executor: Executor) -> tuple[float, bytes]:
    sweep = load_sweep(sweep_path, out_root)
    started = time.perf_counter()
    result = run_sweep(sweep, executor)
    wall = time.perf_counter() - started
    assert result.count("completed") == len(sweep.runs), result.failed
    return wall, (sweep.out_dir / "results.csv").read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--days", type=int, default=10, help="simulated days per run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scenario", type=Path, default=QUICKSTART, help="base scenario (default: the quickstart)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as folder:
        root = Path(folder)
        sweep_path = root / "sweep.yaml"
        seeds = ", ".join(str(s) for s in range(1, args.runs + 1))
        sweep_path.write_text(f"name: bench\nscenario: {args.scenario.resolve()}\nparameters:\n  run.duration: [{args.days}d]\nseeds: [{seeds}]\n")
        serial, parallel = [], []
        for repeat in range(args.repeats):
            wall, table_1 = timed(sweep_path, root / f"one-{repeat}", InProcess())
            serial.append(wall)
            wall, table_n = timed(sweep_path, root / f"many-{repeat}", LocalProcesses(args.workers))
            parallel.append(wall)
            assert table_1 == table_n, "results differ between executors"
    print(f"sweep: {args.runs} runs of {args.scenario.name} x {args.days} simulated days, {os.cpu_count()} cores, best of {args.repeats}")
    print(f"1 worker (in process)       : {min(serial):6.2f} s  ({min(serial) / args.runs:.2f} s a run)  all: {', '.join(f'{w:.2f}' for w in serial)}")
    print(f"{args.workers} worker processes          : {min(parallel):6.2f} s  all: {', '.join(f'{w:.2f}' for w in parallel)}")
    print(f"speed-up {args.workers} vs 1 worker        : {min(serial) / min(parallel):.2f}x (results tables identical)")


if __name__ == "__main__":
    main()
