"""Lines from a ``.dss`` file: ``LineCode`` matrices or sequences, ``WireData`` and
``LineGeometry`` (impedances from conductor spacing, :mod:`.line_constants`), switches.

Matrices are returned for the whole length, in ohm and farad; length units
are converted between a line and its code or geometry as OpenDSS does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cosim.grid.threephase.dss_script import DssError, DssObject, Prop
from cosim.grid.threephase.dss_values import UNIT_M, Props, flag, matrix, number, terminal, unit_factor
from cosim.grid.threephase.elements import Line, Node
from cosim.grid.threephase.line_constants import kron, line_matrices


def seq_to_phase(z1: complex, z0: complex, n: int) -> np.ndarray:
    """Phase matrix of a transposed element from its sequence values."""
    zs, zm = (2 * z1 + z0) / 3, (z0 - z1) / 3
    return np.full((n, n), zm, dtype=complex) + np.eye(n) * (zs - zm)


_LINE_Z = {"r1", "x1", "r0", "x0", "c1", "c0", "rmatrix", "xmatrix", "cmatrix", "units",
           "basefreq", "b1", "b0"}


def _impedances(pr: Props, n: int, where: DssObject) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R, X (ohm per unit length) and C (F per unit length) matrices from matrices or sequences."""
    if pr.get("rmatrix") is not None or pr.get("xmatrix") is not None:
        r = matrix(pr.require("rmatrix"), n)
        x = matrix(pr.require("xmatrix"), n)
        cp = pr.get("cmatrix")
        c = matrix(cp, n) * 1e-9 if cp is not None else np.zeros((n, n))
        return r, x, c
    # OpenDSS line defaults, ohm and nF per kft (only meaningful with units=kft).
    z = seq_to_phase(complex(pr.num("r1", 0.058), pr.num("x1", 0.1206)),
                      complex(pr.num("r0", 0.1784), pr.num("x0", 0.4047)), n)
    cs = seq_to_phase(pr.num("c1", 3.4), pr.num("c0", 1.6), n).real * 1e-9
    return z.real, z.imag, cs


def _units(pr: Props) -> float | None:
    p = pr.get("units")
    if p is None or p.value.lower() == "none":
        return None
    try:
        return UNIT_M[p.value.lower()]
    except KeyError:
        raise DssError(f"{p.where}: unknown length unit {p.value!r}") from None


def build_line(obj: DssObject, codes: dict[str, DssObject], geometries: dict[str, Geometry],
          freq: float) -> Line:
    pr = Props(obj, _LINE_Z | {"bus1", "bus2", "linecode", "length", "phases", "switch",
                                "enabled", "normamps", "emergamps", "faultrate", "pctperm",
                                "repair", "geometry", "rho", "earthmodel"})
    is_switch = pr.get("switch") is not None and flag(pr.require("switch"))
    code_p = pr.get("linecode")
    geo_p = pr.get("geometry")
    if geo_p is not None:
        geo = geometries.get(geo_p.value.lower())
        if geo is None:
            raise DssError(f"{geo_p.where}: undefined LineGeometry {geo_p.value!r}")
        n = geo.nphases if geo.reduce else len(geo.x_m)
        z_m, c_m = line_matrices(geo.x_m, geo.h_m, geo.gmr_m, geo.radius_m, geo.rdc_ohm_per_m,
                                 n, freq, pr.num("rho", 100.0))
        line_unit = _units(pr)
        length_m = pr.num("length", 1.0) * (line_unit if line_unit is not None else geo.unit_m)
        return Line(obj.name, terminal(pr.require("bus1"), n), terminal(pr.require("bus2"), n),
                    z_m * length_m, c_m * length_m,
                    closed=pr.get("enabled") is None or flag(pr.require("enabled")))
    if code_p is not None:
        code = codes.get(code_p.value.lower())
        if code is None:
            raise DssError(f"{code_p.where}: undefined linecode {code_p.value!r}")
        cpr = Props(code, _LINE_Z | {"nphases", "normamps", "emergamps", "faultrate",
                                      "pctperm", "repair", "kron", "rg", "xg", "rho",
                                      "neutral"})
        n = int(cpr.num("nphases", 3))
        r, x, c = _impedances(cpr, n, code)
        kron_p = cpr.get("kron")
        if kron_p is not None and flag(kron_p):
            if cpr.order(("kron", "rmatrix", "xmatrix", "cmatrix")) != "kron":
                # OpenDSS reduces the matrices present when it reads Kron=yes.
                raise DssError(f"{kron_p.where}: LineCode.{code.name}: Kron=yes must "
                               "follow the matrices it reduces")
            # Kron=yes: the last conductor is a neutral grounded all along; eliminate it.
            # (Its charge needs no reduction: at zero voltage it only drops out of C.)
            z = kron(r + 1j * x, n - 1)
            r, x, c, n = z.real, z.imag, c[:n - 1, :n - 1], n - 1
        if pr.get("phases") is not None and int(pr.num("phases", n)) != n:
            raise DssError(f"{pr.require('phases').where}: Line.{obj.name}: phases="
                           f"{int(pr.num('phases', n))} but linecode {code.name!r} has {n}")
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
        z = seq_to_phase(complex(pr.num("r1", 1.0), pr.num("x1", 1.0)) if seq_given else 1 + 1j,
                          complex(pr.num("r0", 1.0), pr.num("x0", 1.0)) if seq_given else 1 + 1j, n)
        cc = seq_to_phase(pr.num("c1", 1.1), pr.num("c0", 1.0), n).real * 1e-9
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


