"""A pandapower network as MATPOWER version-2 matrices, so it loads like any case file.

Written from pandapower's documented element models (its "Datastructure and
elements" pages), not from pandapower's own MATPOWER converter: buses are
named by their pandapower index (``"0"``, ``"1"``, ...), as a pandapower user
refers to them; lines become pi branches; two-winding
transformers become branches with the off-nominal ratio their rated voltages
and tap give, referred to the LV bus; the magnetising branch is the
pandapower "pi" transformer model's (half of it at each end); static
generators and storage are netted into the bus demand, as MATPOWER has no
other place for them; ``gen`` are PV units and ``ext_grid`` the reference.

Elements MATPOWER cannot hold are refused, naming the table: ZIP loads,
three-winding transformers, impedances, wards, DC lines, and closed bus-bus
switches (pandapower fuses those buses; merge them in pandapower first).
An open line switch at one end leaves the line charging from the other
end (its input admittance becomes a shunt there); open at both ends, or an
open transformer switch, takes the branch out of service.

This module never imports pandapower (the electrical layer depends on numpy
and scipy only): it reads any object with pandapower's tables.
:mod:`cosim.imports.pandapower` reads pandapower's JSON files with pandapower
and registers that reader for case files.
"""

from __future__ import annotations

import math
from typing import Any


class PandapowerImportError(ValueError):
    """A network, or an element of it, that this import cannot represent; the message names it."""


REFUSED_TABLES = ("trafo3w", "impedance", "ward", "xward", "dcline", "svc", "tcsc", "ssc", "vsc")


def is_pandapower_json(data: Any) -> bool:
    """True for the JSON that ``pandapower.to_json`` writes."""
    return isinstance(data, dict) and data.get("_class") == "pandapowerNet"


def _rows(net: Any, table: str) -> list[tuple[int, dict[str, Any]]]:
    frame = getattr(net, table, None)
    if frame is None or len(frame) == 0:
        return []
    return [(int(index), row.to_dict()) for index, row in frame.iterrows()]


def _value(row: dict[str, Any], key: str, default: float = 0.0) -> float:
    value = row.get(key, default)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(value) else value


def _shifted_start_angles(branch: list[list[float]], references: list[int]) -> dict[int, float]:
    """Initial bus angles (degrees) that carry every transformer's phase shift out from the reference buses.

    A Newton solve from a flat start does not converge through a Dyn5 (150 degree) transformer; starting
    each bus at the sum of the shifts on its path does, as pandapower's own initialisation does.
    """
    neighbours: dict[int, list[tuple[int, float]]] = {}
    for row in branch:
        if row[10] > 0:
            f, t, shift = int(row[0]), int(row[1]), float(row[9])
            neighbours.setdefault(f, []).append((t, -shift))  # the to-bus lags by the shift (MATPOWER)
            neighbours.setdefault(t, []).append((f, shift))
    angle = {bus: 0.0 for bus in references}
    queue = list(references)
    while queue:
        bus = queue.pop(0)
        for other, step in neighbours.get(bus, []):
            if other not in angle:
                angle[other] = angle[bus] + step
                queue.append(other)
    return angle


