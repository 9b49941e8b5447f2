"""Power-flow results: from a solved voltage vector to flows in physical units.

Last stage of the solver pipeline (admittance -> Newton -> results). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cosim.grid.admittance import Admittance, shunt_admittance_pu
from cosim.grid.network import BoolArray, FloatArray, IntArray, Network
from cosim.grid.topology import Topology

SQRT3 = np.sqrt(3.0)


@dataclass(frozen=True)
class IslandReport:
    """How the solve of one energised island went.

    ``max_mismatch_pu`` is the largest P or Q mismatch (pu on base_mva) left,
    at bus ``worst_bus`` (a bus name, '' when the island has no unknowns).
    """

    island: int
    n_bus: int
    slack_bus: str
    converged: bool
    iterations: int
    max_mismatch_pu: float
    worst_bus: str
    reason: str = ""


@dataclass(frozen=True)
class QLimitSwitch:
    """A generator held at a reactive limit by ``enforce_q_limits`` (its bus became PQ).

    ``limit`` is "max" or "min" for the generator that violated it, "bus" for
    a generator within its limits frozen at its output because its bus
    switched (MATPOWER semantics); ``q_mvar`` is the value it is held at and
    ``round`` the re-solve (1, 2, ...) after which it switched.
    """

    generator: str
    bus: str
    limit: str
    q_mvar: float
    round: int


@dataclass(frozen=True)
class PowerFlowResult:
    """Solved state of the network (AC or DC), per element, in physical units.

    Buses that are de-energised have ``vm_pu = 0``; buses of an island whose
    solve did not converge have NaN voltages and flows (the island is listed in
    ``islands`` with ``converged=False``). ``converged`` is True only when every
    energised island converged. Powers: MW/Mvar; currents: kA and pu of the
    base current at that end (``base_mva / (sqrt(3) * base_kv)``).
    """

    converged: bool
    iterations: int
    islands: tuple[IslandReport, ...]
    island: IntArray
    energised: BoolArray
    v_pu: np.ndarray  # complex bus voltages
    vm_pu: FloatArray
    va_deg: FloatArray
    bus_p_mw: FloatArray  # net injection of all elements at the bus (= into branches)
    bus_q_mvar: FloatArray
    p_from_mw: FloatArray
    q_from_mvar: FloatArray
    p_to_mw: FloatArray
    q_to_mvar: FloatArray
    i_from_pu: FloatArray
    i_to_pu: FloatArray
    i_from_ka: FloatArray
    i_to_ka: FloatArray
    gen_p_mw: FloatArray
    gen_q_mvar: FloatArray
    load_p_mw: FloatArray  # served
    load_q_mvar: FloatArray
    load_served: BoolArray
    shunt_p_mw: FloatArray  # consumed
    shunt_q_mvar: FloatArray
    der_p_mw: FloatArray
    der_q_mvar: FloatArray
    losses_mw: float
    losses_mvar: float
    q_limited: tuple[QLimitSwitch, ...] = ()
    factorisations: int = 0  # Jacobians factorised (AC); fewer than iterations when reused

    @property
    def switched_buses(self) -> tuple[str, ...]:
        """Buses turned from voltage-controlled (PV) to PQ by reactive limits, in switching order."""
        seen: dict[str, None] = {}
        for s in self.q_limited:
            seen.setdefault(s.bus, None)
        return tuple(seen)

    @property
    def max_mismatch_pu(self) -> float:
        return max((r.max_mismatch_pu for r in self.islands), default=0.0)


def zip_factor(network: Network, vm: FloatArray) -> FloatArray:
    """Served / nominal load ratio per load at the given bus voltages."""
    ld = network.loads
    v = vm[ld.bus]
    return ld.zip_z * v * v + ld.zip_i * v + (1.0 - ld.zip_z - ld.zip_i)


def ka_per_pu(network: Network, bus: IntArray) -> FloatArray:
    """kA per pu of current at the given buses (NaN where base_kv is not set)."""
    kv = network.buses.base_kv[bus]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(kv > 0, network.base_mva / (SQRT3 * kv), np.nan)


def compute_results(network: Network, topology: Topology, adm: Admittance, v: np.ndarray,
                    islands: tuple[IslandReport, ...], iterations: int,
                    failed: BoolArray | None = None,
                    active_only: bool = False, gen_q_fixed_mvar: FloatArray | None = None,
                    gen_p_mw: FloatArray | None = None,
                    q_limited: tuple[QLimitSwitch, ...] = ()) -> PowerFlowResult:
    """Flows, generator outputs and served loads from complex bus voltages ``v`` (pu).

    ``failed`` marks buses of islands that did not converge: their values are
    reported as NaN. ``active_only`` is for DC results: reactive quantities
    are reported as 0. ``gen_q_fixed_mvar`` is the reactive output of each
    generator that does not control voltage (NaN for those that share their
    bus's reactive need, see :func:`share_reactive`); by default the network's
    ``q_mvar`` where ``voltage_control`` is off. ``gen_p_mw`` replaces the
    scheduled active outputs (the slack generator's is always computed).
    """
    if failed is not None and failed.any():
        # Compute with zeros there (Ybus keeps explicit zeros of open branches, and
        # 0 * NaN would leak into neighbouring islands), then blank them out.
        v = np.where(failed, 0.0, v)
        result = compute_results(network, topology, adm, v, islands, iterations,
                                 active_only=active_only, gen_q_fixed_mvar=gen_q_fixed_mvar,
                                 gen_p_mw=gen_p_mw, q_limited=q_limited)
        return _blank(network, result, failed)
    base = network.base_mva
    br = network.branches
    vm = np.abs(v)
    s_calc = v * np.conj(adm.ybus @ v) * base
    i_f = adm.yf @ v
    i_t = adm.yt @ v
    s_f = v[br.from_bus] * np.conj(i_f) * base
    s_t = v[br.to_bus] * np.conj(i_t) * base

    ld = network.loads
    served = ld.in_service & topology.energised[ld.bus]
    zf = zip_factor(network, vm)
    load_s = np.where(served, (ld.p_mw + 1j * ld.q_mvar) * zf, 0.0)
    sh = network.shunts
    ysh = shunt_admittance_pu(network)  # per bus
    sh_s = np.where(sh.in_service, sh.step * (sh.g_mw - 1j * sh.b_mvar) * vm[sh.bus] ** 2, 0.0)
    der = network.ders
    der_on = topology.energised[der.bus]
    der_s = np.where(der_on, der.p_injected_mw() + 1j * der.q_injected_mvar(), 0.0)

    n = network.n_bus
    known = np.zeros(n, dtype=np.complex128)  # injection at each bus from non-generators
    np.add.at(known, der.bus, der_s)
    np.add.at(known, ld.bus, -load_s)
    gen_need = s_calc - known  # s_calc = gen + DER - load; shunts are inside Ybus
    s_branches = s_calc - np.abs(v) ** 2 * np.conj(ysh) * base

    gen = network.generators
    g_on = gen.in_service & topology.energised[gen.bus]
    q_fixed = (np.where(gen.voltage_control, np.nan, gen.q_mvar)
               if gen_q_fixed_mvar is None else gen_q_fixed_mvar)
    gen_q = share_reactive(network, g_on, q_fixed, gen_need.imag)
    gen_p = np.where(g_on, gen.p_mw if gen_p_mw is None else gen_p_mw, 0.0)
    for g in topology.slack_gen[topology.slack_gen >= 0]:
        b = gen.bus[g]
        others = gen_p[gen.bus == b].sum() - gen_p[g]
        gen_p[g] = gen_need.real[b] - others
    if active_only:
        gen_q = np.zeros_like(gen_q)

    losses = s_f + s_t
    q = (lambda x: np.zeros_like(x)) if active_only else (lambda x: x)
    return PowerFlowResult(
        converged=all(r.converged for r in islands), iterations=iterations, islands=islands,
        island=topology.island, energised=topology.energised, v_pu=v, vm_pu=vm,
        va_deg=np.rad2deg(np.angle(v)), bus_p_mw=s_branches.real, bus_q_mvar=q(s_branches.imag),
        p_from_mw=s_f.real, q_from_mvar=q(s_f.imag), p_to_mw=s_t.real, q_to_mvar=q(s_t.imag),
        i_from_pu=np.abs(i_f), i_to_pu=np.abs(i_t),
        i_from_ka=np.abs(i_f) * ka_per_pu(network, br.from_bus),
        i_to_ka=np.abs(i_t) * ka_per_pu(network, br.to_bus),
        gen_p_mw=gen_p, gen_q_mvar=gen_q, load_p_mw=load_s.real, load_q_mvar=q(load_s.imag),
        load_served=served, shunt_p_mw=sh_s.real, shunt_q_mvar=q(sh_s.imag),
        der_p_mw=der_s.real, der_q_mvar=q(der_s.imag), losses_mw=float(losses.real.sum()),
        losses_mvar=float(q(losses.imag).sum()), q_limited=q_limited)


def share_reactive(network: Network, on: BoolArray, q_fixed_mvar: FloatArray,
                   bus_need_mvar: FloatArray) -> FloatArray:
    """Reactive output of each generator, Mvar (MATPOWER ``pfsoln`` rule).

    Generators with a finite ``q_fixed_mvar`` (PQ generators, generators held
    at a limit) give that value. The rest of a bus's need (``bus_need_mvar``,
    the reactive power generators must supply there) is shared among the bus's
    other running generators in proportion to their reactive ranges: each
    sits at the same fraction of the way from ``q_min_mvar`` to
    ``q_max_mvar``. An infinite limit is replaced by a proxy M, the sum over
    the bus of the equal share's magnitude and the finite limits' magnitudes
    (as MATPOWER 7 does); where the bus's total range is zero the share is equal.
    """
    gen = network.generators
    n = network.n_bus
    fixed = on & np.isfinite(q_fixed_mvar)
    share = on & ~fixed
    q = np.where(fixed, q_fixed_mvar, 0.0)
    if not share.any():
        return q
    b = gen.bus[share]
    fixed_sum = np.bincount(gen.bus[fixed], weights=q[fixed], minlength=n)
    total = (bus_need_mvar - fixed_sum)[b]  # what the sharing generators of the bus supply
    count = np.bincount(b, minlength=n)[b]
    equal = total / count
    qmin, qmax = gen.q_min_mvar[share], gen.q_max_mvar[share]
    proxy = (np.abs(equal) + np.where(np.isfinite(qmax), np.abs(qmax), 0.0)
             + np.where(np.isfinite(qmin), np.abs(qmin), 0.0))
    proxy = np.bincount(b, weights=proxy, minlength=n)[b]
    qmin = np.where(np.isfinite(qmin), qmin, -proxy)
    qmax = np.where(np.isfinite(qmax), qmax, proxy)
    cmin = np.bincount(b, weights=qmin, minlength=n)[b]
    cmax = np.bincount(b, weights=qmax, minlength=n)[b]
    ranged = cmax != cmin
    with np.errstate(divide="ignore", invalid="ignore"):
        proportional = qmin + (total - cmin) / (cmax - cmin) * (qmax - qmin)
    q[share] = np.where(ranged, proportional, qmin + (total - cmin) / count)
    return q


def _blank(network: Network, r: PowerFlowResult, failed: BoolArray) -> PowerFlowResult:
    """Set every value touching a ``failed`` bus to NaN."""
    from dataclasses import replace

    nan = np.nan
    br = network.branches
    fb = failed[br.from_bus] | failed[br.to_bus]
    lb = failed[network.loads.bus]
    gb = failed[network.generators.bus]
    sb = failed[network.shunts.bus]
    db = failed[network.ders.bus]

    def m(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.where(mask, nan, x)

    return replace(
        r, v_pu=np.where(failed, complex(nan, nan), r.v_pu), vm_pu=m(r.vm_pu, failed),
        va_deg=m(r.va_deg, failed), bus_p_mw=m(r.bus_p_mw, failed),
        bus_q_mvar=m(r.bus_q_mvar, failed), p_from_mw=m(r.p_from_mw, fb),
        q_from_mvar=m(r.q_from_mvar, fb), p_to_mw=m(r.p_to_mw, fb), q_to_mvar=m(r.q_to_mvar, fb),
        i_from_pu=m(r.i_from_pu, fb), i_to_pu=m(r.i_to_pu, fb), i_from_ka=m(r.i_from_ka, fb),
        i_to_ka=m(r.i_to_ka, fb), gen_p_mw=m(r.gen_p_mw, gb), gen_q_mvar=m(r.gen_q_mvar, gb),
        load_p_mw=m(r.load_p_mw, lb), load_q_mvar=m(r.load_q_mvar, lb),
        shunt_p_mw=m(r.shunt_p_mw, sb), shunt_q_mvar=m(r.shunt_q_mvar, sb),
        der_p_mw=m(r.der_p_mw, db), der_q_mvar=m(r.der_q_mvar, db),
        losses_mw=float(np.nansum(np.where(fb, 0.0, r.p_from_mw + r.p_to_mw))),
        losses_mvar=float(np.nansum(np.where(fb, 0.0, r.q_from_mvar + r.q_to_mvar))))
