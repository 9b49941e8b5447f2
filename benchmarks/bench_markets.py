"""Measure the Markets engines at study scale and print the figures.

Issue 7 asks that a study with 50,000 DR end-use sites and one event day run
in under two minutes; this times the Markets share of it: CBL (High 4 of 5 with
symmetric additive adjustment) + event performance + per-CSP settlement over a
(sites x 45 days x intervals) array, with no Python loop per site. It also
times one SCED solve of the PJM 5-bus case.

    python benchmarks/bench_markets.py [--sites 50000] [--days 45] [--intervals-per-hour 1]

Wall-clock seconds; synthetic meter data from a fixed seed (generation is
timed separately and not part of the figure).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from cosim.markets.baseline import customer_baseline, event_mask
from cosim.markets.case import load_case
from cosim.markets.rules import non_performance_charge_rate_usd_per_mwh
from cosim.markets.sced import solve_sced
from cosim.markets.settlement import CspTerms, settle_csps


def synthetic_meters(sites: int, days: int, iph: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    n = 24 * iph
    hours = np.arange(n) / iph
    shape = (1.0 + 0.6 * np.exp(-((hours - 15.0) ** 2) / 18.0)).astype(np.float32)
    size_kw = rng.lognormal(np.log(150.0), 0.8, sites).astype(np.float32)
    noise = rng.normal(1.0, 0.08, (sites, days, n)).astype(np.float32)
    history = size_kw[:, None, None] * shape[None, None, :] * noise
    event_day = size_kw[:, None] * shape[None, :] * rng.normal(1.0, 0.05, (sites, n)).astype(np.float32)
    return history, event_day


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--days", type=int, default=45)
    ap.add_argument("--intervals-per-hour", type=int, default=1)
    ap.add_argument("--csps", type=int, default=200)
    ap.add_argument("--sced-repeats", type=int, default=50)
    args = ap.parse_args()
    iph = args.intervals_per_hour

    t0 = time.perf_counter()
    history, event_day = synthetic_meters(args.sites, args.days, iph)
    start, end = 14 * iph, 18 * iph
    event_day[:, start:end] *= 0.7                          # sites curtail 30 %
    t_gen = time.perf_counter() - t0

    weekday = (np.arange(args.days) % 7) < 5                 # oldest day is a Monday
    rng = np.random.default_rng(11)
    site_csp = rng.integers(0, args.csps, args.sites)
    terms = [CspTerms(f"CSP-{k:03d}", committed_mw=8.0, cleared_ucap_mw=8.0,
                      capacity_price_usd_per_mw_day=120.0, days=30) for k in range(args.csps)]
    lmp = np.full(24 * iph, 45.0)
    rate = non_performance_charge_rate_usd_per_mwh(300.0)

    t0 = time.perf_counter()
    cbl = customer_baseline(history, weekday, event_day, start, end, iph)
    t_cbl = time.perf_counter() - t0
    t1 = time.perf_counter()
    settled = settle_csps(terms, site_csp, cbl.adjusted_cbl_kw, event_day, event_mask(24 * iph, start, end),
                          lmp, iph, rate)
    t_settle = time.perf_counter() - t1
    total = t_cbl + t_settle

    case = load_case("pjm5bus")
    solve_sced(case)                                         # warm-up (imports, HiGHS)
    times = []
    for _ in range(args.sced_repeats):
        t0 = time.perf_counter()
        solve_sced(case)
        times.append(time.perf_counter() - t0)

    print(f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}")
    print(f"sites: {args.sites}  days: {args.days}  intervals/day: {24 * iph}  "
          f"array: {history.nbytes / 1e6:.0f} MB float32  (generation {t_gen:.2f} s, not counted)")
    print(f"CBL High 4 of 5 + SAA: {t_cbl:.2f} s")
    print(f"performance + settlement of {args.csps} CSPs: {t_settle:.2f} s")
    print(f"M&V total wall seconds: {total:.2f}")
    print(f"delivered MW (all CSPs): {sum(s.delivered_mw for s in settled):.1f}")
    print(f"SCED pjm5bus: median {1e3 * float(np.median(times)):.2f} ms over {args.sced_repeats} solves")


if __name__ == "__main__":
    main()
