"""Turn a parsed OpenDSS script into a :class:`Feeder`: the meaning half of the ``.dss`` reader.

The subset is what the IEEE test feeders use: ``Circuit``/``Vsource``,
``LineCode`` (matrices or sequence values, with length units), ``WireData``
and ``LineGeometry`` (overhead, neutrals reduced), ``Line`` (including
``Switch=yes``), ``Load`` (models 1, 2, 5; wye and delta),
``Transformer`` (two windings, per-winding or array syntax), ``RegControl``
and ``Capacitor``. A property this reader does not know is an error naming
the file and line, never silently ignored, because an ignored impedance
would give a plausible but wrong power flow. Values follow OpenDSS's
documented defaults and unit conventions (its manual, "OpenDSS Manual", EPRI,
sections on each class); each default is stated where it is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from cosim.grid.threephase.dss_script import DssError, DssObject, DssScript, Prop, read_script
from cosim.grid.threephase.line_constants import line_matrices
from cosim.grid.threephase.elements import (
    Capacitor,
    Connection,
    Feeder,
    Line,
    Load,
    LoadModel,
    Node,
    RegulatorControl,
    Source,
    Terminal,
    Transformer,
    Winding,
)

# Length units in metres (OpenDSS "units" property).
UNIT_M = {"mi": 1609.344, "kft": 304.8, "km": 1000.0, "m": 1.0, "ft": 0.3048,
          "in": 0.0254, "cm": 0.01, "mm": 0.001}


def read_dss(path: str | Path) -> Feeder:
    """Read an OpenDSS feeder file (and its redirects) into a :class:`Feeder`.

    Raises :class:`DssError` (a ``ValueError``) naming file and line for input
    outside the supported subset or with bad values.
    """
    return build_feeder(read_script(path))


# --- value parsing ---------------------------------------------------------------------------

_RPN: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "^": lambda a, b: a ** b,
}


def number(p: Prop) -> float:
    """A number, or an in-line RPN expression such as ``(8 1000 /)``."""
    parts = p.value.replace(",", " ").split()
    try:
        if len(parts) == 1:
            return float(parts[0])
        stack: list[float] = []
        for t in parts:
            if t in _RPN:
                b, a = stack.pop(), stack.pop()
                stack.append(_RPN[t](a, b))
            elif t.lower() == "sqrt":
                stack.append(math.sqrt(stack.pop()))
            else:
                stack.append(float(t))
        if len(stack) != 1:
            raise ValueError
        return stack[0]
    except (ValueError, IndexError, ZeroDivisionError):
        raise DssError(f"{p.where}: {p.key}={p.value!r} is not a number") from None


def numbers(p: Prop) -> list[float]:
    try:
        return [float(t) for t in p.value.replace(",", " ").replace("|", " ").split()]
    except ValueError:
        raise DssError(f"{p.where}: {p.key}={p.value!r} is not a list of numbers") from None


def words(p: Prop) -> list[str]:
    return p.value.replace(",", " ").split()


def flag(p: Prop) -> bool:
    v = p.value.strip().lower()
    if v in ("y", "yes", "t", "true"):
        return True
    if v in ("n", "no", "f", "false"):
        return False
    raise DssError(f"{p.where}: {p.key}={p.value!r} is not yes/no")


def matrix(p: Prop, n: int) -> np.ndarray:
    """An n x n symmetric matrix given as its lower triangle or in full, rows split by ``|``."""
    rows = [r.split() for r in p.value.replace(",", " ").split("|")]
    try:
        vals = [[float(x) for x in r] for r in rows if r]
    except ValueError:
        raise DssError(f"{p.where}: {p.key}={p.value!r} is not a matrix") from None
    m = np.zeros((n, n))
    if len(vals) != n:
        raise DssError(f"{p.where}: {p.key} has {len(vals)} rows, expected {n}")
    for i, r in enumerate(vals):
        if len(r) == i + 1:  # lower triangle
            m[i, : i + 1] = r
            m[: i + 1, i] = r
        elif len(r) == n:
            m[i, :] = r
        else:
            raise DssError(f"{p.where}: {p.key} row {i + 1} has {len(r)} values")
    return m


def connection(p: Prop) -> Connection:
    v = p.value.strip().lower()
    if v in ("wye", "y", "ln"):
        return Connection.WYE
    if v in ("delta", "d", "ll"):
        return Connection.DELTA
    raise DssError(f"{p.where}: {p.key}={p.value!r} is not wye or delta")


def conductors(phases: int, conn: Connection) -> int:
    """Conductors of a shunt element's or winding's terminal, as OpenDSS counts them.

    Wye: the phases and the star point. Delta: the phases, but two for a
    single-phase delta element (it sits between two phases).
    """
    if conn is Connection.WYE:
        return phases + 1
    return 2 if phases == 1 else phases


def terminal(p: Prop, n_conductors: int, phases: int | None = None) -> Terminal:
    """Nodes of a bus spec ``bus.1.2.3``; unnamed phase conductors default to 1, 2, 3 and
    the rest (a star point) to ground 0."""
    bus, *conds = p.value.strip().lower().split(".")
    if not bus:
        raise DssError(f"{p.where}: {p.key}={p.value!r} has no bus name")
    try:
        nodes = [int(c) for c in conds]
    except ValueError:
        raise DssError(f"{p.where}: {p.key}={p.value!r}: conductors must be integers") from None
    ph = n_conductors if phases is None else phases
    defaults = list(range(1, ph + 1)) + [0] * (n_conductors - ph)
    nodes = (nodes + defaults[len(nodes):])[:n_conductors]
    return tuple(Node(bus, c) for c in nodes)


# --- element builders ------------------------------------------------------------------------

class _Props:
    """Last value of each property of one object, with a check that every one is known."""

    def __init__(self, obj: DssObject, known: set[str]):
        self.obj = obj
        self.last: dict[str, Prop] = {}
        for p in obj.props:
            if p.key not in known:
                raise DssError(f"{p.where}: {obj.cls}.{obj.name}: unsupported property {p.key!r}")
            self.last[p.key] = p

    def get(self, key: str) -> Prop | None:
        return self.last.get(key)

    def num(self, key: str, default: float) -> float:
        p = self.last.get(key)
        return default if p is None else number(p)

    def require(self, key: str) -> Prop:
        p = self.last.get(key)
        if p is None:
            raise DssError(f"{self.obj.where}: {self.obj.cls}.{self.obj.name} needs {key}=")
        return p

    def order(self, keys: tuple[str, ...]) -> str | None:
        """Which of ``keys`` was given last (OpenDSS: the last one specified wins)."""
        last = None
        for p in self.obj.props:
            if p.key in keys:
                last = p.key
        return last


def _seq_to_phase(z1: complex, z0: complex, n: int) -> np.ndarray:
    """Phase matrix of a transposed element from its sequence values."""
    zs, zm = (2 * z1 + z0) / 3, (z0 - z1) / 3
    return np.full((n, n), zm, dtype=complex) + np.eye(n) * (zs - zm)


def _source(obj: DssObject, freq: float) -> Source:
    # OpenDSS Vsource defaults: basekv 115, pu 1, angle 0, 3 phases, MVAsc3 2000,
    # MVAsc1 2100, X1/R1 = 4, X0/R0 = 3.
    pr = _Props(obj, {"basekv", "pu", "phases", "bus1", "angle", "mvasc3", "mvasc1", "x1r1",
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
    return Source(obj.name, term, emf, _seq_to_phase(z1, z0, phases), kv)


_LINE_Z = {"r1", "x1", "r0", "x0", "c1", "c0", "rmatrix", "xmatrix", "cmatrix", "units",
           "basefreq", "b1", "b0"}


def _impedances(pr: _Props, n: int, where: DssObject) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R, X (ohm per unit length) and C (F per unit length) matrices from matrices or sequences."""
    if pr.get("rmatrix") is not None or pr.get("xmatrix") is not None:
        r = matrix(pr.require("rmatrix"), n)
        x = matrix(pr.require("xmatrix"), n)
        cp = pr.get("cmatrix")
        c = matrix(cp, n) * 1e-9 if cp is not None else np.zeros((n, n))
        return r, x, c
    # OpenDSS line defaults, ohm and nF per kft (only meaningful with units=kft).
    z = _seq_to_phase(complex(pr.num("r1", 0.058), pr.num("x1", 0.1206)),
                      complex(pr.num("r0", 0.1784), pr.num("x0", 0.4047)), n)
    cs = _seq_to_phase(pr.num("c1", 3.4), pr.num("c0", 1.6), n).real * 1e-9
    return z.real, z.imag, cs