@dataclass(frozen=True, eq=False)
class Geometry:
    """A LineGeometry resolved to SI: conductor positions and wire data, phases first.

    ``reduce`` False (OpenDSS's default) keeps every conductor, neutrals as
    their own nodes (``bus.1.2.3.4``); True eliminates the neutrals (Kron).
    """

    nphases: int
    reduce: bool
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


def build_wire(obj: DssObject) -> Wire:
    pr = Props(obj, {"diam", "radius", "gmrac", "gmrunits", "rdc", "rac", "runits", "radunits",
                      "normamps", "emergamps", "capradius"})
    rad_u, gmr_u = unit_factor(pr.get("radunits")), unit_factor(pr.get("gmrunits"))
    r_u = unit_factor(pr.get("runits"))
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


def build_geometry(obj: DssObject, wires: dict[str, Wire]) -> Geometry:
    nconds, nphases, k, reduce = 3, 3, 0, False
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
            reduce = flag(p)
        elif p.key not in ("normamps", "emergamps"):
            raise DssError(f"{p.where}: LineGeometry.{obj.name}: unsupported property {p.key!r}")
    rows = []
    unit = 1.0
    for c in range(1, nconds + 1):
        d = conds.get(c)
        if d is None or not {"wire", "x", "h"} <= set(d):
            raise DssError(f"{obj.where}: LineGeometry.{obj.name}: conductor {c} needs "
                           "wire=, x= and h=")
        unit = unit_factor(d.get("units"), unit)
        wire = wires.get(d["wire"].value.lower())
        if wire is None:
            raise DssError(f"{d['wire'].where}: undefined WireData {d['wire'].value!r}")
        rows.append((number(d["x"]) * unit, number(d["h"]) * unit, wire.gmr_m, wire.radius_m,
                     wire.rdc_ohm_per_m))
    a = np.array(rows)
    return Geometry(nphases, reduce, a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4], unit)


def build_reactor(obj: DssObject) -> Line:
    """A ``Reactor`` given by ``R`` and ``X`` (ohm) per phase: in series between ``bus1`` and
    ``bus2``, or from ``bus1`` to ground without ``bus2`` (a neutral grounding resistor)."""
    pr = Props(obj, {"bus1", "bus2", "phases", "r", "x", "enabled", "normamps", "emergamps"})
    phases = int(pr.num("phases", 3))
    if pr.get("r") is None and pr.get("x") is None:
        raise DssError(f"{obj.where}: Reactor.{obj.name}: give R= and/or X= in ohms "
                       "(kvar ratings are not supported)")
    z = complex(pr.num("r", 0.0), pr.num("x", 0.0))
    if z == 0:
        raise DssError(f"{obj.where}: Reactor.{obj.name}: R and X are both zero")
    bus1 = terminal(pr.require("bus1"), phases)
    b2 = pr.get("bus2")
    bus2 = terminal(b2, phases) if b2 is not None else tuple(Node(bus1[0].bus, 0) for _ in bus1)
    return Line(obj.name, bus1, bus2, np.eye(phases, dtype=np.complex128) * z,
                np.zeros((phases, phases)),
                closed=pr.get("enabled") is None or flag(pr.require("enabled")))
