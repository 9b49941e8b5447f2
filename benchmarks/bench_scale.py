"""Devices at scale: N individually emulated Modbus RTUs polled by one SCADA master (printed, never asserted).

Each RTU is a scenario device on its own comm node, behind its own LTE link to
a WAN router, serving a register map (bus voltage, feeder power and current,
breaker position) over simulated Modbus/TCP; the SCADA master's point
database comes from the devices' configurations and polls every RTU each
``--scan`` seconds (default 60) for ``--hours`` simulated hours (default 1),
the first polls spread over the scan (``scan_phase: spread``; ``--scan-phase
aligned``: every RTU polled at the same instants).
The scenario is generated as YAML and goes through the same load, validation,
wiring, run and recording as any user's scenario.

Each N runs in its own subprocess, so the peak resident memory (ru_maxrss of
that child) belongs to that N alone. Printed per N: CPU time
(``time.process_time``, which the load of other processes on a shared
machine does not inflate) and wall time of build (load + validate + wire)
and of the run, the CPU cost per device-hour, the marginal CPU cost per
device-hour between successive N (whole and run alone) and its ratio to the
first marginal figure, messages traced, peak memory and the load average.

Run:  python benchmarks/bench_scale.py [--sizes 50 500 5000 10000] [--hours 1] [--scan 60]
      python benchmarks/bench_scale.py --one 5000 --profile   # cProfile of one size
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GRID = {
    "base_mva": 100, "frequency_hz": 50,
    "buses": [{"name": "src", "base_kv": 33}, {"name": "mv", "base_kv": 11}, {"name": "f1", "base_kv": 11}],
    "generators": [{"name": "source", "bus": "src", "slack": True, "xdss_pu": 0.2, "mbase_mva": 200}],
    "transformers": [{"name": "tx", "hv_bus": "src", "lv_bus": "mv", "sn_mva": 20, "vk_percent": 10,
                      "vkr_percent": 0.8}],
    "lines": [{"name": "feeder", "from_bus": "mv", "to_bus": "f1", "r_ohm": 0.6, "x_ohm": 0.7}],
    "switches": [{"name": "cb", "branch": "feeder", "bus": "mv", "kind": "breaker"}],
    "loads": [{"name": "load", "bus": "f1", "p_mw": 3.0, "q_mvar": 1.0, "customers": 600}],
}

RTU_POINTS = [
    {"name": "bus_voltage_kv", "kind": "analog", "source": "bus/mv:v_kv", "data_type": "u16", "scale": 0.01,
     "unit": "kV"},
    {"name": "feeder_p_kw", "kind": "analog", "source": "switch/cb:p_mw", "data_type": "i32", "gain": 1000,
     "unit": "kW"},
    {"name": "feeder_current_a", "kind": "analog", "source": "switch/cb:i_a", "data_type": "u16", "scale": 0.1,
     "unit": "A"},
    {"name": "cb_closed", "kind": "status", "source": "switch/cb:closed"},
]


def scenario(n: int, hours: float, scan_s: float, seed: int, scan_phase: str = "spread") -> dict[str, Any]:
    rtus = [f"rtu{i:05d}" for i in range(n)]
    return {
        "name": f"bench_scale_{n}",
        "run": {"duration": f"{hours}h", "step": f"{min(hours, 1.0)}h", "seed": seed},
        "actors": [
            {"id": "utility", "domain": "Distribution", "role": "Feeder owner",
             "elements": ["bus/src", "bus/mv", "bus/f1", "branch/tx", "branch/feeder", "switch/cb"]},
            {"id": "control_centre", "domain": "Operations", "role": "SCADA",
             "applications": [{"kind": "scada_master", "params": {
                 "node": "control", "scan_s": scan_s, "poll": rtus, "scan_phase": scan_phase}}]},
        ],
        "grid": GRID,
        "comm": {
            "trace": True,
            "nodes": [{"id": "control"}, {"id": "wan"}] + [{"id": r} for r in rtus],
            "links": [{"a": "control", "b": "wan", "profile": "fibre_wan"}]
            + [{"a": r, "b": "wan", "profile": "lte"} for r in rtus],
        },
        "devices": [{"id": r, "kind": "rtu", "node": r, "unit_id": 1, "actor": "utility",
                     "params": {"sample_period_s": scan_s, "points": RTU_POINTS}} for r in rtus],
    }


class _NoAliasDumper(yaml.SafeDumper):
    """Writes every device's point list out: the loader bounds what aliases may expand to (issue 16)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def measure_one(n: int, hours: float, scan_s: float, seed: int, profile: bool, scan_phase: str) -> dict[str, Any]:
    """Build and run one size in this process; figures as a dict."""
    from cosim.runner import build_world, finish_recording, start_recording
    from cosim.scenario import load_scenario

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.yaml"
        path.write_text(yaml.dump(scenario(n, hours, scan_s, seed, scan_phase), Dumper=_NoAliasDumper, sort_keys=False))
        out = Path(tmp) / "out"
        profiler = None
        if profile:
            import cProfile
            profiler = cProfile.Profile(time.process_time)  # CPU time: other processes' load does not count
            profiler.enable()
        t0, c0 = time.perf_counter(), time.process_time()
        loaded = load_scenario(path)
        world, _ = build_world(loaded, out)
        start_recording(world, loaded, out)
        t1, c1 = time.perf_counter(), time.process_time()
        world.run(loaded.spec.run.duration)
        t2, c2 = time.perf_counter(), time.process_time()
        finish_recording(world, loaded, out, "completed", None, t2 - t1)
        t3, c3 = time.perf_counter(), time.process_time()
        if profiler is not None:
            import pstats
            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        messages = sum(1 for _ in (out / "messages.csv").open()) - 1
        polls = world.service("scada/control_centre").polls
    return {"n": n, "build_s": t1 - t0, "run_s": t2 - t1, "finish_s": t3 - t2, "messages": messages, "polls": polls,
            "build_cpu_s": c1 - c0, "run_cpu_s": c2 - c1, "finish_cpu_s": c3 - c2, "load": os.getloadavg()[0],
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500, 5000, 10000])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--scan", type=float, default=60.0, help="SCADA scan period, s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scan-phase", choices=["spread", "aligned"], default="spread",
                        help="the master's scan_phase: first polls spread over the scan (default) or all at the start")
    parser.add_argument("--one", type=int, help="measure one size in this process and print JSON (used per size)")
    parser.add_argument("--profile", action="store_true", help="with --one: cProfile on stderr")
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure_one(args.one, args.hours, args.scan, args.seed, args.profile, args.scan_phase)))
        return
    rows = []
    for n in args.sizes:
        done = subprocess.run([sys.executable, __file__, "--one", str(n), "--hours", str(args.hours),
                               "--scan", str(args.scan), "--seed", str(args.seed), "--scan-phase", args.scan_phase],
                              check=True, capture_output=True, text=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"N={n}: build {r['build_s']:.1f} s wall / {r['build_cpu_s']:.1f} s CPU, run {r['run_s']:.1f} s wall / "
              f"{r['run_cpu_s']:.1f} s CPU, finish {r['finish_s']:.1f} s, {r['messages']} messages, "
              f"peak {r['peak_mib']:.0f} MiB, load average {r['load']:.1f}", flush=True)
    print("\nCPU time (time.process_time); wall time in brackets. Marginal: extra cost per extra device-hour "
          "from the previous N; ratio: against the first marginal figure.")
    print(f"{'N':>6} {'build s':>14} {'run s':>14} {'total CPU s':>11} {'CPU ms/dev-h':>12} "
          f"{'marginal CPU ms/dev-h':>21} {'run marginal':>12} {'ratio':>6} {'messages':>9} {'peak MiB':>9} {'load':>5}")
    previous: dict[str, Any] | None = None
    first_marginal: float | None = None
    for r in rows:
        total = r["build_cpu_s"] + r["run_cpu_s"] + r["finish_cpu_s"]
        marginal = run_marginal = ratio = ""
        if previous is not None:
            prev_total = previous["build_cpu_s"] + previous["run_cpu_s"] + previous["finish_cpu_s"]
            extra = (r["n"] - previous["n"]) * args.hours
            value = 1000.0 * (total - prev_total) / extra
            first_marginal = value if first_marginal is None else first_marginal
            marginal = f"{value:.1f}"
            run_marginal = f"{1000.0 * (r['run_cpu_s'] - previous['run_cpu_s']) / extra:.1f}"
            ratio = f"{value / first_marginal:.2f}"
        print(f"{r['n']:>6} {r['build_cpu_s']:>6.1f} ({r['build_s']:>5.1f}) {r['run_cpu_s']:>6.1f} ({r['run_s']:>5.1f}) "
              f"{total:>11.1f} {1000.0 * total / (r['n'] * args.hours):>12.1f} {marginal:>21} {run_marginal:>12} "
              f"{ratio:>6} {r['messages']:>9} {r['peak_mib']:>9.0f} {r['load']:>5.1f}")
        previous = r


if __name__ == "__main__":
    main()
