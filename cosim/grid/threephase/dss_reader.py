"""Turn a parsed OpenDSS script into a :class:`Feeder`: the meaning half of the ``.dss`` reader.

The subset is what the IEEE test feeders use: ``Circuit``/``Vsource``,
``LineCode`` (matrices or sequence values, with length units), ``WireData``
and ``LineGeometry`` (overhead, neutrals reduced), ``Line`` (including
``Switch=yes``), ``Load`` (models 1, 2, 5; wye and delta),
``Transformer`` (two or three windings, per-winding or array syntax), ``RegControl``
and ``Capacitor``. A property this reader does not know is an error naming
the file and line, never silently ignored, because an ignored impedance
would give a plausible but wrong power flow. Values follow OpenDSS's
documented defaults and unit conventions (its manual, "OpenDSS Manual", EPRI,
sections on each class); each default is stated where it is used.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cosim.grid.threephase.dss_lines import (
    build_geometry,
    build_line,
    build_reactor,
    build_wire,
    seq_to_phase,
)
from cosim.grid.threephase.dss_script import DssError, DssObject, DssScript, Prop, read_script
from cosim.grid.threephase.dss_values import (
    Props,
    conductors,
    connection,
    flag,
    number,
    numbers,
    terminal,
    words,
)
from cosim.grid.threephase.elements import (
    Capacitor,
    Connection,
    Fault,
    Feeder,
    Load,
    LoadModel,
    Node,
    RegulatorControl,
    Source,
    Transformer,
    Winding,
)


def read_dss(path: str | Path) -> Feeder:
    """Read an OpenDSS feeder file (and its redirects) into a :class:`Feeder`.

    Raises :class:`DssError` (a ``ValueError``) naming file and line for input
    outside the supported subset or with bad values.
    """
    return build_feeder(read_script(path))


def _source(obj: DssObject, freq: float) -> Source:
    # OpenDSS Vsource defaults: basekv 115, pu 1, angle 0, 3 phases, MVAsc3 2000,
    # MVAsc1 2100, X1/R1 = 4, X0/R0 = 3.
    pr = Props(obj, {"basekv", "pu", "phases", "bus1", "angle", "mvasc3", "mvasc1", "x1r1",
                      "x0r0", "r1", "x1", "r0", "x0", "isc3", "isc1", "basemva", "frequency"})
    kv = pr.num("basekv", 115.0)
    phases = int(pr.num("phases", 3))
    ang = math.radians(pr.num("angle", 0.0))
    vln = pr.num("pu", 1.0) * kv * 1000.0 / math.sqrt(3.0)
    emf = np.array([vln * np.exp(1j * (ang - 2 * math.pi * k / 3)) for k in range(phases)])
    spec = pr.order(("mvasc3", "mvasc1", "isc3", "isc1", "r1", "x1", "r0", "x0"))
    if spec in ("r1", "x1", "r0", "x0"):
        z1 = complex(pr.num("r1", 1.65), pr.num("x1", 6.6))
        z0 = complex(pr.num("r0", 1.9), pr.num("x0", 5.7))
    else:
        mva3, mva1 = pr.num("mvasc3", 2000.0), pr.num("mvasc1", 2100.0)
        if pr.get("isc3") is not None:
            mva3 = math.sqrt(3.0) * kv * pr.num("isc3", 0.0) / 1000.0
        if pr.get("isc1") is not None:
            mva1 = kv * pr.num("isc1", 0.0) / math.sqrt(3.0) * 3.0 / 1000.0
        x1r1, x0r0 = pr.num("x1r1", 4.0), pr.num("x0r0", 3.0)
        zmag1 = kv * kv / mva3
        r1 = zmag1 / math.sqrt(1 + x1r1 ** 2)
        x1 = r1 * x1r1
        # |2 Z1 + Z0| = 3 kV^2 / MVAsc1, solved for R0 with X0 = R0 * X0/R0.
        a = 1 + x0r0 ** 2
        b = 4 * (r1 + x1 * x0r0)
        c = 4 * (r1 * r1 + x1 * x1) - (3 * kv * kv / mva1) ** 2
        r0 = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
        z1, z0 = complex(r1, x1), complex(r0, r0 * x0r0)
    bus = pr.get("bus1")
    term = terminal(bus, phases) if bus else tuple(Node("sourcebus", k + 1)
                                                          for k in range(phases))
    return Source(obj.name, term, emf, seq_to_phase(z1, z0, phases), kv)


def _load(obj: DssObject) -> Load:
    pr = Props(obj, {"bus1", "phases", "conn", "model", "kv", "kw", "kvar", "pf", "kva",
                      "vminpu", "vmaxpu", "enabled", "status", "class", "yearly", "daily",
                      "duty", "growth", "numcust", "spectrum", "vlowpu", "xfkva",
                      "allocationfactor"})
    phases = int(pr.num("phases", 3))
    conn_p = pr.get("conn")
    conn = connection(conn_p) if conn_p is not None else Connection.WYE
    m = int(pr.num("model", 1))
    try:
        model = LoadModel(m)
    except ValueError:
        raise DssError(f"{pr.require('model').where}: load model {m} is not supported "
                       "(1 constant PQ, 2 constant Z, 5 constant |I|)") from None
    kw = pr.num("kw", 10.0)
    if pr.get("kvar") is not None:
        kvar = pr.num("kvar", 0.0)
    else:
        pf = pr.num("pf", 0.88)
        kvar = kw * math.tan(math.acos(abs(pf))) * (1 if pf >= 0 else -1)
    return Load(obj.name, terminal(pr.require("bus1"), conductors(phases, conn), phases), phases, conn, model,
                pr.num("kv", 12.47), kw, kvar, pr.num("vminpu", 0.95), pr.num("vmaxpu", 1.05),
                pr.get("enabled") is None or flag(pr.require("enabled")), pr.num("vlowpu", 0.50))


def _capacitor(obj: DssObject) -> Capacitor:
    pr = Props(obj, {"bus1", "phases", "kvar", "kv", "conn", "enabled", "numsteps", "states"})
    phases = int(pr.num("phases", 3))
    conn_p = pr.get("conn")
    conn = connection(conn_p) if conn_p is not None else Connection.WYE
    if pr.get("bus2") is not None:
        raise DssError(f"{obj.where}: series capacitors are not supported")
    return Capacitor(obj.name, terminal(pr.require("bus1"), conductors(phases, conn), phases),
                     phases, conn, pr.num("kv", 12.47), pr.num("kvar", 1200.0),
                     pr.get("enabled") is None or flag(pr.require("enabled")))


_XF_WINDING = {"wdg", "bus", "conn", "kv", "kva", "%r", "r", "tap", "rneut", "xneut"}
# OpenDSS accepts unambiguous abbreviations; these are the ones the IEEE files use.


_XF_ALIAS = {"r": "%r", "ppm": "ppm_antifloat"}


_XF_ARRAY = {"buses": "bus", "conns": "conn", "kvs": "kv", "kvas": "kva", "taps": "tap",
             "%rs": "%r"}


def _transformer(obj: DssObject, xfmrcodes: dict[str, DssObject]) -> Transformer:
    known = _XF_WINDING | set(_XF_ARRAY) | {
        "phases", "windings", "xhl", "xht", "xlt", "x12", "x13", "x23", "%loadloss",
        "%noloadloss", "%imag", "bank", "xfmrcode", "leadlag", "ppm_antifloat", "sub",
        "enabled", "normhkva", "emerghkva", "thermal", "n", "m", "flrise", "hsrise",
        "subname", "maxtap", "mintap", "numtaps", "xrconst"}
    phases, nw = 3, 2
    per_w: list[dict[str, Prop]] = [{}, {}, {}]
    w = 0
    # OpenDSS defaults: XHL 7 %, XHT 35 %, XLT 30 %.
    x_pct, x13, x23, imag, nll, lag, ppm = 7.0, 35.0, 30.0, 0.0, 0.0, True, 1.0
    props: list[Prop] = []
    for p in obj.props:  # XfmrCode=name stands for that code's properties, in place
        if p.key == "xfmrcode":
            code = xfmrcodes.get(p.value.lower())
            if code is None:
                raise DssError(f"{p.where}: undefined XfmrCode {p.value!r}")
            props.extend(code.props)
        else:
            props.append(p)
    for p in props:
        k = _XF_ALIAS.get(p.key, p.key)
        if k not in known:
            raise DssError(f"{p.where}: Transformer.{obj.name}: unsupported property {p.key!r}")
        if k == "phases":
            phases = int(number(p))
        elif k == "windings":
            nw = int(number(p))
            if nw not in (2, 3):
                raise DssError(f"{p.where}: Transformer.{obj.name}: two or three windings "
                               f"are supported, got {nw}")
        elif k == "wdg":
            w = int(number(p)) - 1
            if not 0 <= w < nw:
                raise DssError(f"{p.where}: winding {w + 1} outside 1..{nw}")
        elif k in _XF_WINDING:
            per_w[w][k] = p
        elif k in _XF_ARRAY:
            vals = words(p)
            if len(vals) != nw:
                raise DssError(f"{p.where}: {p.key} needs {nw} values, got {len(vals)}")
            for i, v in enumerate(vals):
                per_w[i][_XF_ARRAY[k]] = Prop(_XF_ARRAY[k], v, p.where)
        elif k in ("xhl", "x12"):
            x_pct = number(p)
        elif k in ("xht", "x13"):
            x13 = number(p)
        elif k in ("xlt", "x23"):
            x23 = number(p)
        elif k == "%loadloss":
            # %LoadLoss sets both windings' %R to half of it; a later %r overrides.
            half = str(number(p) / 2)
            per_w[0]["%r"] = Prop("%r", half, p.where)
            per_w[1]["%r"] = Prop("%r", half, p.where)
        elif k == "%imag":
            imag = number(p)
        elif k == "%noloadloss":
            nll = number(p)
        elif k == "leadlag":
            lag = p.value.strip().lower() in ("lag", "ansi")
        elif k == "ppm_antifloat":
            ppm = number(p)
    windings = []
    for i in range(nw):
        d = per_w[i]
        if "bus" not in d:
            raise DssError(f"{obj.where}: Transformer.{obj.name}: winding {i + 1} has no bus")
        conn = connection(d["conn"]) if "conn" in d else Connection.WYE
        # OpenDSS defaults: kV 12.47, kVA 1000, %R 0.2 per winding.
        r_pct = number(d["%r"]) if "%r" in d else 0.2
        windings.append(Winding(terminal(d["bus"], conductors(phases, conn), phases), conn,
                                number(d["kv"]) if "kv" in d else 12.47,
                                number(d["kva"]) if "kva" in d else 1000.0,
                                r_pct, number(d["tap"]) if "tap" in d else 1.0))
    return Transformer(obj.name, phases, tuple(windings), x_pct, imag, nll, lag, ppm, x13, x23)


def _regcontrol(obj: DssObject) -> RegulatorControl:
    pr = Props(obj, {"transformer", "winding", "vreg", "band", "ptratio", "ctprim", "r", "x",
                      "delay", "tapdelay", "maxtapchange", "enabled", "bus", "ptphase",
                      "reversible", "tapnum", "vlimit", "inversetime", "revvreg", "revband",
                      "revr", "revx"})
    # OpenDSS RegControl defaults: winding 1, vreg 120, band 3, ptratio 60, ctprim 300, delay 15 s.
    return RegulatorControl(obj.name, pr.require("transformer").value.lower(),
                            int(pr.num("winding", 1)), pr.num("vreg", 120.0),
                            pr.num("band", 3.0), pr.num("ptratio", 60.0),
                            pr.num("ctprim", 300.0), pr.num("r", 0.0), pr.num("x", 0.0),
                            delay_s=pr.num("delay", 15.0))


def _fault(obj: DssObject) -> Fault:
    # OpenDSS Fault: phases 1, r 0.0001 ohm, bus2 = bus1's nodes all grounded.
    pr = Props(obj, {"bus1", "bus2", "phases", "r", "enabled", "temporary", "ontime",
                     "minamps", "%stddev"})
    phases = int(pr.num("phases", 1))
    r = pr.num("r", 0.0001)
    if r <= 0:
        raise DssError(f"{pr.require('r').where}: Fault.{obj.name}: r must be > 0 ohm")
    bus1 = terminal(pr.require("bus1"), phases)
    b2 = pr.get("bus2")
    bus2 = terminal(b2, phases) if b2 is not None else tuple(Node(bus1[0].bus, 0) for _ in bus1)
    return Fault(obj.name, bus1, bus2, r)


def build_feeder(script: DssScript) -> Feeder:
    """A :class:`Feeder` from a parsed script; raises :class:`DssError`."""
    opt = script.options
    freq = number(opt["defaultbasefrequency"]) if "defaultbasefrequency" in opt else 60.0
    codes = {name: o for (cls, name), o in script.objects.items() if cls == "linecode"}
    xfmrcodes = {name: o for (cls, name), o in script.objects.items() if cls == "xfmrcode"}
    wires = {name: build_wire(o) for (cls, name), o in script.objects.items() if cls == "wiredata"}
    geometries = {name: build_geometry(o, wires) for (cls, name), o in script.objects.items()
                  if cls == "linegeometry"}
    model = opt.get("earthmodel")
    if model is not None and model.value.lower() != "deri":
        raise DssError(f"{model.where}: only the Deri earth model (OpenDSS's default) is supported")
    sources, lines, xfs, loads, caps, regs = [], [], [], [], [], []
    faults: list[Fault] = []
    circuit = ""
    for (cls, name), obj in script.objects.items():
        if cls in ("circuit", "vsource"):
            circuit = name if cls == "circuit" else circuit
            sources.append(_source(obj, freq))
        elif cls in ("linecode", "wiredata", "linegeometry", "xfmrcode"):
            continue
        elif cls == "line":
            lines.append(build_line(obj, codes, geometries, freq))
        elif cls == "reactor":
            lines.append(build_reactor(obj))
        elif cls == "load":
            loads.append(_load(obj))
        elif cls == "capacitor":
            caps.append(_capacitor(obj))
        elif cls == "transformer":
            xfs.append(_transformer(obj, xfmrcodes))
        elif cls == "regcontrol":
            regs.append(_regcontrol(obj))
        elif cls == "fault":
            if obj.props and any(p.key == "enabled" and not flag(p) for p in obj.props):
                continue
            faults.append(_fault(obj))
        else:
            raise DssError(f"{obj.where}: element class {cls!r} is not supported")
    if not sources:
        raise DssError("no circuit defined (New Circuit.<name> ...)")
    names = {x.name for x in xfs}
    for reg in regs:
        if reg.transformer not in names:
            raise DssError(f"RegControl.{reg.name}: unknown transformer {reg.transformer!r}")
    bases = tuple(numbers(opt["voltagebases"])) if "voltagebases" in opt else ()
    return Feeder(circuit, freq, tuple(sources), tuple(lines), tuple(xfs), tuple(loads),
                  tuple(caps), tuple(regs), bases, faults=tuple(faults))