def mpc_from_pandapower(net: Any) -> dict[str, Any]:
    """MATPOWER v2 ``{"baseMVA", "bus", "gen", "branch", "bus_name"}`` of a pandapowerNet."""
    for table in REFUSED_TABLES:
        if any(bool(row.get("in_service", True)) for _, row in _rows(net, table)):
            raise PandapowerImportError(f"pandapower table {table!r}: not representable as a MATPOWER case")
    base_mva = float(getattr(net, "sn_mva", 1.0) or 1.0)
    f_hz = float(getattr(net, "f_hz", 50.0) or 50.0)
    buses = _rows(net, "bus")
    number = {index: index for index, _ in buses}  # buses keep their pandapower index as their name
    vn = {index: _value(row, "vn_kv") for index, row in buses}
    demand = {index: [0.0, 0.0] for index, _ in buses}
    shunt = {index: [0.0, 0.0] for index, _ in buses}
    kind = {index: 1 if bool(row.get("in_service", True)) else 4 for index, row in buses}

    for index, row in _rows(net, "load"):
        if any(_value(row, key) for key in ("const_z_percent", "const_i_percent", "const_z_p_percent", "const_i_p_percent",
                                            "const_z_q_percent", "const_i_q_percent")):
            raise PandapowerImportError(f"pandapower load {index}: voltage-dependent (ZIP) loads are not representable")
        if row.get("in_service", True):
            scaling = _value(row, "scaling", 1.0)
            demand[int(row["bus"])][0] += _value(row, "p_mw") * scaling
            demand[int(row["bus"])][1] += _value(row, "q_mvar") * scaling
    for table, sign in (("sgen", -1.0), ("storage", 1.0)):
        for index, row in _rows(net, table):
            if row.get("in_service", True):
                scaling = _value(row, "scaling", 1.0)
                demand[int(row["bus"])][0] += sign * _value(row, "p_mw") * scaling
                demand[int(row["bus"])][1] += sign * _value(row, "q_mvar") * scaling
    for index, row in _rows(net, "shunt"):
        if row.get("in_service", True):
            steps = _value(row, "step", 1.0)
            shunt[int(row["bus"])][0] += _value(row, "p_mw") * steps   # MW consumed at 1 pu
            shunt[int(row["bus"])][1] -= _value(row, "q_mvar") * steps  # Mvar injected at 1 pu (MATPOWER's Bs)

    open_ends: dict[tuple[str, int], set[int]] = {}  # (table, element) -> buses at which it is switched open
    for index, row in _rows(net, "switch"):
        if bool(row.get("closed", True)):
            if row.get("et") == "b":
                raise PandapowerImportError(f"pandapower switch {index}: a closed bus-bus switch (fuse the buses in pandapower first)")
            continue
        if row.get("et") in ("l", "t"):
            open_ends.setdefault(("line" if row["et"] == "l" else "trafo", int(row["element"])), set()).add(int(row["bus"]))

    branch: list[list[float]] = []
    for index, row in _rows(net, "line"):
        f, t = int(row["from_bus"]), int(row["to_bus"])
        parallel = max(_value(row, "parallel", 1.0), 1.0)
        length = _value(row, "length_km")
        z_base = vn[f] ** 2 / base_mva
        r = _value(row, "r_ohm_per_km") * length / parallel / z_base
        x = _value(row, "x_ohm_per_km") * length / parallel / z_base
        b = 2 * math.pi * f_hz * _value(row, "c_nf_per_km") * 1e-9 * length * parallel * z_base
        rate = math.sqrt(3) * vn[f] * _value(row, "max_i_ka", 0.0) * parallel * _value(row, "df", 1.0)
        opened = open_ends.get(("line", index), set())
        on = bool(row.get("in_service", True)) and not opened
        if row.get("in_service", True) and len(opened) == 1:
            # Open at one end only: the line still hangs on the other bus, charging through its series impedance.
            y_half = complex(0.0, b / 2.0)
            y_in = y_half + 1.0 / (complex(r, x) + 1.0 / y_half) if b else 0j
            live = t if f in opened else f
            shunt[live][0] += y_in.real * base_mva
            shunt[live][1] += y_in.imag * base_mva
        branch.append([number[f], number[t], r, x, b, rate, rate, rate, 0.0, 0.0, 1.0 if on else 0.0, -360.0, 360.0])

    for index, row in _rows(net, "trafo"):
        hv, lv = int(row["hv_bus"]), int(row["lv_bus"])
        sn = _value(row, "sn_mva")
        parallel = max(_value(row, "parallel", 1.0), 1.0)
        vn_hv, vn_lv = _value(row, "vn_hv_kv"), _value(row, "vn_lv_kv")
        changer = row.get("tap_changer_type", "Ratio")  # pandapower 3 applies taps only with a changer type
        if isinstance(changer, float) or changer is None:
            steps = 0.0
        elif changer != "Ratio":
            raise PandapowerImportError(f"pandapower trafo {index}: tap changer type {changer!r} (only 'Ratio' taps are imported)")
        else:
            steps = _value(row, "tap_pos") - _value(row, "tap_neutral")
        step = _value(row, "tap_step_percent") / 100.0 * steps
        if step:
            if row.get("tap_side") == "lv":
                vn_lv *= 1.0 + step
            else:
                vn_hv *= 1.0 + step
        shift = _value(row, "shift_degree") + _value(row, "tap_step_degree") * steps
        # Short-circuit impedance on the transformer rating, referred to the LV bus and the system base.
        to_system = (vn_lv / vn[lv]) ** 2 * base_mva / sn / parallel
        z = _value(row, "vk_percent") / 100.0 * to_system
        r = _value(row, "vkr_percent") / 100.0 * to_system
        x = math.sqrt(max(z * z - r * r, 0.0))
        # Magnetising admittance (pandapower's "pi" model), on the system base.
        y_m = _value(row, "i0_percent") / 100.0 * sn * parallel / base_mva
        g_m = _value(row, "pfe_kw") / 1000.0 * parallel / base_mva
        b_m = -math.sqrt(max(y_m * y_m - g_m * g_m, 0.0))
        ratio = (vn_hv / vn[hv]) / (vn_lv / vn[lv])
        on = bool(row.get("in_service", True)) and not open_ends.get(("trafo", index))
        rate = sn * parallel * _value(row, "df", 1.0)
        branch.append([number[hv], number[lv], r, x, b_m, rate, rate, rate, ratio, shift, 1.0 if on else 0.0, -360.0, 360.0])
        if on and g_m:
            for bus in (hv, lv):
                shunt[bus][0] += g_m * base_mva / 2.0

    gen: list[list[float]] = []
    for index, row in _rows(net, "ext_grid"):
        if row.get("in_service", True):
            bus = int(row["bus"])
            kind[bus] = 3
            gen.append([number[bus], 0.0, 0.0, 9999.0, -9999.0, _value(row, "vm_pu", 1.0), base_mva, 1.0, 9999.0, -9999.0])
            va = _value(row, "va_degree")
            if va:
                raise PandapowerImportError(f"pandapower ext_grid {index}: a reference angle other than 0 is not supported")
    for index, row in _rows(net, "gen"):
        if row.get("in_service", True):
            bus = int(row["bus"])
            if kind[bus] != 3:
                kind[bus] = 2
            scaling = _value(row, "scaling", 1.0)
            gen.append([number[bus], _value(row, "p_mw") * scaling, 0.0, _value(row, "max_q_mvar", 9999.0),
                        _value(row, "min_q_mvar", -9999.0), _value(row, "vm_pu", 1.0), base_mva, 1.0,
                        _value(row, "max_p_mw", 9999.0), _value(row, "min_p_mw", 0.0)])
    if not any(k == 3 for k in kind.values()):
        raise PandapowerImportError("the pandapower network has no ext_grid in service: no reference bus")

    start = _shifted_start_angles(branch, [number[i] for i, k in kind.items() if k == 3])
    bus_rows = [[number[index], kind[index], demand[index][0], demand[index][1], shunt[index][0], shunt[index][1], 1, 1.0,
                 start.get(number[index], 0.0), vn[index], 1, _value(row, "max_vm_pu", 1.1), _value(row, "min_vm_pu", 0.9)]
                for index, row in buses]
    return {"version": "2", "baseMVA": base_mva, "bus": bus_rows, "gen": gen, "branch": branch, "frequency_hz": f_hz}
