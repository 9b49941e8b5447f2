"""Write IEEE 57/118/300-bus MATPOWER JSON cases and reference solutions from pandapower.

Run once (needs the ``bench`` extra, i.e. pandapower); the output is shipped in
``cosim/grid/cases``:

    python benchmarks/make_pandapower_cases.py

pandapower ships these IEEE test systems (converted from MATPOWER). We run its
Newton power flow with the pi transformer model and reactive limits off, take
the internal MATPOWER-format case it actually solved (``net._ppc``), and write
it with the original bus numbers restored (pandapower numbers buses 0..n-1
internally) and a flat start (VM=1, VA=0 except at the slack bus: pandapower
keeps no initial voltages). Branches come out in pandapower's order, lines
first and then transformers, so ``branch<k>`` numbers differ from MATPOWER's
files; bus numbers, generators' buses and all electrical data are the same.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "cosim" / "grid" / "cases"


def export(case: str) -> None:
    import pandapower as pp
    import pandapower.networks as pn

    net = getattr(pn, case)()
    pp.runpp(net, algorithm="nr", calculate_voltage_angles=True, init="flat",
             enforce_q_lims=False, trafo_model="pi", tolerance_mva=1e-10, max_iteration=50)
    ppc = net._ppc
    lookup = net._pd2ppc_lookups["bus"]
    ppc_row = lookup[net.bus.index.values]
    if len(set(ppc_row)) != len(net.bus) or len(ppc["bus"]) != len(net.bus):
        raise RuntimeError(f"{case}: pandapower merged or added buses; cannot map ids")
    number = np.empty(len(net.bus), dtype=np.int64)
    number[ppc_row] = net.bus.name.astype(int).values

    bus = np.array(ppc["bus"][:, :13].real, dtype=float)
    bus_num = number[bus[:, 0].astype(int)]
    solved_vm, solved_va = bus[:, 7].copy(), bus[:, 8].copy()
    bus[:, 0] = bus_num
    bus[:, 7] = 1.0
    bus[:, 8] = np.where(bus[:, 1] == 3, solved_va, 0.0)
    gen = np.array(ppc["gen"][:, :10].real, dtype=float)
    gen[:, 0] = number[gen[:, 0].astype(int)]
    branch = np.array(ppc["branch"][:, :13].real, dtype=float)
    branch[:, 0] = number[branch[:, 0].astype(int)]
    branch[:, 1] = number[branch[:, 1].astype(int)]
    data = {
        "baseMVA": float(ppc["baseMVA"]),
        "bus": bus.tolist(), "gen": gen.tolist(), "branch": branch.tolist(),
        "columns": {
            "bus": "BUS_I TYPE PD QD GS BS AREA VM VA BASE_KV ZONE VMAX VMIN (MATPOWER v2)",
            "gen": "GEN_BUS PG QG QMAX QMIN VG MBASE GEN_STATUS PMAX PMIN (MATPOWER v2)",
            "branch": "F_BUS T_BUS BR_R BR_X BR_B RATE_A RATE_B RATE_C TAP SHIFT BR_STATUS "
                      "ANGMIN ANGMAX (MATPOWER v2)"},
        "source": f"pandapower {pp.__version__} networks.{case}() (IEEE test system as "
                  f"converted from MATPOWER), internal ppc after runpp(trafo_model='pi')",
    }
    order = np.argsort(bus_num)
    losses = float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())
    solution = {
        "source": f"pandapower {pp.__version__} runpp Newton, tolerance 1e-10 MVA, "
                  "enforce_q_lims=False, trafo_model='pi', flat start",
        "bus": {"id": bus_num[order].tolist(), "vm_pu": solved_vm[order].tolist(),
                "va_deg": solved_va[order].tolist()},
        "losses_mw": losses,
    }
    (OUT / f"{case}.json").write_text(json.dumps(data))
    (OUT / f"{case}.solution.json").write_text(json.dumps(solution))
    print(f"{case}: {len(bus)} buses, {len(branch)} branches, {len(gen)} generators, "
          f"losses {losses:.4f} MW")


def main() -> None:
    warnings.simplefilter("ignore")
    OUT.mkdir(parents=True, exist_ok=True)
    for case in ("case57", "case118", "case300"):
        export(case)


if __name__ == "__main__":
    main()