def _units(pr: _Props) -> float | None:
    p = pr.get("units")
    if p is None or p.value.lower() == "none":
        return None
    try:
        return UNIT_M[p.value.lower()]
    except KeyError:
        raise DssError(f"{p.where}: unknown length unit {p.value!r}") from None


def _line(obj: DssObject, codes: dict[str, DssObject], geometries: dict[str, Geometry],
          freq: float) -> Line:
    pr = _Props(obj, _LINE_Z | {"bus1", "bus2", "linecode", "length", "phases", "switch",
                                "enabled", "normamps", "emergamps", "faultrate", "pctperm",
                                "repair", "geometry", "rho", "earthmodel"})
    is_switch = pr.get("switch") is not None and flag(pr.require("switch"))
    code_p = pr.get("linecode")
    geo_p = pr.get("geometry")
    if geo_p is not None:
        geo = geometries.get(geo_p.value.lower())
        if geo is None:
            raise DssError(f"{geo_p.where}: undefined LineGeometry {geo_p.value!r}")
        z_m, c_m = line_matrices(geo.x_m, geo.h_m, geo.gmr_m, geo.radius_m, geo.rdc_ohm_per_m,
                                 geo.nphases, freq, pr.num("rho", 100.0))
        line_unit = _units(pr)
        length_m = pr.num("length", 1.0) * (line_unit if line_unit is not None else geo.unit_m)
        n = geo.nphases
        return Line(obj.name, terminal(pr.require("bus1"), n), terminal(pr.require("bus2"), n),
                    z_m * length_m, c_m * length_m,
                    closed=pr.get("enabled") is None or flag(pr.require("enabled")))
    if code_p is not None:
        code = codes.get(code_p.value.lower())
        if code is None:
            raise DssError(f"{code_p.where}: undefined linecode {code_p.value!r}")
        cpr = _Props(code, _LINE_Z | {"nphases", "normamps", "emergamps", "faultrate",
                                      "pctperm", "repair", "kron", "rg", "xg", "rho",
                                      "neutral"})
        n = int(pr.num("phases", cpr.num("nphases", 3)))
        r, x, c = _impedances(cpr, n, code)
        code_unit = _units(cpr)
        base_f = cpr.num("basefreq", freq)
    else:
        n = int(pr.num("phases", 3))
        r, x, c = _impedances(pr, n, obj)
        code_unit = None
        base_f = pr.num("basefreq", freq)
    if is_switch:
        # OpenDSS Switch=yes: r1=x1=r0=x0=1 ohm, c1=1.1 nF, c0=1 nF, length 0.001,
        # unless the line's own values follow (the IEEE files give r1/x1/c1...).
        seq_given = any(pr.get(k) is not None for k in ("r1", "x1", "r0", "x0", "c1", "c0"))
        z = _seq_to_phase(complex(pr.num("r1", 1.0), pr.num("x1", 1.0)) if seq_given else 1 + 1j,
                          complex(pr.num("r0", 1.0), pr.num("x0", 1.0)) if seq_given else 1 + 1j, n)
        cc = _seq_to_phase(pr.num("c1", 1.1), pr.num("c0", 1.0), n).real * 1e-9
        r, x, c = z.real, z.imag, cc
        # Switch=yes sets the length to 0.001; a Length given after it overrides.
        length = pr.num("length", 0.001) if pr.order(("switch", "length")) == "length" else 0.001
    else:
        length = pr.num("length", 1.0)
        line_unit = _units(pr)
        if line_unit is not None and code_unit is not None:
            length *= line_unit / code_unit
    x = x * freq / base_f
    z_ohm = (r + 1j * x) * length
    c_f = c * length
    return Line(obj.name, terminal(pr.require("bus1"), n),
                terminal(pr.require("bus2"), n), z_ohm, c_f, is_switch=is_switch,
                closed=pr.get("enabled") is None or flag(pr.require("enabled")))


