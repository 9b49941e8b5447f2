"""Measure a co-simulated reliability study: incidents per wall minute, CI half-width reached, time to a target.

Run from the repository root:

    python benchmarks/bench_reliability_cosim.py configs/reliability/rbts_bus2_cosim_flisr_fibre_repair.yaml \
        --target-ci 5% --workers 2 --incidents 2000

Runs the study as ``cosim reliability`` does (batches, stopping rule) and prints
the wall time, the CPU time of all incidents (summed over the worker
processes), the load average, incidents done, SAIDI and its 95 % half-width,
the mean CPU time of an incident by kind of first failure (line section,
transformer) and the incidents a wall minute the run achieved -- the figure
that scales with workers (incidents are independent); and from the CPU total,
what the same study would take on 32 workers. Figures go to
docs/benchmarks.md; nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import tempfile
import time
from pathlib import Path

from cosim.cli import _percent
from cosim.reliability.cosimstudy import run_cosim_study
from cosim.reliability.statistics import Estimate
from cosim.reliability.studyfile import ReliabilityStudyFile
from cosim.scenario.loader import load_model_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("--target-ci", type=_percent, default=0.05)
    parser.add_argument("--incidents", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    spec = load_model_file(args.study, ReliabilityStudyFile)
    assert spec.cosimulation is not None, "the study file has no cosimulation: section"
    config = spec.cosimulation.model_copy(update={"target_ci": args.target_ci, "max_incidents": args.incidents})
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {args.workers} workers; {args.study}; "
          f"load average {os.getloadavg()[0]:.1f}")
    started = time.perf_counter()

    def progress(done: int, saidi: Estimate) -> None:
        print(f"  {done:>5} incidents  SAIDI {saidi.mean:.4g} +- {100 * saidi.half_width / saidi.mean:.1f} %  "
              f"{time.perf_counter() - started:7.0f} s", flush=True)

    with tempfile.TemporaryDirectory() as out:
        result = run_cosim_study((args.study.parent / config.scenario).resolve(), spec.study.system, spec.study.transformer_action.value,
                                 spec.study.repair_model, spec.study.momentary_threshold_s, config, spec.seed, Path(out),
                                 workers=args.workers, progress=progress)
        rows = list(csv.DictReader(open(Path(out) / "incidents.csv")))
    wall = time.perf_counter() - started
    cpu = sum(float(r["cpu_s"]) for r in rows)
    saidi, saifi = result.system["saidi_hours_per_year"], result.system["saifi_per_year"]
    print(f"{result.incidents} incidents in {wall:.0f} s wall, {cpu:.0f} s CPU in incidents, load average {os.getloadavg()[0]:.1f} "
          f"(1 min) {os.getloadavg()[2]:.1f} (15 min)")
    print(f"  SAIDI {saidi.mean:.4g} [{saidi.lower:.4g}, {saidi.upper:.4g}] (+- {100 * saidi.half_width / saidi.mean:.1f} %), "
          f"analytic {result.analytic['saidi_hours_per_year']:.4g}; SAIFI {saifi.mean:.4g} (+- {100 * saifi.half_width / saifi.mean:.1f} %)")
    for kind in ("section", "transformer"):
        times = [float(r["cpu_s"]) for r in rows if r["components"].startswith(kind)]
        hours = [float(r["busy_hours"]) for r in rows if r["components"].startswith(kind)]
        if times:
            print(f"  first failure a {kind}: {len(times)} incidents, {sum(times) / len(times):.2f} s CPU and "
                  f"{sum(hours) / len(hours):.1f} simulated h each")
    longest = max(float(r["cpu_s"]) for r in rows)
    print(f"  {result.incidents / wall * 60:.1f} incidents a wall minute with {args.workers} workers; on 32 workers about "
          f"{max(cpu / 32, longest):.0f} s (CPU / 32, at least the longest incident, {longest:.1f} s)")


if __name__ == "__main__":
    main()
