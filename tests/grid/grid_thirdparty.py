"""Third-party references computed at test time: PYPOWER and pandapower on MATPOWER data.

Nothing here is our solver: these helpers only hand MATPOWER's own case
matrices (read by :func:`cosim.grid.matpower.parse_m`) to the other tools.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from cosim.grid.matpower import parse_m

TAP, SHIFT, BASE_KV = 8, 9, 9


def mpc(path: Path) -> dict[str, Any]:
    """MATPOWER case matrices as numpy arrays (PYPOWER's ``ppc`` form)."""
    data = parse_m(path.read_text(), source=str(path))
    return {"version": "2", "baseMVA": float(data["baseMVA"]),
            **{k: np.array(data[k], dtype=float) for k in ("bus", "gen", "branch")}}


def pypower_runpf(case: dict[str, Any]) -> dict[str, Any]:
    """PYPOWER Newton power flow, 1e-10 pu, Q limits off (PYPOWER 5.1's limit code fails on numpy 2)."""
    from pypower.api import ppoption, runpf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result, success = runpf(case, ppoption(VERBOSE=0, OUT_ALL=0, PF_TOL=1e-10))
    assert success
    return result


def pandapower_net(case: dict[str, Any]) -> Any:
    """pandapower network of a MATPOWER case through pandapower's ``from_ppc``.

    ``from_ppc`` makes the higher-voltage end of every transformer its HV bus;
    when that is MATPOWER's "to" end it swaps the ends but leaves the tap on
    the new from side, which changes the case (the defect behind the old
    shipped case300). Such branches are first written in their exact
    equivalent with the ends exchanged (tap 1/a on the other side: z*a^2,
    b/a^2, -shift), so pandapower solves MATPOWER's network. Callers check
    this by comparing with PYPOWER before relying on it.
    """
    import pandapower.converter.pypower as pc

    case = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}
    br, bus = case["branch"], case["bus"]
    kv = dict(zip(bus[:, 0].astype(int), bus[:, BASE_KV]))
    from_kv = np.array([kv[int(b)] for b in br[:, 0]])
    to_kv = np.array([kv[int(b)] for b in br[:, 1]])
    a = np.where(br[:, TAP] == 0.0, 1.0, br[:, TAP])
    flip = (((br[:, TAP] != 0.0) & (br[:, TAP] != 1.0)) | (br[:, SHIFT] != 0.0)) & (to_kv > from_kv)
    br[flip, 0], br[flip, 1] = br[flip, 1].copy(), br[flip, 0].copy()
    br[flip, 2] *= a[flip] ** 2
    br[flip, 3] *= a[flip] ** 2
    br[flip, 4] /= a[flip] ** 2
    br[flip, TAP] = 1.0 / a[flip]
    br[flip, SHIFT] *= -1.0
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pc.from_ppc(case, f_hz=60)


def pandapower_runpp(net: Any, *, enforce_q_lims: bool) -> tuple[np.ndarray, np.ndarray]:
    """pandapower Newton (pi transformer model, 1e-10 MVA); bus vm_pu, va_degree in bus order."""
    import pandapower as pp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, algorithm="nr", enforce_q_lims=enforce_q_lims, tolerance_mva=1e-10,
                 calculate_voltage_angles=True, init="flat", trafo_model="pi", max_iteration=50)
    return net.res_bus.vm_pu.to_numpy(), net.res_bus.va_degree.to_numpy()
