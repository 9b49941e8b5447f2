"""Measure and print unbalanced power-flow speed: cosim.grid.threephase next to OpenDSS.

    python benchmarks/bench_threephase.py [--repeat N] [--steps N]

Needs dss-python (the test extra). On the IEEE 13 node feeder at the
published regulator taps:

1. one re-solve after a load change (load 671 toggled by 1 %), median wall
   time: ours through the feeder service (factorisation kept, warm start)
   and OpenDSS (``Load.671.kW=...`` then ``Solve``, controls off);
2. ``--steps`` hourly load steps (every load scaled by a random factor in
   0.5..1.1, one draw per step, same factors for both tools), total wall and
   CPU time, with the largest voltage difference between the two tools at
   the last step as a check.

Both tools stop at the same ``--tolerance`` (OpenDSS's ``Set Tolerance``,
the largest voltage change of an iteration in pu; ours the same, relative to
each node's voltage). OpenDSS's default is 1e-4, ours 1e-10.

Wall time depends on the machine and its load (the load average is printed);
docs/benchmarks.md records what was seen. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

from cosim.grid.actions import SetLoad, SetTap
from cosim.grid.threephase import IEEE13, FeederService, read_dss

TAPS = {"reg1": 1.0625, "reg2": 1.05, "reg3": 1.06875}


def median_s(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ours_service(tolerance: float) -> FeederService:
    svc = FeederService(read_dss(IEEE13), tolerance=tolerance)
    for reg, tap in TAPS.items():
        svc.apply(SetTap(reg, tap_ratio=tap))
    svc.solve()
    return svc


def opendss_engine(tolerance: float):  # type: ignore[no-untyped-def]
    import dss

    engine = dss.DSS
    engine.AllowForms = False
    engine.Text.Command = "clear"
    engine.Text.Command = f'compile "{IEEE13}"'
    for reg, tap in TAPS.items():
        engine.Text.Command = f"Transformer.{reg}.Taps=[1.0 {tap}]"
    engine.Text.Command = "Set Controlmode=OFF"
    engine.Text.Command = f"Set Tolerance={tolerance}"
    engine.Text.Command = "solve"
    return engine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--steps", type=int, default=8760)
    ap.add_argument("--tolerance", type=float, default=1e-8)
    args = ap.parse_args()
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")

    svc = ours_service(args.tolerance)
    flip = [False]

    def ours_step() -> None:
        flip[0] = not flip[0]
        svc.apply(SetLoad("671", p_mw=1.155 * (1.01 if flip[0] else 1.0)))
        svc.solve()

    engine = opendss_engine(args.tolerance)
    circuit = engine.ActiveCircuit

    def opendss_step() -> None:
        flip[0] = not flip[0]
        engine.Text.Command = f"Load.671.kW={1155 * (1.01 if flip[0] else 1.0)}"
        circuit.Solution.Solve()

    print(f"tolerance {args.tolerance:g} for both tools")
    print("1. IEEE 13 re-solve after a load change, median of", args.repeat)
    print(f"   cosim.grid.threephase  {median_s(ours_step, args.repeat) * 1e3:8.3f} ms")
    print(f"   OpenDSS (dss-python)   {median_s(opendss_step, args.repeat) * 1e3:8.3f} ms")

    rng = np.random.default_rng(13)
    factors = rng.uniform(0.5, 1.1, args.steps)
    svc = ours_service(args.tolerance)
    base = {ld.name: (ld.kw, ld.kvar) for ld in svc.feeder.loads}
    t0, c0 = time.perf_counter(), time.process_time()
    for f in factors:
        for name, (kw, kvar) in base.items():
            svc.apply(SetLoad(name, p_mw=kw * f / 1000.0, q_mvar=kvar * f / 1000.0))
        svc.solve()
    ours_wall, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
    engine = opendss_engine(args.tolerance)
    circuit = engine.ActiveCircuit
    t0, c0 = time.perf_counter(), time.process_time()
    for f in factors:
        engine.Text.Command = f"Set LoadMult={f}"
        circuit.Solution.Solve()
    dss_wall, dss_cpu = time.perf_counter() - t0, time.process_time() - c0
    result = svc.solve_if_changed()
    names = [n.lower() for n in circuit.AllNodeNames]
    raw = np.array(circuit.AllBusVolts).reshape(-1, 2)
    index = {(nd.bus, nd.conductor): i for i, nd in enumerate(result.nodes)}
    worst = max(abs(abs(result.v[index[(n.rsplit(".", 1)[0], int(n.rsplit(".", 1)[1]))]])
                    - abs(complex(*xy))) / abs(complex(*xy)) for n, xy in zip(names, raw))
    print(f"2. {args.steps} load steps on IEEE 13 (all loads x U(0.5, 1.1))")
    print(f"   cosim.grid.threephase  wall {ours_wall:7.2f} s  cpu {ours_cpu:7.2f} s")
    print(f"   OpenDSS (dss-python)   wall {dss_wall:7.2f} s  cpu {dss_cpu:7.2f} s")
    print(f"   largest |V| difference at the last step: {worst:.2e} (relative)")
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
