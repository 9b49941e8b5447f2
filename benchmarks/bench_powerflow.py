"""Measure and print power-flow speed: cosim.grid against pandapower and power-grid-model.

    python benchmarks/bench_powerflow.py [--repeat N] [--steps N]

Needs the ``bench`` extra (pandapower with numba, power-grid-model). Two tables:

1. Single solves of IEEE 14 to PEGASE 2869 buses, median wall time per solve:
   * cold: a full solve from the case data (topology, Ybus, Newton, results);
   * warm: the grid service re-solving after a 1 % change of one load, warm
     started, with the cached Ybus and Jacobian pattern and the last LU
     factorisation (see docs/grid.md);
   * pandapower ``runpp`` (Newton, no Q limits, numba) and ``runpp`` with
     ``init="results"`` after the same load change. pandapower solves its own
     copy of each case (``pandapower.networks``); cosim solves MATPOWER's file
     (cases shipped in cosim/grid/cases, PEGASE 2869 in benchmarks/data).
2. A time series on a 100-bus radial feeder: every load follows its own
   random profile for ``--steps`` steps; cosim ``solve_batch`` against
   power-grid-model's batch power flow (Newton-Raphson, one thread), with the
   largest voltage difference between the two as a check.

Wall-clock figures vary with the machine and its load; docs/benchmarks.md
records what was seen. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from cosim.grid.acflow import solve_ac
from cosim.grid.actions import SetLoad
from cosim.grid.batch import BatchResult, solve_batch
from cosim.grid.config import CASES_DIR
from cosim.grid.matpower import load_case
from cosim.grid.network import (
    Network,
    make_branches,
    make_buses,
    make_generators,
    make_loads,
)
from cosim.grid.service import GridService
from cosim.grid.sparse_lu import HAVE_KLU

DATA = Path(__file__).parent / "data"
CASES = {"case14": CASES_DIR / "case14.json", "case57": CASES_DIR / "case57.m",
         "case118": CASES_DIR / "case118.m", "case300": CASES_DIR / "case300.m",
         "case2869pegase": DATA / "case2869pegase.m"}


def median_s(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm caches, JIT, imports
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ours(path: Path, repeat: int) -> dict[str, float]:
    net = load_case(path)
    cold = median_s(lambda: solve_ac(net), repeat)
    svc = GridService(net)
    svc.solve_if_changed()
    name = net.loads.name[len(net.loads) // 2]
    p0 = float(net.loads.p_mw[net.loads.index(name)])
    iters: list[int] = []
    facts: list[int] = []

    def warm() -> None:
        svc.apply(SetLoad(name, p_mw=p0 * (1.01 if len(iters) % 2 == 0 else 1.0)))
        r = svc.solve_if_changed()
        assert r.converged
        iters.append(r.iterations)
        facts.append(r.factorisations)

    warm_s = median_s(warm, repeat)
    return {"cold": cold, "warm": warm_s, "warm_iters": statistics.mean(iters),
            "warm_facts": statistics.mean(facts)}


def pandapower_times(case: str, repeat: int) -> dict[str, float] | None:
    try:
        import pandapower as pp
        import pandapower.networks as pn
    except ImportError:
        return None
    net = getattr(pn, case)()
    opts = {"algorithm": "nr", "enforce_q_lims": False, "calculate_voltage_angles": True}
    cold = median_s(lambda: pp.runpp(net, **opts), repeat)
    idx = net.load.index[len(net.load) // 2]
    p0 = float(net.load.at[idx, "p_mw"])
    state = {"k": 0}

    def warm() -> None:
        state["k"] += 1
        net.load.at[idx, "p_mw"] = p0 * (1.01 if state["k"] % 2 else 1.0)
        pp.runpp(net, init="results", **opts)

    return {"cold": cold, "warm": median_s(warm, repeat)}


# --- the 100-bus feeder, described once and built for both tools -------------
FEEDER_KV = 10.0
N_FEEDER = 100


def feeder_data(seed: int = 1) -> dict[str, np.ndarray]:
    """A radial 10 kV feeder: a 40-bus trunk with laterals; one load per bus but the source."""
    rng = np.random.default_rng(seed)
    parent = np.zeros(N_FEEDER, dtype=np.int64)
    for b in range(1, N_FEEDER):
        parent[b] = b - 1 if b < 40 else int(rng.integers(1, b))
    length_km = rng.uniform(0.2, 0.8, N_FEEDER)
    return {"parent": parent, "r_ohm": 0.206 * length_km, "x_ohm": 0.08 * length_km,
            "p_mw": rng.uniform(0.02, 0.12, N_FEEDER), "pf_q": rng.uniform(0.2, 0.4, N_FEEDER)}


def feeder_network(d: dict[str, np.ndarray]) -> Network:
    n = N_FEEDER
    buses = make_buses([f"n{i}" for i in range(n)], np.full(n, FEEDER_KV),
                       is_slack=np.arange(n) == 0)
    z_base = FEEDER_KV**2 / 100.0
    branches = make_branches([f"l{i}" for i in range(1, n)], d["parent"][1:], np.arange(1, n),
                             d["r_ohm"][1:] / z_base, d["x_ohm"][1:] / z_base)
    gens = make_generators(["source"], [0], [0.0], vm_setpoint_pu=[1.0])
    loads = make_loads([f"ld{i}" for i in range(1, n)], np.arange(1, n), d["p_mw"][1:],
                       d["p_mw"][1:] * d["pf_q"][1:])
    return Network(base_mva=100.0, frequency_hz=50.0, buses=buses, branches=branches,
                   generators=gens, loads=loads)


def pgm_batch(d: dict[str, np.ndarray], p: np.ndarray, q: np.ndarray,
              repeat: int) -> tuple[float, np.ndarray] | None:
    try:
        from power_grid_model import (
            CalculationMethod,
            ComponentType,
            DatasetType,
            LoadGenType,
            PowerGridModel,
            initialize_array,
        )
    except ImportError:
        return None
    n = N_FEEDER
    node = initialize_array(DatasetType.input, ComponentType.node, n)
    node["id"] = np.arange(n)
    node["u_rated"] = FEEDER_KV * 1e3
    line = initialize_array(DatasetType.input, ComponentType.line, n - 1)
    line["id"] = np.arange(1000, 1000 + n - 1)
    line["from_node"], line["to_node"] = d["parent"][1:], np.arange(1, n)
    line["from_status"] = line["to_status"] = 1
    line["r1"], line["x1"] = d["r_ohm"][1:], d["x_ohm"][1:]
    line["c1"], line["tan1"] = 0.0, 0.0
    source = initialize_array(DatasetType.input, ComponentType.source, 1)
    source["id"], source["node"], source["status"], source["u_ref"] = [5000], [0], [1], [1.0]
    source["sk"] = 1e20  # an ideal source, as cosim's slack
    load = initialize_array(DatasetType.input, ComponentType.sym_load, n - 1)
    load["id"] = np.arange(2000, 2000 + n - 1)
    load["node"], load["status"], load["type"] = np.arange(1, n), 1, LoadGenType.const_power
    load["p_specified"], load["q_specified"] = d["p_mw"][1:] * 1e6, 0.0
    model = PowerGridModel({ComponentType.node: node, ComponentType.line: line,
                            ComponentType.source: source, ComponentType.sym_load: load},
                           system_frequency=50.0)
    update = initialize_array(DatasetType.update, ComponentType.sym_load, p.shape)
    update["id"] = load["id"]
    update["p_specified"], update["q_specified"] = p * 1e6, q * 1e6
    out: dict[str, Any] = {}

    def run() -> None:
        out["r"] = model.calculate_power_flow(
            update_data={ComponentType.sym_load: update},
            calculation_method=CalculationMethod.newton_raphson, error_tolerance=1e-8,
            max_iterations=30, threading=-1,
            output_component_types={ComponentType.node: ["u_pu"]})

    t = median_s(run, repeat)
    return t, out["r"][ComponentType.node]["u_pu"]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import logging
    logging.disable(logging.WARNING)
    ms = 1e3
    print(f"LU: {'KLU (kvxopt)' if HAVE_KLU else 'SuperLU (scipy)'}")
    print(f"{'case':15} {'cosim cold':>10} {'cosim warm':>10} {'iters/LU':>9} "
          f"{'pp cold':>9} {'pp warm':>9} {'cold x':>7} {'warm x':>7}")
    for case, path in CASES.items():
        repeat = max(3, args.repeat // 4) if "2869" in case else args.repeat
        o = ours(path, repeat)
        pp_t = pandapower_times(case, repeat)
        row = (f"{case:15} {o['cold'] * ms:10.2f} {o['warm'] * ms:10.2f} "
               f"{o['warm_iters']:4.1f}/{o['warm_facts']:3.1f}")
        if pp_t is not None:
            row += (f" {pp_t['cold'] * ms:9.2f} {pp_t['warm'] * ms:9.2f} "
                    f"{pp_t['cold'] / o['cold']:7.1f} {pp_t['warm'] / o['warm']:7.1f}")
        print(row, flush=True)
    print(f"ms, median of {args.repeat} solves ({max(3, args.repeat // 4)} for 2869); "
          "x = pandapower time / cosim time (cold vs cold, warm vs warm)")

    d = feeder_data()
    rng = np.random.default_rng(7)
    steps = args.steps
    p = d["p_mw"][1:] * rng.uniform(0.2, 1.6, (steps, N_FEEDER - 1))
    q = p * d["pf_q"][1:]
    net = feeder_network(d)
    repeat = max(3, args.repeat // 4)
    holder: dict[str, BatchResult] = {}

    def batch() -> None:
        holder["r"] = solve_batch(net, load_p_mw=p, load_q_mvar=q)

    t_batch = median_s(batch, repeat)
    res = holder["r"]
    loop_steps = min(steps, 100)

    def loop() -> None:
        svc = GridService(net)
        for k in range(loop_steps):
            svc._network = replace(net, loads=replace(net.loads, p_mw=p[k], q_mvar=q[k]))
            svc._dirty = True
            svc.solve_if_changed()

    t_loop = median_s(loop, 1) * steps / loop_steps
    print(f"\n100-bus feeder, {steps} steps: cosim solve_batch {t_batch * ms:.1f} ms "
          f"({t_batch / steps * 1e6:.1f} us/step, all converged: {bool(res.converged.all())}); "
          f"cosim one solve per step {t_loop * ms:.0f} ms")
    pgm = pgm_batch(d, p, q, repeat)
    if pgm is not None:
        t_pgm, u = pgm
        print(f"power-grid-model batch {t_pgm * ms:.1f} ms ({t_pgm / steps * 1e6:.1f} us/step); "
              f"cosim/pgm time {t_batch / t_pgm:.2f}; max |vm| difference "
              f"{np.abs(u - res.vm_pu).max():.1e} pu")


if __name__ == "__main__":
    main()