def _load(obj: DssObject) -> Load:
    pr = _Props(obj, {"bus1", "phases", "conn", "model", "kv", "kw", "kvar", "pf", "kva",
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
    pr = _Props(obj, {"bus1", "phases", "kvar", "kv", "conn", "enabled", "numsteps", "states"})
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


def _transformer(obj: DssObject) -> Transformer:
    known = _XF_WINDING | set(_XF_ARRAY) | {
        "phases", "windings", "xhl", "xht", "xlt", "x12", "x13", "x23", "%loadloss",
        "%noloadloss", "%imag", "bank", "xfmrcode", "leadlag", "ppm_antifloat", "sub",
        "enabled", "normhkva", "emerghkva", "thermal", "n", "m", "flrise", "hsrise",
        "subname", "maxtap", "mintap", "numtaps", "xrconst"}
    phases, nw = 3, 2
    per_w: list[dict[str, Prop]] = [{}, {}, {}]
    w = 0
    x_pct, imag, nll, lag, ppm = 7.0, 0.0, 0.0, True, 1.0
    for p in obj.props:
        k = _XF_ALIAS.get(p.key, p.key)
        if k not in known:
            raise DssError(f"{p.where}: Transformer.{obj.name}: unsupported property {p.key!r}")
        if k == "phases":
            phases = int(number(p))
        elif k == "windings":
            nw = int(number(p))
            if nw != 2:
                raise DssError(f"{p.where}: Transformer.{obj.name}: only two windings "
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
        elif k == "xfmrcode":
            raise DssError(f"{p.where}: XfmrCode is not supported; give the ratings inline")
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
    return Transformer(obj.name, phases, tuple(windings), x_pct, imag, nll, lag, ppm)


def _regcontrol(obj: DssObject) -> RegulatorControl:
    pr = _Props(obj, {"transformer", "winding", "vreg", "band", "ptratio", "ctprim", "r", "x",
                      "delay", "tapdelay", "maxtapchange", "enabled", "bus", "ptphase",
                      "reversible", "tapnum", "vlimit", "inversetime", "revvreg", "revband",
                      "revr", "revx"})
    # OpenDSS RegControl defaults: winding 1, vreg 120, band 3, ptratio 60, ctprim 300, delay 15 s.
    return RegulatorControl(obj.name, pr.require("transformer").value.lower(),
                            int(pr.num("winding", 1)), pr.num("vreg", 120.0),
                            pr.num("band", 3.0), pr.num("ptratio", 60.0),
                            pr.num("ctprim", 300.0), pr.num("r", 0.0), pr.num("x", 0.0),
                            delay_s=pr.num("delay", 15.0))


@dataclass(frozen=True, eq=False)
class Geometry:
    """A LineGeometry resolved to SI: conductor positions and wire data, phases first."""

    nphases: int
    x_m: np.ndarray
    h_m: np.ndarray
    gmr_m: np.ndarray
    radius_m: np.ndarray
    rdc_ohm_per_m: np.ndarray
    unit_m: float  # length unit of the geometry (a line without units= uses it)


@dataclass(frozen=True)
class Wire:
    gmr_m: float
    radius_m: float
    rdc_ohm_per_m: float


def _unit(p: Prop | None, default: float = 1.0) -> float:
    if p is None or p.value.lower() == "none":
        return default
    try:
        return UNIT_M[p.value.lower()]
    except KeyError:
        raise DssError(f"{p.where}: unknown length unit {p.value!r}") from None


def _wire(obj: DssObject) -> Wire:
    pr = _Props(obj, {"diam", "radius", "gmrac", "gmrunits", "rdc", "rac", "runits", "radunits",
                      "normamps", "emergamps", "capradius"})
    rad_u, gmr_u = _unit(pr.get("radunits")), _unit(pr.get("gmrunits"))
    r_u = _unit(pr.get("runits"))
    if pr.get("radius") is not None:
        radius = pr.num("radius", 0.0) * rad_u
    elif pr.get("diam") is not None:
        radius = pr.num("diam", 0.0) / 2 * rad_u
    else:
        raise DssError(f"{obj.where}: WireData.{obj.name} needs diam= or radius=")
    # OpenDSS: GMR defaults to 0.7788 r (a solid round conductor); Rdc to Rac / 1.02.
    gmr = pr.num("gmrac", 0.0) * gmr_u if pr.get("gmrac") is not None else 0.7788 * radius
    if pr.get("rdc") is not None:
        rdc = pr.num("rdc", 0.0)
    elif pr.get("rac") is not None:
        rdc = pr.num("rac", 0.0) / 1.02
    else:
        raise DssError(f"{obj.where}: WireData.{obj.name} needs Rdc= or Rac=")
    if radius <= 0 or gmr <= 0 or rdc <= 0:
        raise DssError(f"{obj.where}: WireData.{obj.name}: radius, GMR and R must be > 0")
    return Wire(gmr, radius, rdc / r_u)


def _geometry(obj: DssObject, wires: dict[str, Wire]) -> Geometry:
    nconds, nphases, k = 3, 3, 0
    conds: dict[int, dict[str, Prop]] = {}
    for p in obj.props:
        if p.key == "nconds":
            nconds = int(number(p))
        elif p.key == "nphases":
            nphases = int(number(p))
        elif p.key == "cond":
            k = int(number(p))
        elif p.key in ("wire", "x", "h", "units"):
            conds.setdefault(k, {})[p.key] = p
        elif p.key == "reduce":
            if not flag(p):
                raise DssError(f"{p.where}: LineGeometry.{obj.name}: only reduce=yes "
                               "(neutrals eliminated) is supported")
        elif p.key not in ("normamps", "emergamps"):
            raise DssError(f"{p.where}: LineGeometry.{obj.name}: unsupported property {p.key!r}")
    rows = []
    unit = 1.0
    for c in range(1, nconds + 1):
        d = conds.get(c)
        if d is None or not {"wire", "x", "h"} <= set(d):
            raise DssError(f"{obj.where}: LineGeometry.{obj.name}: conductor {c} needs "
                           "wire=, x= and h=")
        unit = _unit(d.get("units"), unit)
        wire = wires.get(d["wire"].value.lower())
        if wire is None:
            raise DssError(f"{d['wire'].where}: undefined WireData {d['wire'].value!r}")
        rows.append((number(d["x"]) * unit, number(d["h"]) * unit, wire.gmr_m, wire.radius_m,
                     wire.rdc_ohm_per_m))
    a = np.array(rows)
    return Geometry(nphases, a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4], unit)


def build_feeder(script: DssScript) -> Feeder:
    """A :class:`Feeder` from a parsed script; raises :class:`DssError`."""
    opt = script.options
    freq = number(opt["defaultbasefrequency"]) if "defaultbasefrequency" in opt else 60.0
    codes = {name: o for (cls, name), o in script.objects.items() if cls == "linecode"}
    wires = {name: _wire(o) for (cls, name), o in script.objects.items() if cls == "wiredata"}
    geometries = {name: _geometry(o, wires) for (cls, name), o in script.objects.items()
                  if cls == "linegeometry"}
    model = opt.get("earthmodel")
    if model is not None and model.value.lower() != "deri":
        raise DssError(f"{model.where}: only the Deri earth model (OpenDSS's default) is supported")
    sources, lines, xfs, loads, caps, regs = [], [], [], [], [], []
    circuit = ""
    for (cls, name), obj in script.objects.items():
        if cls in ("circuit", "vsource"):
            circuit = name if cls == "circuit" else circuit
            sources.append(_source(obj, freq))
        elif cls in ("linecode", "wiredata", "linegeometry"):
            continue
        elif cls == "line":
            lines.append(_line(obj, codes, geometries, freq))
        elif cls == "load":
            loads.append(_load(obj))
        elif cls == "capacitor":
            caps.append(_capacitor(obj))
        elif cls == "transformer":
            xfs.append(_transformer(obj))
        elif cls == "regcontrol":
            regs.append(_regcontrol(obj))
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
                  tuple(caps), tuple(regs), bases)
