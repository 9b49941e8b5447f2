"""The electrical network as arrays: one table per element kind, units in the names.

Why arrays: the solver pipeline (admittance -> Newton -> results) works on whole
columns at once, so a 300-bus case solves without a Python loop per bus.

Conventions, binding for every module of ``cosim.grid``:

* Element references are integer positions into the bus table (``bus``,
  ``from_bus``, ``to_bus``); every table also carries ``name`` (string ids used
  by scenarios, actions and measurements).
* Powers are in MW / Mvar / MVA, voltages in pu (magnitude) and degrees (angle),
  impedances in pu on the system base ``base_mva`` and the bus ``base_kv``.
* Load convention for loads and shunts (positive = consumed), generator
  convention for generators and DER (positive = injected).
* A :class:`Network` is never mutated: actions build a new one with
  :func:`dataclasses.replace` (see :mod:`cosim.grid.actions`). Solver options
  (tolerance, iteration limit) are *not* stored here; they are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


class _Named:
    """Mixin: name -> position lookup shared by all element tables."""

    name: tuple[str, ...]

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.name)}

    def index(self, name: str) -> int:
        """Position of the element called ``name``; raises KeyError if unknown."""
        try:
            return self._positions[name]
        except KeyError:
            kind = type(self).__name__.lower()
            raise KeyError(f"no element {name!r} in {kind}") from None

    def __len__(self) -> int:
        return len(self.name)


@dataclass(frozen=True, eq=False)
class Buses(_Named):
    """Nodes. ``is_slack`` marks the designated reference bus of its island."""

    name: tuple[str, ...]
    base_kv: FloatArray
    vm_init_pu: FloatArray
    va_init_deg: FloatArray
    is_slack: BoolArray
    vmax_pu: FloatArray
    vmin_pu: FloatArray


@dataclass(frozen=True, eq=False)
class Branches(_Named):
    """Lines and transformers as one pi-model table (MATPOWER branch model).

    A transformer is a branch with ``is_transformer`` set: its off-nominal
    ``tap_ratio`` (pu, on the from side) and ``shift_deg`` phase shift apply;
    for lines ``tap_ratio`` is 1 and ``shift_deg`` 0. ``b_pu`` is the total
    line charging susceptance, split half to each end.
    """

    name: tuple[str, ...]
    from_bus: IntArray
    to_bus: IntArray
    r_pu: FloatArray
    x_pu: FloatArray
    b_pu: FloatArray
    rate_a_mva: FloatArray
    tap_ratio: FloatArray
    shift_deg: FloatArray
    in_service: BoolArray
    is_transformer: BoolArray


@dataclass(frozen=True, eq=False)
class Switches(_Named):
    """Switches and breakers, each in series with one branch.

    An open switch takes its branch out of the topology. ``bus`` is the branch
    end the switch sits at (where a relay on it measures).
    """

    name: tuple[str, ...]
    branch: IntArray
    bus: IntArray
    closed: BoolArray
    is_breaker: BoolArray


@dataclass(frozen=True, eq=False)
class Loads(_Named):
    """Loads at nominal voltage, with optional ZIP voltage dependence.

    Served power at voltage ``vm`` is ``p_mw * (zip_z*vm**2 + zip_i*vm + zip_p)``
    with ``zip_p = 1 - zip_z - zip_i`` (same fractions for Q).
    ``customers`` is the number of customers behind the load, for outage counts.
    """

    name: tuple[str, ...]
    bus: IntArray
    p_mw: FloatArray
    q_mvar: FloatArray
    zip_z: FloatArray
    zip_i: FloatArray
    customers: IntArray
    in_service: BoolArray


@dataclass(frozen=True, eq=False)
class Generators(_Named):
    """Synchronous sources: voltage-controlling (PV), slack, or fixed P/Q.

    ``voltage_control`` False makes the generator a fixed ``p_mw + j q_mvar``
    injection (MATPOWER: a generator at a bus typed PQ). ``xdss_pu`` is the
    subtransient reactance on the machine base ``mbase_mva`` (used only by
    fault studies). ``q_min_mvar``/``q_max_mvar`` are enforced by the AC power
    flow when asked (``enforce_q_limits``, see docs/grid.md).
    """

    name: tuple[str, ...]
    bus: IntArray
    p_mw: FloatArray
    q_mvar: FloatArray
    vm_setpoint_pu: FloatArray
    q_min_mvar: FloatArray
    q_max_mvar: FloatArray
    p_min_mw: FloatArray
    p_max_mw: FloatArray
    mbase_mva: FloatArray
    xdss_pu: FloatArray
    in_service: BoolArray
    voltage_control: BoolArray


@dataclass(frozen=True, eq=False)
class Shunts(_Named):
    """Switched shunts (capacitor banks, reactors, MATPOWER GS/BS).

    At 1 pu voltage one step consumes ``g_mw`` and injects ``b_mvar``
    (positive ``b_mvar`` = capacitive). ``step`` of ``max_step`` steps are in.
    """

    name: tuple[str, ...]
    bus: IntArray
    g_mw: FloatArray
    b_mvar: FloatArray
    step: IntArray
    max_step: IntArray
    in_service: BoolArray


@dataclass(frozen=True, eq=False)
class Ders(_Named):
    """Inverter-based DER (PV, wind, storage) as P/Q injections with limits.

    Injected P is ``clip(p_mw, p_min_mw, min(p_max_mw, p_limit_mw))``
    (storage charging is negative P); ``p_limit_mw`` is the curtailment cap.
    DER follow the grid: they cannot energise an island on their own.
    """

    name: tuple[str, ...]
    bus: IntArray
    kind: tuple[str, ...]
    p_mw: FloatArray
    q_mvar: FloatArray
    p_min_mw: FloatArray
    p_max_mw: FloatArray
    p_limit_mw: FloatArray
    in_service: BoolArray

    def p_injected_mw(self) -> FloatArray:
        """Active power each DER injects after limits and curtailment, MW."""
        upper = np.minimum(self.p_max_mw, self.p_limit_mw)
        return np.where(self.in_service, np.clip(self.p_mw, self.p_min_mw, upper), 0.0)

    def q_injected_mvar(self) -> FloatArray:
        """Reactive power each DER injects, Mvar (0 when out of service)."""
        return np.where(self.in_service, self.q_mvar, 0.0)


def _f(values: object, n: int, default: float = 0.0) -> FloatArray:
    if values is None:
        return np.full(n, default, dtype=np.float64)
    return np.asarray(values, dtype=np.float64).reshape(n)


def _i(values: object, n: int, default: int = 0) -> IntArray:
    if values is None:
        return np.full(n, default, dtype=np.int64)
    return np.asarray(values, dtype=np.int64).reshape(n)


def _b(values: object, n: int, default: bool = True) -> BoolArray:
    if values is None:
        return np.full(n, default, dtype=np.bool_)
    return np.asarray(values, dtype=np.bool_).reshape(n)


def empty_switches() -> Switches:
    return Switches((), _i([], 0), _i([], 0), _b([], 0), _b([], 0))


def empty_ders() -> Ders:
    return Ders((), _i([], 0), (), _f([], 0), _f([], 0), _f([], 0), _f([], 0), _f([], 0), _b([], 0))


def empty_shunts() -> Shunts:
    return Shunts((), _i([], 0), _f([], 0), _f([], 0), _i([], 0), _i([], 0), _b([], 0))


def empty_loads() -> Loads:
    return Loads((), _i([], 0), _f([], 0), _f([], 0), _f([], 0), _f([], 0), _i([], 0), _b([], 0))


@dataclass(frozen=True, eq=False)
class Network:
    """A whole electrical network: element tables plus system constants.

    ``frequency_hz`` is the nominal frequency reported by measurements (the
    quasi-static model has no frequency dynamics).
    """

    base_mva: float
    frequency_hz: float
    buses: Buses
    branches: Branches
    generators: Generators
    loads: Loads = field(default_factory=empty_loads)
    shunts: Shunts = field(default_factory=empty_shunts)
    switches: Switches = field(default_factory=empty_switches)
    ders: Ders = field(default_factory=empty_ders)

    @property
    def n_bus(self) -> int:
        return len(self.buses)

    def branch_closed(self) -> BoolArray:
        """Branches that carry current: in service and every series switch closed."""
        closed = self.branches.in_service.copy()
        opened = self.switches.branch[~self.switches.closed]
        closed[opened] = False
        return closed


def make_buses(name: list[str], base_kv: object, *, vm_init_pu: object = None,
               va_init_deg: object = None, is_slack: object = None,
               vmax_pu: object = None, vmin_pu: object = None) -> Buses:
    n = len(name)
    return Buses(tuple(name), _f(base_kv, n), _f(vm_init_pu, n, 1.0), _f(va_init_deg, n),
                 _b(is_slack, n, False), _f(vmax_pu, n, 1.1), _f(vmin_pu, n, 0.9))


def make_branches(name: list[str], from_bus: object, to_bus: object, r_pu: object,
                  x_pu: object, *, b_pu: object = None, rate_a_mva: object = None,
                  tap_ratio: object = None, shift_deg: object = None,
                  in_service: object = None, is_transformer: object = None) -> Branches:
    n = len(name)
    return Branches(tuple(name), _i(from_bus, n), _i(to_bus, n), _f(r_pu, n), _f(x_pu, n),
                    _f(b_pu, n), _f(rate_a_mva, n, np.inf), _f(tap_ratio, n, 1.0),
                    _f(shift_deg, n), _b(in_service, n), _b(is_transformer, n, False))


def make_generators(name: list[str], bus: object, p_mw: object, *, q_mvar: object = None,
                    vm_setpoint_pu: object = None, q_min_mvar: object = None,
                    q_max_mvar: object = None, p_min_mw: object = None,
                    p_max_mw: object = None, mbase_mva: object = None,
                    xdss_pu: object = None, in_service: object = None,
                    voltage_control: object = None) -> Generators:
    n = len(name)
    return Generators(tuple(name), _i(bus, n), _f(p_mw, n), _f(q_mvar, n),
                      _f(vm_setpoint_pu, n, 1.0), _f(q_min_mvar, n, -np.inf),
                      _f(q_max_mvar, n, np.inf), _f(p_min_mw, n), _f(p_max_mw, n, np.inf),
                      _f(mbase_mva, n, 100.0), _f(xdss_pu, n, 0.2), _b(in_service, n),
                      _b(voltage_control, n))


class ZeroImpedanceBranch(ValueError):
    """A branch with r = x = 0: its series admittance is infinite (use a switch or merge the buses)."""


def check_branch_impedance(branches: Branches, *, where: str = "") -> None:
    """Raise :class:`ZeroImpedanceBranch` naming every branch whose r and x are both 0.

    Why: 1/(r + jx) would be infinite and turn every voltage of the island to
    NaN. A bus tie is a switch on a branch, or the two buses are one bus.
    """
    zero = np.flatnonzero((branches.r_pu == 0.0) & (branches.x_pu == 0.0))
    if len(zero):
        names = ", ".join(branches.name[k] for k in zero[:5]) + (" ..." if len(zero) > 5 else "")
        prefix = f"{where}: " if where else ""
        raise ZeroImpedanceBranch(f"{prefix}branch(es) {names} have r = x = 0 (infinite "
                                  "admittance); model a bus tie as a switch or merge the buses")


def make_loads(name: list[str], bus: object, p_mw: object, q_mvar: object, *,
               zip_z: object = None, zip_i: object = None, customers: object = None,
               in_service: object = None) -> Loads:
    n = len(name)
    return Loads(tuple(name), _i(bus, n), _f(p_mw, n), _f(q_mvar, n), _f(zip_z, n),
                 _f(zip_i, n), _i(customers, n, 1), _b(in_service, n))


def make_shunts(name: list[str], bus: object, g_mw: object, b_mvar: object, *,
                step: object = None, max_step: object = None,
                in_service: object = None) -> Shunts:
    n = len(name)
    return Shunts(tuple(name), _i(bus, n), _f(g_mw, n), _f(b_mvar, n), _i(step, n, 1),
                  _i(max_step, n, 1), _b(in_service, n))


def make_switches(name: list[str], branch: object, bus: object, *, closed: object = None,
                  is_breaker: object = None) -> Switches:
    n = len(name)
    return Switches(tuple(name), _i(branch, n), _i(bus, n), _b(closed, n), _b(is_breaker, n, False))


def make_ders(name: list[str], bus: object, kind: list[str], p_mw: object, *,
              q_mvar: object = None, p_min_mw: object = None, p_max_mw: object = None,
              p_limit_mw: object = None, in_service: object = None) -> Ders:
    n = len(name)
    return Ders(tuple(name), _i(bus, n), tuple(kind), _f(p_mw, n), _f(q_mvar, n),
                _f(p_min_mw, n), _f(p_max_mw, n, np.inf), _f(p_limit_mw, n, np.inf),
                _b(in_service, n))
