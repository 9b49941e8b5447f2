"""Measure the RBTS reliability study: simulated years per wall-clock minute, indices with intervals.

Run from the repository root:

    python benchmarks/bench_reliability.py            # 100 000 years per case
    python benchmarks/bench_reliability.py --years 1000000 --seed 1

Prints, for each case, the published / analytic / Monte Carlo (95 % interval)
table, the speed in simulated years per wall-clock minute (best of
``--repeat`` runs of the Monte Carlo part, excluding data loading), and the
convergence of the coefficient of variation of the mean (beta). Figures are
recorded in docs/benchmarks.md; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from cosim.kernel.rng import RandomStreams
from cosim.reliability.config import ReliabilityStudyConfig
from cosim.reliability.study import format_summary, run_study

CASES = (
    ("Bus 2 base, exponential repair (default)", {"system": "rbts_bus2"}),
    ("Bus 2 base, fixed repair (the analytic method's assumptions)", {"system": "rbts_bus2", "repair_model": "fixed"}),
    ("Bus 2 base, exponential repair, overlapping outages merged", {"system": "rbts_bus2", "overlap": "merge"}),
    ("Bus 2 transformer replacement", {"system": "rbts_bus2", "transformer_action": "replacement"}),
    ("Bus 4 base, exponential repair", {"system": "rbts_bus4"}),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case; the fastest is reported")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"command: python benchmarks/bench_reliability.py --years {args.years} --seed {args.seed} --repeat {args.repeat}\n")
    for title, overrides in CASES:
        config = ReliabilityStudyConfig(years=args.years, rng_stream=f"reliability/{overrides['system']}", **overrides)
        best = None
        for _ in range(args.repeat):
            # Same stream each time: identical draws, so only the timing differs between repeats.
            result = run_study(config, RandomStreams(args.seed)(config.rng_stream))
            best = result if best is None or result.wall_time_s < best.wall_time_s else best
        assert best is not None
        print(f"== {title}")
        print(format_summary(best))
        print(
            f"speed: {best.monte_carlo.years} years in {best.wall_time_s:.3f} s wall = {best.years_per_minute:,.0f} years/min "
            f"({best.monte_carlo.failures:,} failures, {best.monte_carlo.interruptions:,} load-point interruptions)"
        )
        checkpoints = [n for n in (100, 1_000, 10_000, 100_000, 1_000_000) if n <= args.years]
        for name, trace in best.convergence.items():
            marks = ", ".join(f"n={n:,}: {trace[n - 1]:.4f}" for n in checkpoints)
            print(f"beta({name}) {marks}")
        print()
    started = time.perf_counter()
    config = ReliabilityStudyConfig(years=100)
    run_study(config, RandomStreams(args.seed)(config.rng_stream))
    print(f"whole study of 100 years including data loading and FMEA: {time.perf_counter() - started:.3f} s wall")


if __name__ == "__main__":
    main()
