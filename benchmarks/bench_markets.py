"""Measure the Markets engines at study scale and print the figures.

Issue 7 asks that a study with 50,000 DR end-use sites and one event day run
in under two minutes; this times the Markets share of it: Load Management
settlement (CBL High 4 of 5 with symmetric additive adjustment, performance
per resource per interval, energy payment and Capacity Performance) over a
(sites x 45 days x 24 hours) array, with no Python loop per site, for a 4-hour
event of every CSP. It also times one SCED solve of the PJM 5-bus case.

    python benchmarks/bench_markets.py [--sites 50000] [--days 45] [--csps 200]

Wall-clock seconds; synthetic meter data from a fixed seed (generation is
timed separately and not part of the figure).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from cosim.markets.case import load_case
from cosim.markets.performance import CpParameters
from cosim.markets.sced import solve_sced
from cosim.markets.settlement import CspMeterData, LmCall, settle_load_management


def synthetic_meters(sites: int, days: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Hourly kWh: a history of ``days`` days and an event day, per site."""
    rng = np.random.default_rng(seed)
    hours = np.arange(24)
    shape = (1.0 + 0.6 * np.exp(-((hours - 15.0) ** 2) / 18.0)).astype(np.float32)
    size_kw = rng.lognormal(np.log(150.0), 0.8, sites).astype(np.float32)
    noise = rng.normal(1.0, 0.08, (sites, days, 24)).astype(np.float32)
    history = size_kw[:, None, None] * shape[None, None, :] * noise
    event_day = size_kw[:, None] * shape[None, :] * rng.normal(1.0, 0.05, (sites, 24)).astype(np.float32)
    return history, event_day


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--days", type=int, default=45)
    ap.add_argument("--csps", type=int, default=200)
    ap.add_argument("--sced-repeats", type=int, default=50)
    args = ap.parse_args()

    t0 = time.perf_counter()
    history, event_day = synthetic_meters(args.sites, args.days)
    event_day[:, 14:18] *= 0.7                               # sites curtail 30 % from 14 to 18 h
    site_csp = np.random.default_rng(11).integers(0, args.csps, args.sites)
    eligible = (np.arange(args.days) % 7) < 5                # weekdays enter the CBL
    meters, calls, committed = {}, [], {}
    for k in range(args.csps):
        csp = f"CSP-{k:03d}"
        sites = np.flatnonzero(site_csp == k)
        meters[csp] = CspMeterData(csp, ("r0",), ("ZD",), sites, np.zeros(len(sites), dtype=np.int64),
                                   history[sites], event_day[sites], eligible)
        calls.append(LmCall("LM1", csp, frozenset({"r0"}), 14 * 3600.0, 18 * 3600.0))
        committed[(csp, "r0")] = 8.0
    t_gen = time.perf_counter() - t0

    t0 = time.perf_counter()
    settled = settle_load_management(calls, meters, committed, {"ZD": np.full(24, 45.0)}, CpParameters(300.0))
    t_settle = time.perf_counter() - t0

    case = load_case("pjm5bus")
    solve_sced(case)                                         # warm-up (imports, HiGHS)
    times = []
    for _ in range(args.sced_repeats):
        t0 = time.perf_counter()
        solve_sced(case)
        times.append(time.perf_counter() - t0)

    print(f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}")
    print(f"sites: {args.sites}  days: {args.days}  CSPs: {args.csps}  array: {history.nbytes / 1e6:.0f} MB float32  "
          f"(generation {t_gen:.2f} s, not counted)")
    print(f"M&V (CBL, performance, energy and CP settlement) wall seconds: {t_settle:.2f}")
    print(f"delivered MW (all CSPs): {sum(e.delivered_mw for e in settled.events):.1f}")
    print(f"SCED pjm5bus: median {1e3 * float(np.median(times)):.2f} ms over {args.sced_repeats} solves")


if __name__ == "__main__":
    main()
