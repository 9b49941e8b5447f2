"""Measure and print unbalanced power-flow speed: cosim.grid.threephase next to OpenDSS.

    python benchmarks/bench_threephase.py [--feeder 13|34|123] [--repeat N] [--steps N]

Needs dss-python (the test extra). On an IEEE test feeder at the published
regulator taps (controls off):

1. one re-solve after a load change (one load toggled by 1 %), median wall
   time: ours through the feeder service (factorisation kept, warm start)
   and OpenDSS (``Load.<name>.kW=...`` then ``Solve``);
2. ``--steps`` hourly load steps (every load scaled by a random factor in
   0.5..1.1, one draw per step, same factors for both tools: ``ScaleLoad``
   here, ``Set LoadMult`` there), total wall and CPU time, with the largest
   voltage difference between the two tools at the last step as a check.

Both tools stop at the same ``--tolerance`` (OpenDSS's ``Set Tolerance``,
the largest voltage change of an iteration in pu; ours the same, relative to
each node's voltage). OpenDSS's default is 1e-4, ours 1e-10.

Wall time depends on the machine and its load (the load average is printed);
docs/benchmarks.md records what was seen. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from cosim.grid.actions import ScaleLoad, SetLoad, SetTap
from cosim.grid.threephase import IEEE13, IEEE34, IEEE123, FeederService, read_dss

from bench_powerflow import median_s  # the same warm-then-median timer as the balanced solver's figures

STEP = 0.00625
# Published solutions' regulator taps (OpenDSS's run scripts for each feeder).
FEEDERS = {
    "13": (IEEE13, {"reg1": 10, "reg2": 8, "reg3": 11}, "671"),
    "34": (IEEE34, {"reg1a": 12, "reg1b": 5, "reg1c": 5, "reg2a": 13, "reg2b": 11, "reg2c": 12},
           "s844"),
    "123": (IEEE123, {"reg1a": 7, "reg2a": -1, "reg3a": 0, "reg3c": -1, "reg4a": 8, "reg4b": 1,
                      "reg4c": 5}, "s47"),
}


def ours_service(feeder: str, tolerance: float) -> FeederService:
    path, taps, _ = FEEDERS[feeder]
    svc = FeederService(read_dss(path), tolerance=tolerance)
    for reg, n in taps.items():
        svc.apply(SetTap(reg, tap_ratio=1 + STEP * n))
    svc.solve()
    return svc


def opendss_engine(feeder: str, tolerance: float):  # type: ignore[no-untyped-def]
    import dss

    path, taps, _ = FEEDERS[feeder]
    engine = dss.DSS
    engine.AllowForms = False
    engine.Text.Command = "clear"
    engine.Text.Command = f'compile "{path}"'
    for reg, n in taps.items():
        engine.Text.Command = f"Transformer.{reg}.wdg=2 Tap={1 + STEP * n}"
    engine.Text.Command = "Set Controlmode=OFF"
    engine.Text.Command = f"Set Tolerance={tolerance}"
    engine.Text.Command = "solve"
    return engine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeder", choices=sorted(FEEDERS), default="123")
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--steps", type=int, default=8760)
    ap.add_argument("--tolerance", type=float, default=1e-8)
    args = ap.parse_args()
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")

    svc = ours_service(args.feeder, args.tolerance)
    load = FEEDERS[args.feeder][2]
    kw0 = svc.feeder.loads[svc.feeder.index("loads", load)].kw
    flip = [False]

    def ours_step() -> None:
        flip[0] = not flip[0]
        svc.apply(SetLoad(load, p_mw=kw0 / 1000.0 * (1.01 if flip[0] else 1.0)))
        svc.solve()

    engine = opendss_engine(args.feeder, args.tolerance)
    circuit = engine.ActiveCircuit

    def opendss_step() -> None:
        flip[0] = not flip[0]
        engine.Text.Command = f"Load.{load}.kW={kw0 * (1.01 if flip[0] else 1.0)}"
        circuit.Solution.Solve()

    print(f"tolerance {args.tolerance:g} for both tools")
    print(f"1. IEEE {args.feeder} re-solve after a 1 % change of load {load}, median of",
          args.repeat)
    print(f"   cosim.grid.threephase  {median_s(ours_step, args.repeat) * 1e3:8.3f} ms")
    print(f"   OpenDSS (dss-python)   {median_s(opendss_step, args.repeat) * 1e3:8.3f} ms")

    rng = np.random.default_rng(13)
    factors = rng.uniform(0.5, 1.1, args.steps)
    svc = ours_service(args.feeder, args.tolerance)
    t0, c0 = time.perf_counter(), time.process_time()
    previous = 1.0
    for f in factors:
        svc.apply(ScaleLoad(f / previous))
        previous = f
        svc.solve()
    ours_wall, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
    engine = opendss_engine(args.feeder, args.tolerance)
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
    print(f"2. {args.steps} load steps on IEEE {args.feeder} (all loads x U(0.5, 1.1))")
    print(f"   cosim.grid.threephase  wall {ours_wall:7.2f} s  cpu {ours_cpu:7.2f} s")
    print(f"   OpenDSS (dss-python)   wall {dss_wall:7.2f} s  cpu {dss_cpu:7.2f} s")
    print(f"   largest |V| difference at the last step: {worst:.2e} (relative)")
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
