"""The validation curve: co-simulated SAIDI, SAIFI and MAIFI against communication profile and switching time.

Run from the repository root (docs/reliability.md, "Validation curve"):

    python benchmarks/bench_reliability_curve.py --systems rbts_bus2 --incidents 200 --target-ci 5% --workers 2 \
        --out results/reliability_curve

For each system, transformer case (repair 200 h, replacement 10 h) and
communication profile (``manual``: crews switch by hand; ``flisr_fibre``;
``flisr_cellular``: degraded LTE) it runs the shipped study file
``configs/reliability/<system>_cosim_<profile>_<case>.yaml`` as ``cosim
reliability`` does, and beside it the analytic method of the same system with
the switching time of every switchable failure set to each value of a grid
(0 to 2 h; the exponential repair times of the studies; interruptions of 5 min
or less momentary, IEEE 1366). Each co-simulated SAIDI is also given as an
*equivalent switching time*: the switching time at which the analytic method
gives that SAIDI (manual switching should sit near the RBTS 1 h, fibre near 0).

Writes ``reliability_curve.csv`` (one row per point: source, profile,
switching time, index, mean and 95 % interval) into ``--out``; ``cosim report
OUT`` draws it. Prints a Markdown table for docs/reliability.md with the wall
and CPU time and load average of each study. Nothing here asserts.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import time
from pathlib import Path

import numpy as np

from cosim.cli import _percent
from cosim.reliability.cosimstudy import run_cosim_study
from cosim.reliability.incidents import expected_prediction, rbts_components
from cosim.reliability.montecarlo import DurationModel
from cosim.reliability.studyfile import ReliabilityStudyFile
from cosim.report.reliability import CURVE_COLUMNS, CURVE_FILE
from cosim.scenario.loader import load_model_file

ROOT = Path(__file__).parents[1]
PROFILES = ("manual", "flisr_fibre", "flisr_cellular")
CASES = ("repair", "replacement")
SWITCHING_GRID_H = (0.0, 1 / 3600, 1 / 60, 5 / 60, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
INDICES = ("saidi_hours_per_year", "saifi_per_year", "maifi_per_year")


def analytic_curve(system: str, case: str, repair_model: DurationModel, threshold_s: float) -> dict[str, np.ndarray]:
    """SAIDI, SAIFI (sustained) and MAIFI (momentary interruptions) of the analytic method for each switching time of the grid."""
    plan = rbts_components(system, case)
    rate, served = plan.total_rate_per_year, float(plan.customers.sum())
    curves: dict[str, list[float]] = {name: [] for name in INDICES}
    for switching_h in SWITCHING_GRID_H:
        modes = dataclasses.replace(plan.modes, switching_hours=np.full_like(plan.modes.switching_hours, max(switching_h, 1e-9)))
        at = dataclasses.replace(plan, modes=modes)
        hours, sustained, _ = expected_prediction(at, repair_model, threshold_s)
        _, every, _ = expected_prediction(at, repair_model, 0.0)  # every interruption longer than zero
        curves["saidi_hours_per_year"].append(rate * float(hours.sum()) / served)
        curves["saifi_per_year"].append(rate * float(sustained.sum()) / served)
        curves["maifi_per_year"].append(rate * float(every.sum() - sustained.sum()) / served)
    return {name: np.array(values) for name, values in curves.items()}


def equivalent_switching_h(saidi: float, curve: np.ndarray) -> float:
    """The switching time at which the analytic SAIDI equals ``saidi`` (clipped to the grid; the curve rises with it)."""
    return float(np.interp(saidi, curve, SWITCHING_GRID_H))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", default=["rbts_bus2"])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--profiles", nargs="+", choices=PROFILES, default=list(PROFILES))
    parser.add_argument("--incidents", type=int, default=200, help="at most this many incidents a study")
    parser.add_argument("--target-ci", type=_percent, default=0.05)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("results/reliability_curve"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    table = open(args.out / CURVE_FILE, "w", newline="")
    writer = csv.writer(table)
    writer.writerow(CURVE_COLUMNS)
    lines = ["| system | transformer | profile | incidents | SAIDI h/cust·yr (95 % CI) | equiv. switching h | SAIFI (95 % CI) | "
             "MAIFI | wall s | CPU s | load |", "|---|---|---|---:|---|---:|---|---:|---:|---:|---:|"]
    for system in args.systems:
        for case in args.cases:
            study_path = ROOT / "configs" / "reliability" / f"{system}_cosim_manual_{case}.yaml"
            spec = load_model_file(study_path, ReliabilityStudyFile)
            curve = analytic_curve(system, case, spec.study.repair_model, spec.study.momentary_threshold_s)
            for i, switching_h in enumerate(SWITCHING_GRID_H):
                for name in INDICES:
                    value = float(curve[name][i])
                    writer.writerow((system, case, "analytic", "", repr(switching_h), name, repr(value), repr(value), repr(value), "", "", ""))
            for profile in args.profiles:
                path = ROOT / "configs" / "reliability" / f"{system}_cosim_{profile}_{case}.yaml"
                spec = load_model_file(path, ReliabilityStudyFile)
                assert spec.cosimulation is not None, f"{path} has no cosimulation: section"
                config = spec.cosimulation.model_copy(update={"target_ci": args.target_ci, "max_incidents": args.incidents})
                started = time.perf_counter()
                out = args.out / spec.name
                result = run_cosim_study((path.parent / config.scenario).resolve(), system, case, spec.study.repair_model,
                                         spec.study.momentary_threshold_s, config, spec.seed, out, workers=args.workers)
                wall = time.perf_counter() - started
                with open(out / "incidents.csv", newline="") as handle:
                    cpu = sum(float(r["cpu_s"]) for r in csv.DictReader(handle))
                saidi = result.system["saidi_hours_per_year"]
                equivalent = equivalent_switching_h(saidi.mean, curve["saidi_hours_per_year"])
                for name in INDICES:
                    e = result.system[name]
                    writer.writerow((system, case, "cosim", profile, repr(equivalent), name, repr(e.mean), repr(e.lower), repr(e.upper),
                                     result.incidents, round(wall, 1), round(cpu, 1)))
                table.flush()  # a long curve can be drawn while it runs
                saifi, maifi = result.system["saifi_per_year"], result.system["maifi_per_year"]
                lines.append(f"| {system} | {case} | {profile} | {result.incidents} | {saidi.mean:.3f} [{saidi.lower:.3f}, {saidi.upper:.3f}] "
                             f"| {equivalent:.2f} | {saifi.mean:.4f} [{saifi.lower:.4f}, {saifi.upper:.4f}] | {maifi.mean:.4f} "
                             f"| {wall:.0f} | {cpu:.0f} | {os.getloadavg()[0]:.1f} |")
                print(lines[-1], flush=True)
            at_1h, at_0 = SWITCHING_GRID_H.index(1.0), SWITCHING_GRID_H.index(1 / 3600)
            lines.append(f"| {system} | {case} | analytic, switching 1 h / 1 s | | {curve['saidi_hours_per_year'][at_1h]:.3f} / "
                         f"{curve['saidi_hours_per_year'][at_0]:.3f} | | {curve['saifi_per_year'][at_1h]:.4f} / "
                         f"{curve['saifi_per_year'][at_0]:.4f} | {curve['maifi_per_year'][at_1h]:.4f} / {curve['maifi_per_year'][at_0]:.4f} | | | |")
            print(lines[-1], flush=True)
    table.close()
    print("\n".join(lines))
    print(f"Curve: {args.out / CURVE_FILE} (cosim report {args.out})")


if __name__ == "__main__":
    main()
