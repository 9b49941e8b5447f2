"""Measure and print power-flow speed: cosim.grid against pandapower, side by side.

    python benchmarks/bench_powerflow.py [--repeat N]

Needs the ``bench`` extra (pandapower; numba makes pandapower faster and is
used when installed, which is the fair comparison). For IEEE 14, 118 and 300
buses it prints the median wall time per solve of:

* cold: a full solve from the case data (topology, Ybus, Newton, results);
* warm: the grid service re-solving after a 1 % change of one load, warm
  started from the last voltages with the cached Ybus and Jacobian pattern;
* pandapower ``runpp`` (defaults, Newton, no Q limits) and ``runpp`` with
  ``init="results"`` after the same load change.

Wall-clock figures: they vary with the machine; docs/benchmarks.md records
what was seen and where. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from typing import Callable

from cosim.grid.acflow import solve_ac
from cosim.grid.actions import SetLoad
from cosim.grid.config import CASES_DIR
from cosim.grid.dcflow import solve_dc
from cosim.grid.matpower import load_case
from cosim.grid.service import GridService


def median_s(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm caches, JIT, imports
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ours(case: str, repeat: int) -> dict[str, float]:
    net = load_case(CASES_DIR / f"{case}.json")
    cold = median_s(lambda: solve_ac(net), repeat)
    dc = median_s(lambda: solve_dc(net), repeat)
    svc = GridService(net)
    svc.solve_if_changed()
    name = net.loads.name[len(net.loads) // 2]
    p0 = float(net.loads.p_mw[net.loads.index(name)])
    state = {"k": 0, "iters": []}

    def warm() -> None:
        state["k"] += 1
        svc.apply(SetLoad(name, p_mw=p0 * (1.01 if state["k"] % 2 else 1.0)))
        r = svc.solve_if_changed()
        assert r.converged
        state["iters"].append(r.iterations)

    warm_s = median_s(warm, repeat)
    return {"cold": cold, "warm": warm_s, "dc": dc,
            "warm_iters": statistics.mean(state["iters"]), "solves": svc.solve_count}


def pandapower_times(case: str, repeat: int) -> dict[str, float] | None:
    try:
        import pandapower as pp
        import pandapower.networks as pn
    except ImportError:
        return None
    net = getattr(pn, case)()
    opts = dict(algorithm="nr", enforce_q_lims=False, calculate_voltage_angles=True)
    cold = median_s(lambda: pp.runpp(net, **opts), repeat)
    idx = net.load.index[len(net.load) // 2]
    p0 = float(net.load.at[idx, "p_mw"])
    state = {"k": 0}

    def warm() -> None:
        state["k"] += 1
        net.load.at[idx, "p_mw"] = p0 * (1.01 if state["k"] % 2 else 1.0)
        pp.runpp(net, init="results", **opts)

    warm_s = median_s(warm, repeat)
    try:
        import numba  # noqa: F401
        jit = "numba"
    except ImportError:
        jit = "no numba"
    return {"cold": cold, "warm": warm_s, "jit": jit, "version": pp.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    ms = 1e3
    print(f"{'case':8} {'cosim cold':>11} {'cosim warm':>11} {'(iters)':>8} {'cosim DC':>9} "
          f"{'pp runpp':>9} {'pp warm':>9} {'cold x':>7} {'warm x':>7} {'warm x':>7}")
    print(f"{'':8} {'ms':>11} {'ms':>11} {'':>8} {'ms':>9} {'ms':>9} {'ms':>9} "
          f"{'vs runpp':>7} {'vs runpp':>7} {'vs ppwarm':>7}")
    jit = None
    for case in ("case14", "case118", "case300"):
        o = ours(case, args.repeat)
        p = pandapower_times(case, args.repeat)
        row = (f"{case:8} {o['cold'] * ms:11.3f} {o['warm'] * ms:11.3f} {o['warm_iters']:8.2f} "
               f"{o['dc'] * ms:9.3f}")
        if p is not None:
            jit = f"pandapower {p['version']} ({p['jit']})"
            row += (f" {p['cold'] * ms:9.3f} {p['warm'] * ms:9.3f} {p['cold'] / o['cold']:7.1f} "
                    f"{p['cold'] / o['warm']:7.1f} {p['warm'] / o['warm']:7.1f}")
        print(row, flush=True)
    print(f"median of {args.repeat} solves each; {jit or 'pandapower not installed'}")


if __name__ == "__main__":
    main()
