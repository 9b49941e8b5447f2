"""A three-phase feeder as typed element records, in physical units (V, A, ohm, S, W).

Why records and not arrays (unlike :mod:`cosim.grid.network`): a distribution
feeder mixes one-, two- and three-phase elements whose terminal conductors
differ in number, so each element keeps its own small matrices; the solver
stacks them into one sparse nodal admittance matrix once per topology.

Conventions, binding for :mod:`cosim.grid.threephase`:

* A *terminal* is a tuple of :class:`Node` (bus name, conductor number).
  Conductor 0 is the ground reference: it is not an unknown of the power flow.
  Conductors 1, 2, 3 are phases a, b, c; 4 and up are neutrals or extra wires.
* Names are lower case, as OpenDSS treats them (``Line.650632`` is ``650632``).
* Loads consume (positive kW/kvar = drawn from the feeder); capacitors are
  given by their rated kvar at rated kV.
* A :class:`Feeder` is never mutated: actions build a new one
  (:mod:`cosim.grid.threephase.actions`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import NDArray

ComplexMatrix = NDArray[np.complex128]
FloatMatrix = NDArray[np.float64]


@dataclass(frozen=True, order=True)
class Node:
    """One conductor of one bus; ``conductor`` 0 is ground."""

    bus: str
    conductor: int

    def __str__(self) -> str:
        return f"{self.bus}.{self.conductor}"


Terminal = tuple[Node, ...]
# The element tables of a Feeder that are looked up by name.
Kind = Literal["lines", "transformers", "loads", "capacitors", "regulators"]
KINDS: tuple[Kind, ...] = ("lines", "transformers", "loads", "capacitors", "regulators")


class Connection(enum.Enum):
    """How a load, capacitor or transformer winding is connected."""

    WYE = "wye"
    DELTA = "delta"


class LoadModel(enum.Enum):
    """The voltage dependence of a load, numbered as OpenDSS ``Load.model`` numbers it."""

    CONSTANT_PQ = 1
    CONSTANT_Z = 2
    CONSTANT_I = 5  # constant current magnitude, power factor kept


@dataclass(frozen=True, eq=False)
class Source:
    """A Thevenin source: EMF ``emf_v`` (per phase, line to ground) behind ``z_ohm``."""

    name: str
    terminal: Terminal
    emf_v: NDArray[np.complex128]
    z_ohm: ComplexMatrix
    base_kv: float


@dataclass(frozen=True, eq=False)
class Line:
    """A series impedance ``z_ohm`` with shunt capacitance ``c_f`` split half to each end.

    Matrices are for the whole length (not per unit length), one row per
    conductor of ``bus1``/``bus2``. A switch is a line with ``is_switch``;
    ``closed`` False removes it from the admittance matrix.
    """

    name: str
    bus1: Terminal
    bus2: Terminal
    z_ohm: ComplexMatrix
    c_f: FloatMatrix
    is_switch: bool = False
    closed: bool = True


@dataclass(frozen=True, eq=False)
class Winding:
    """One winding: its terminal (phase conductors, then neutral for wye), ratings and tap."""

    terminal: Terminal
    connection: Connection
    kv: float  # rated line-to-line kV for a three-phase winding, winding kV for one phase
    kva: float
    r_percent: float
    tap: float = 1.0


@dataclass(frozen=True, eq=False)
class Transformer:
    """A two- or three-winding transformer (single-phase unit or three-phase bank).

    Short-circuit reactances in percent on the first winding's kVA base:
    ``x_percent`` between windings 1 and 2 (OpenDSS ``XHL``), ``x13_percent``
    (``XHT``) and ``x23_percent`` (``XLT``) for a third winding (a
    centre-tapped service transformer). ``lag`` says that the low-voltage side
    lags the high-voltage side by 30 degrees in a wye-delta bank (ANSI
    C57.12.00, Dyn1 / YNd1); False gives the IEC lead connection (Dyn11 / YNd11).
    """

    name: str
    phases: int
    windings: tuple[Winding, ...]
    x_percent: float
    imag_percent: float = 0.0
    noload_loss_percent: float = 0.0
    lag: bool = True
    antifloat_ppm: float = 1.0
    x13_percent: float = 35.0
    x23_percent: float = 30.0


@dataclass(frozen=True, eq=False)
class Load:
    """A load drawing ``kw``/``kvar`` at ``kv`` (split equally over its phases).

    ``kv`` is line to line for a three-phase or delta load and the actual
    voltage across it for a single-phase load, as OpenDSS reads it. Outside
    ``[vmin_pu, vmax_pu]`` a constant-power or constant-current load changes
    law (:mod:`cosim.grid.threephase.loads`), so a collapsing voltage does
    not make the power flow diverge.
    """

    name: str
    terminal: Terminal
    phases: int
    connection: Connection
    model: LoadModel
    kv: float
    kw: float
    kvar: float
    vmin_pu: float = 0.95
    vmax_pu: float = 1.05
    in_service: bool = True
    vlow_pu: float = 0.50

    def with_power(self, kw: float, kvar: float) -> Load:
        """This load drawing ``kw``/``kvar`` instead: ``dataclasses.replace`` without its cost.

        A year of hourly steps rescales every load of a feeder 8,760 times;
        ``replace`` re-runs the generated ``__init__`` through field
        introspection (3 us a load), a copy of the instance dictionary is
        0.5 us. Safe because ``Load`` has no ``__post_init__`` to re-run.
        """
        new = object.__new__(Load)
        d = new.__dict__
        d.update(self.__dict__)
        d["kw"] = kw
        d["kvar"] = kvar
        return new


@dataclass(frozen=True, eq=False)
class Capacitor:
    """A shunt capacitor bank rated ``kvar`` at ``kv`` (same kV convention as a load)."""

    name: str
    terminal: Terminal
    phases: int
    connection: Connection
    kv: float
    kvar: float
    in_service: bool = True


@dataclass(frozen=True, eq=False)
class RegulatorControl:
    """A regulator's control settings (a ``RegControl``), on ``winding`` of ``transformer``.

    ``vreg`` and ``band`` are in volts on the PT secondary (``ptratio``);
    ``r``/``x`` are the line-drop compensator settings in volts at ``ctprim``
    amperes of primary current. The power flow itself runs at fixed taps.
    """

    name: str
    transformer: str
    winding: int
    vreg: float
    band: float
    ptratio: float
    ctprim: float
    r: float
    x: float
    tap_step: float = 0.00625  # 5/8 % per step: 32 steps over +-10 %
    max_tap: float = 1.10
    min_tap: float = 0.90
    delay_s: float = 15.0


@dataclass(frozen=True, eq=False)
class Fault:
    """A fault: one resistance ``r_ohm`` from each node of ``bus1`` to the same-position
    node of ``bus2`` (ground nodes for a fault to earth), as OpenDSS's ``Fault``."""

    name: str
    bus1: Terminal
    bus2: Terminal
    r_ohm: float


@dataclass(frozen=True, eq=False)
class Feeder:
    """A whole feeder: elements plus the voltage bases (line-to-line kV) buses are reported on."""

    name: str
    frequency_hz: float
    sources: tuple[Source, ...]
    lines: tuple[Line, ...] = ()
    transformers: tuple[Transformer, ...] = ()
    loads: tuple[Load, ...] = ()
    capacitors: tuple[Capacitor, ...] = ()
    regulators: tuple[RegulatorControl, ...] = ()
    voltage_bases_kv: tuple[float, ...] = ()
    faults: tuple[Fault, ...] = ()

    @cached_property
    def _by_name(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for kind in KINDS:
            for i, e in enumerate(getattr(self, kind)):
                out[(kind, e.name)] = i
        return out

    def index(self, kind: Kind, name: str) -> int:
        """Position of element ``name`` in table ``kind``; raises KeyError if unknown."""
        try:
            return self._by_name[(kind, name.lower())]
        except KeyError:
            raise KeyError(f"no {kind[:-1]} {name!r} in feeder {self.name!r}") from None
