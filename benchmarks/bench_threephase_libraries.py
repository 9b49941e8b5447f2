"""Library choice for the unbalanced power flow: ours, OpenDSS (dss-python) and power-grid-model.

    python benchmarks/bench_threephase_libraries.py [--steps N]

Prints the table docs/grid.md records (issue 18, "Library choice"):

1. **Fit**: for the IEEE 13, 34 and 123 node feeders as read from their
   OpenDSS files, how many elements power-grid-model has no input for. Its
   input schema (printed from ``power_grid_meta_data``) has three-phase
   nodes and branches only, one tap position per transformer and no
   connection field on ``asym_load``: single- and two-phase lines,
   single-phase transformers and regulators, per-phase regulator taps,
   delta loads and single-phase capacitors are counted from our parsed
   :class:`Feeder`.
2. **Accuracy**: a three-phase feeder every tool can represent
   (``FEEDER`` below: Dyn1 substation transformer, untransposed line
   matrices, unbalanced wye loads of each model, a capacitor), solved by all
   three; largest per-phase magnitude and angle difference from OpenDSS.
3. **Speed** on that feeder: one solve, and ``--steps`` hourly load steps
   (every load times U(0.5, 1.1)): ours through the feeder service,
   OpenDSS by ``LoadMult``, power-grid-model one ``update`` + solve per step
   and as one batch calculation (its intended use). CPU (``process_time``)
   beside wall time, with the load average.
4. **Install weight**: size of each library's installed package folders.

Needs dss-python (test extra) and power-grid-model (bench extra). Nothing
here asserts a time.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from cosim.grid.actions import ScaleLoad
from bench_threephase import FEEDERS
from cosim.grid.threephase import Feeder, FeederService, read_dss
from cosim.grid.threephase.elements import Connection, LoadModel
from cosim.grid.threephase.results import bus_bases_kv

# Every element three-phase; source nearly ideal, so the tools' different
# source models (OpenDSS's X/R per sequence, power-grid-model's one X/R) do not
# enter; voltages stay inside 0.95..1.05 so OpenDSS's load-law switching does
# not either. Single-phase loads are rated at 4.16 kV / sqrt 3, the voltage
# power-grid-model rates every phase of a 4.16 kV node at.
FEEDER = """Clear
New Circuit.bench basekv=12.47 pu=1.02 phases=3 bus1=src R1=0 X1=0.0001 R0=0 X0=0.0001
New Transformer.sub phases=3 windings=2 xhl=6
~ wdg=1 bus=src conn=delta kv=12.47 kva=6000 %r=0.5
~ wdg=2 bus=n0 conn=wye kv=4.16 kva=6000 %r=0.5
New Linecode.m3 nphases=3 units=kft
~ rmatrix=(0.0868 | 0.0296 0.0884 | 0.0291 0.0299 0.0874)
~ xmatrix=(0.2042 | 0.0950 0.1985 | 0.0729 0.0802 0.2017)
~ cmatrix=(2.85 | -0.92 3.00 | -0.35 -0.59 2.71)
New Line.l1 bus1=n0 bus2=n1 linecode=m3 length=2 units=kft
New Line.l2 bus1=n1 bus2=n2 linecode=m3 length=1.5 units=kft
New Line.l3 bus1=n2 bus2=n3 linecode=m3 length=1 units=kft
New Line.l4 bus1=n1 bus2=n4 linecode=m3 length=2.5 units=kft
New Load.a1 bus1=n1.1 phases=1 conn=wye model=1 kv=2.4017771 kw=400 kvar=150
New Load.b2 bus1=n2.2 phases=1 conn=wye model=2 kv=2.4017771 kw=300 kvar=120
New Load.c3 bus1=n3.3 phases=1 conn=wye model=5 kv=2.4017771 kw=250 kvar=90
New Load.t3 bus1=n3 phases=3 conn=wye model=1 kv=4.16 kw=600 kvar=250
New Load.t4 bus1=n4 phases=3 conn=wye model=2 kv=4.16 kw=450 kvar=200
New Capacitor.c4 bus1=n4 phases=3 kvar=300 kv=4.16
Set Voltagebases=[12.47, 4.16]
calcv
"""

PGM_LOAD_TYPE = {LoadModel.CONSTANT_PQ: 0, LoadModel.CONSTANT_Z: 1, LoadModel.CONSTANT_I: 2}


def fit_counts(feeder: Feeder, taps: dict[str, int]) -> dict[str, int]:
    """Elements of ``feeder`` that power-grid-model's input schema cannot hold as they are.

    ``taps`` are the published solution's regulator taps: a bank of
    single-phase regulators between the same two buses whose taps differ
    needs one tap per phase, which a power-grid-model transformer has not.
    """
    banks: dict[tuple[str, str], set[int]] = {}
    for xf in feeder.transformers:
        if xf.phases == 1 and xf.name in taps:
            key = (xf.windings[0].terminal[0].bus, xf.windings[1].terminal[0].bus)
            banks.setdefault(key, set()).add(taps[xf.name])
    return {
        "1- or 2-phase lines": sum(len(ln.bus1) < 3 for ln in feeder.lines),
        "single-phase transformers/regulators": sum(xf.phases == 1 for xf in feeder.transformers),
        "regulator banks with per-phase taps (published)": sum(len(t) > 1 for t in banks.values()),
        "delta loads": sum(ld.connection is Connection.DELTA for ld in feeder.loads),
        "single-phase capacitors": sum(c.phases < 3 for c in feeder.capacitors),
    }


def to_pgm(feeder: Feeder, bases_kv: dict[str, float]):  # type: ignore[no-untyped-def]
    """power-grid-model input for a feeder of three-phase elements only (``FEEDER``)."""
    from power_grid_model import ComponentType, initialize_array

    buses = sorted(bases_kv)
    bus_id = {b: i for i, b in enumerate(buses)}
    nid = len(buses)
    node = initialize_array("input", ComponentType.node, len(buses))
    node["id"] = np.arange(len(buses))
    node["u_rated"] = [bases_kv[b] * 1e3 for b in buses]
    src = feeder.sources[0]
    source = initialize_array("input", ComponentType.source, 1)
    source["id"], source["node"], source["status"] = nid, bus_id[src.terminal[0].bus], 1
    v_ref = abs(src.emf_v[0]) * math.sqrt(3) / (bases_kv[src.terminal[0].bus] * 1e3)
    source["u_ref"], source["u_ref_angle"] = v_ref, float(np.angle(src.emf_v[0]))
    source["sk"], source["rx_ratio"], source["z01_ratio"] = 1e15, 0.0, 1.0
    nid += 1
    lines = [ln for ln in feeder.lines if ln.closed]
    line = initialize_array("input", ComponentType.asym_line, len(lines))
    for k, ln in enumerate(lines):
        z, c = ln.z_ohm, ln.c_f
        line[k]["id"], line[k]["from_node"], line[k]["to_node"] = (
            nid, bus_id[ln.bus1[0].bus], bus_id[ln.bus2[0].bus])
        line[k]["from_status"] = line[k]["to_status"] = 1
        for name, (i, j) in {"aa": (0, 0), "ba": (1, 0), "bb": (1, 1), "ca": (2, 0),
                             "cb": (2, 1), "cc": (2, 2)}.items():
            line[k][f"r_{name}"], line[k][f"x_{name}"] = z[i, j].real, z[i, j].imag
            line[k][f"c_{name}"] = c[i, j]
        nid += 1
    xfs = feeder.transformers
    trafo = initialize_array("input", ComponentType.transformer, len(xfs))
    for k, xf in enumerate(xfs):
        w1, w2 = xf.windings
        sn = w1.kva * 1e3
        r = (w1.r_percent + w2.r_percent) / 100.0
        trafo[k]["id"], trafo[k]["from_node"], trafo[k]["to_node"] = (
            nid, bus_id[w1.terminal[0].bus], bus_id[w2.terminal[0].bus])
        trafo[k]["from_status"] = trafo[k]["to_status"] = 1
        trafo[k]["u1"], trafo[k]["u2"], trafo[k]["sn"] = w1.kv * 1e3 * w1.tap, w2.kv * 1e3 * w2.tap, sn
        trafo[k]["uk"], trafo[k]["pk"] = math.hypot(r, xf.x_percent / 100.0), r * sn
        trafo[k]["i0"], trafo[k]["p0"] = xf.imag_percent / 100.0, xf.noload_loss_percent / 100.0 * sn
        wt = {Connection.DELTA: 2, Connection.WYE: 1}  # WindingType: wye_n = 1, delta = 2
        trafo[k]["winding_from"], trafo[k]["winding_to"] = wt[w1.connection], wt[w2.connection]
        trafo[k]["clock"] = 1 if w1.connection is not w2.connection else 0  # ANSI: low side lags
        trafo[k]["tap_side"], trafo[k]["tap_pos"], trafo[k]["tap_min"], trafo[k]["tap_max"] = 0, 0, 0, 0
        trafo[k]["tap_nom"], trafo[k]["tap_size"] = 0, 0.0
        nid += 1
    load = initialize_array("input", ComponentType.asym_load, len(feeder.loads))
    for k, ld in enumerate(feeder.loads):
        p = np.zeros(3)
        q = np.zeros(3)
        for nd in ld.terminal[:ld.phases]:
            p[nd.conductor - 1] = ld.kw * 1e3 / ld.phases
            q[nd.conductor - 1] = ld.kvar * 1e3 / ld.phases
        load[k]["id"], load[k]["node"], load[k]["status"] = nid, bus_id[ld.terminal[0].bus], 1
        load[k]["type"], load[k]["p_specified"], load[k]["q_specified"] = (
            PGM_LOAD_TYPE[ld.model], p, q)
        nid += 1
    caps = feeder.capacitors
    shunt = initialize_array("input", ComponentType.shunt, len(caps))
    for k, cap in enumerate(caps):
        b = cap.kvar * 1e3 / (cap.kv * 1e3) ** 2
        shunt[k]["id"], shunt[k]["node"], shunt[k]["status"] = nid, bus_id[cap.terminal[0].bus], 1
        shunt[k]["g1"], shunt[k]["b1"], shunt[k]["g0"], shunt[k]["b0"] = 0.0, b, 0.0, b
        nid += 1
    data = {ComponentType.node: node, ComponentType.source: source,
            ComponentType.asym_line: line, ComponentType.transformer: trafo,
            ComponentType.asym_load: load, ComponentType.shunt: shunt}
    return data, buses, load


def package_mb(*names: str) -> float:
    total = 0
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        for root, _, files in os.walk(Path(spec.origin).parent):
            total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=8760)
    args = ap.parse_args()
    import dss
    from power_grid_model import (
        CalculationMethod,
        ComponentType,
        DatasetType,
        PowerGridModel,
        initialize_array,
        power_grid_meta_data,
    )

    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}")
    schema = power_grid_meta_data[DatasetType.input]
    print("power-grid-model asym_load input fields:", schema[ComponentType.asym_load].dtype.names)
    print("1. What power-grid-model cannot hold, per feeder (counted from our .dss reading)")
    for name in ("13", "34", "123"):
        path, taps, _ = FEEDERS[name]
        counts = fit_counts(read_dss(path), taps)
        print(f"   IEEE {name:4s} " + ", ".join(f"{k}: {v}" for k, v in counts.items()))

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.dss"
        path.write_text(FEEDER)
        feeder = read_dss(path)
        svc = FeederService(feeder, tolerance=1e-10)
        ours = svc.solve()
        engine = dss.DSS
        engine.AllowForms = False
        cwd = os.getcwd()
        engine.Text.Command = "clear"
        engine.Text.Command = f'compile "{path}"'
        engine.Text.Command = "Set Tolerance=1e-10"
        engine.Text.Command = "solve"
        os.chdir(cwd)
        circuit = engine.ActiveCircuit
        names = [n.lower() for n in circuit.AllNodeNames]
        raw = np.array(circuit.AllBusVolts).reshape(-1, 2)
        ref = {(n.rsplit(".", 1)[0], int(n.rsplit(".", 1)[1])): complex(*xy)
               for n, xy in zip(names, raw)}

        bases = bus_bases_kv(feeder)
        data, buses, load_in = to_pgm(feeder, bases)
        t0, c0 = time.perf_counter(), time.process_time()
        model = PowerGridModel(data)
        pgm_build = time.perf_counter() - t0
        out = model.calculate_power_flow(symmetric=False, error_tolerance=1e-10,
                                         calculation_method=CalculationMethod.newton_raphson)
        u = out[ComponentType.node]["u"]
        ang = out[ComponentType.node]["u_angle"]
        pgm = {(b, ph + 1): u[i, ph] * np.exp(1j * ang[i, ph]) for i, b in enumerate(buses)
               for ph in range(3)}
        index = {(nd.bus, nd.conductor): i for i, nd in enumerate(ours.nodes)}

        def worst(tool: dict[tuple[str, int], complex]) -> tuple[float, float]:
            vm = va = 0.0
            for key, v_ref in ref.items():
                base = bases[key[0]] * 1e3 / math.sqrt(3)
                vm = max(vm, abs(abs(tool[key]) - abs(v_ref)) / base)
                va = max(va, abs(math.degrees(np.angle(tool[key] / v_ref))))
            return vm, va

        ours_v = {k: complex(ours.v[i]) for k, i in index.items()}
        print("2. Accuracy on the three-phase bench feeder, largest difference from OpenDSS")
        for label, tool in (("cosim.grid.threephase", ours_v), ("power-grid-model", pgm)):
            vm, va = worst(tool)
            print(f"   {label:22s} |V| {vm:.2e} pu   angle {va:.2e} deg")

        rng = np.random.default_rng(13)
        factors = rng.uniform(0.5, 1.1, args.steps)
        print(f"3. Speed on the bench feeder: {args.steps} load steps (all loads x U(0.5, 1.1))")
        t0, c0 = time.perf_counter(), time.process_time()
        prev = 1.0
        for f in factors:
            svc.apply(ScaleLoad(f / prev))
            prev = f
            svc.solve()
        print(f"   cosim.grid.threephase            wall {time.perf_counter() - t0:7.2f} s  "
              f"cpu {time.process_time() - c0:7.2f} s")
        t0, c0 = time.perf_counter(), time.process_time()
        for f in factors:
            engine.Text.Command = f"Set LoadMult={f}"
            circuit.Solution.Solve()
        print(f"   OpenDSS (dss-python)             wall {time.perf_counter() - t0:7.2f} s  "
              f"cpu {time.process_time() - c0:7.2f} s")
        update = initialize_array("update", ComponentType.asym_load, (args.steps, len(load_in)))
        update["id"] = load_in["id"]
        update["p_specified"] = factors[:, None, None] * load_in["p_specified"][None, :, :]
        update["q_specified"] = factors[:, None, None] * load_in["q_specified"][None, :, :]
        t0, c0 = time.perf_counter(), time.process_time()
        for k in range(args.steps):
            model.update(update_data={ComponentType.asym_load: update[k]})
            model.calculate_power_flow(symmetric=False, error_tolerance=1e-8)
        print(f"   power-grid-model, step by step   wall {time.perf_counter() - t0:7.2f} s  "
              f"cpu {time.process_time() - c0:7.2f} s")
        model = PowerGridModel(data)
        t0, c0 = time.perf_counter(), time.process_time()
        model.calculate_power_flow(symmetric=False, error_tolerance=1e-8,
                                   update_data={ComponentType.asym_load: update}, threading=-1)
        print(f"   power-grid-model, one batch      wall {time.perf_counter() - t0:7.2f} s  "
              f"cpu {time.process_time() - c0:7.2f} s  (model build {pgm_build * 1e3:.1f} ms)")
    print("4. Installed package size")
    print(f"   power-grid-model {package_mb('power_grid_model'):.1f} MB; dss-python "
          f"{package_mb('dss', 'dss_python_backend'):.1f} MB; ours: numpy and scipy only "
          "(already core dependencies)")
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
