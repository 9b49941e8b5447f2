"""AC power flow of a whole network: topology -> admittance -> Newton -> results.

Every energised island is solved with its own slack bus. Islands are
electrically independent, so they are first solved together in one Newton
run (one sparse factorisation per iteration); only if that run does not
converge is each island re-solved alone, so that the report says which
island failed, after how many iterations, with what mismatch and where, and
the islands that do converge keep their solution. Non-convergence is data
(``PowerFlowResult.converged == False``), never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from cosim.grid.admittance import Admittance, build_admittance
from cosim.grid.network import BoolArray, IntArray, Network
from cosim.grid.newton import (
    Injections,
    JacobianPattern,
    jacobian_pattern,
    newton_raphson,
)
from cosim.grid.qlimits import GenControl, LimitCheck, apply_limits, initial_control
from cosim.grid.results import IslandReport, PowerFlowResult, compute_results
from cosim.grid.topology import Topology, analyse

DEFAULT_TOLERANCE_PU = 1e-8
DEFAULT_MAX_ITER = 30


@dataclass(frozen=True)
class BusSplit:
    """Bus types for the present topology: slack (ref), voltage-controlled (pv), pq."""

    ref: IntArray
    pv: IntArray
    pq: IntArray


def voltage_setpoints(network: Network, energised: BoolArray,
                      controls: BoolArray | None = None) -> np.ndarray:
    """Voltage magnitude each voltage-controlled bus is held at, pu; NaN elsewhere.

    ``controls`` marks the generators holding voltage (default: in service
    and ``voltage_control``). The first of them at a bus sets it. Recomputed
    at every solve: setpoints change through actions without invalidating the
    bus split.
    """
    gen = network.generators
    if controls is None:
        controls = gen.in_service & gen.voltage_control
    on = controls & energised[gen.bus]
    setpoint = np.full(network.n_bus, np.nan)
    idx = np.flatnonzero(on)[::-1]  # reversed so that the first generator wins
    setpoint[gen.bus[idx]] = gen.vm_setpoint_pu[idx]
    return setpoint


def bus_split(network: Network, topology: Topology,
              controls: BoolArray | None = None) -> BusSplit:
    """Classify energised buses: island slacks, voltage-controlled buses, the rest."""
    n = network.n_bus
    has_gen = np.isfinite(voltage_setpoints(network, topology.energised, controls))
    ref = topology.slack_bus[topology.slack_bus >= 0]
    is_ref = np.zeros(n, dtype=bool)
    is_ref[ref] = True
    pv = np.flatnonzero(has_gen & ~is_ref)
    pq = np.flatnonzero(topology.energised & ~has_gen & ~is_ref)
    return BusSplit(ref=np.sort(ref), pv=pv, pq=pq)


def injections(network: Network, energised: BoolArray, control: GenControl | None = None) -> Injections:
    """Specified bus injections in pu: generators and DER minus (ZIP) loads.

    Generators inject their scheduled P; their Q counts only where they do
    not control voltage (``control.q_fixed_mvar``; at voltage-controlled buses
    the Q equation is not solved).
    """
    n = network.n_bus
    base = network.base_mva
    s_const = np.zeros(n, dtype=np.complex128)
    s_i = np.zeros(n, dtype=np.complex128)
    s_z = np.zeros(n, dtype=np.complex128)
    gen = network.generators
    g = gen.in_service & energised[gen.bus]
    if control is None:
        p_mw, q_mvar = gen.p_mw, np.where(gen.voltage_control, 0.0, gen.q_mvar)
    else:
        p_mw, q_mvar = control.p_mw, np.nan_to_num(control.q_fixed_mvar)
    np.add.at(s_const, gen.bus[g], (p_mw[g] + 1j * q_mvar[g]) / base)
    der = network.ders
    np.add.at(s_const, der.bus, (der.p_injected_mw() + 1j * der.q_injected_mvar()) / base)
    ld = network.loads
    s0 = np.where(ld.in_service, ld.p_mw + 1j * ld.q_mvar, 0.0) / base
    np.add.at(s_const, ld.bus, -s0 * (1.0 - ld.zip_z - ld.zip_i))
    np.add.at(s_i, ld.bus, -s0 * ld.zip_i)
    np.add.at(s_z, ld.bus, -s0 * ld.zip_z)
    off = ~energised
    s_const[off] = s_i[off] = s_z[off] = 0.0
    return Injections(s_const, s_i, s_z)


def start_voltage(network: Network, vm_setpoint_pu: np.ndarray, energised: BoolArray,
                  v_previous: np.ndarray | None) -> np.ndarray:
    """Initial voltages: last solution where usable (warm start), else the case's VM/VA.

    Voltage-controlled buses always start at their present setpoint
    magnitude; buses without a source are 0.
    """
    bus = network.buses
    v = bus.vm_init_pu * np.exp(1j * np.deg2rad(bus.va_init_deg))
    if v_previous is not None:
        usable = np.isfinite(v_previous) & (np.abs(v_previous) > 0.0)
        v = np.where(usable, v_previous, v)
    gen_bus = np.isfinite(vm_setpoint_pu)
    v[gen_bus] = vm_setpoint_pu[gen_bus] * np.exp(1j * np.angle(v[gen_bus]))
    v[~energised] = 0.0
    return v


@dataclass(frozen=True)
class Prepared:
    """Everything a solve needs that depends only on topology and branch data.

    A service keeps one between solves while no topology, tap or shunt action
    happened; it is never stored on the Network. ``patterns`` caches the
    Jacobian pattern of each bus split met so far (reactive limits change the
    split), keyed by :func:`_split_key`.
    """

    topology: Topology
    admittance: Admittance
    split: BusSplit
    pattern: JacobianPattern
    patterns: dict[bytes, JacobianPattern] = field(default_factory=dict)

    def pattern_for(self, split: BusSplit) -> JacobianPattern:
        key = _split_key(split)
        pat = self.patterns.get(key)
        if pat is None:
            pat = jacobian_pattern(self.admittance.ybus, split.pv, split.pq)
            self.patterns[key] = pat
        return pat


def _split_key(split: BusSplit) -> bytes:
    return split.pv.tobytes() + b"|" + split.ref.tobytes()


def prepare(network: Network) -> Prepared:
    """Topology, admittance matrices, bus split and Jacobian pattern for ``network``."""
    topo = analyse(network)
    adm = build_admittance(network, topo.branch_closed)
    split = bus_split(network, topo)
    pat = jacobian_pattern(adm.ybus, split.pv, split.pq)
    return Prepared(topo, adm, split, pat, {_split_key(split): pat})


def solve_ac(network: Network, *, tolerance_pu: float = DEFAULT_TOLERANCE_PU,
             max_iter: int = DEFAULT_MAX_ITER, v_start: np.ndarray | None = None,
             prepared: Prepared | None = None, enforce_q_limits: bool = False) -> PowerFlowResult:
    """AC power flow (Newton-Raphson, polar) of every energised island.

    ``v_start`` (complex pu per bus, e.g. the previous result's ``v_pu``) warm
    starts the solve; ``prepared`` reuses a :func:`prepare` of this same
    network. ``enforce_q_limits`` switches generators that exceed their
    reactive limits to PQ and re-solves (MATPOWER ``ENFORCE_Q_LIMS`` = 1, see
    :mod:`cosim.grid.qlimits`); the result lists them in ``q_limited``. Returns
    a :class:`PowerFlowResult`; never raises for non-convergence.
    """
    prep = prepared if prepared is not None else prepare(network)
    control = initial_control(network, prep.topology)
    v = v_start
    total_iter = total_fact = 0
    round_ = 0
    slack_angle = None
    while True:
        result, out_v = _solve_once(network, prep, control, tolerance_pu, max_iter, v)
        if slack_angle is None:
            slack_angle = np.angle(out_v)  # slack buses keep their start angle
        total_iter += result.iterations
        total_fact += result.factorisations
        if not enforce_q_limits or not result.converged:
            break
        round_ += 1
        check = apply_limits(network, control, result.gen_q_mvar, result.gen_p_mw,
                             prep.topology.energised, round_)
        if check.infeasible_islands:
            result = _infeasible(network, prep, check, result)
            break
        if not check.changed:
            break
        control = check.control
        v = out_v
    if control.switched:
        result = _restore_slack_angles(prep.topology, control, result, slack_angle)
    return replace(result, iterations=total_iter, factorisations=total_fact)


def _solve_once(network: Network, prep: Prepared, control: GenControl, tolerance_pu: float,
                max_iter: int, v_start: np.ndarray | None) -> tuple[PowerFlowResult, np.ndarray]:
    """One Newton run with the generator roles of ``control``."""
    topo = control.topology
    split = prep.split if not control.switched else bus_split(network, topo, control.controls)
    pattern = prep.pattern if not control.switched else prep.pattern_for(split)
    inj = injections(network, topo.energised, control)
    v0 = start_voltage(network, voltage_setpoints(network, topo.energised, control.controls),
                       topo.energised, v_start)
    ybus = prep.admittance.ybus
    out = newton_raphson(ybus, inj, v0, pattern, tolerance_pu=tolerance_pu,
                         max_iter=max_iter)
    names = network.buses.name
    live = topo.energised_islands()
    extra = {"gen_q_fixed_mvar": control.q_fixed_mvar, "gen_p_mw": control.p_mw,
             "q_limited": control.switched}

    def report(k: int, converged: bool, iterations: int, mismatch: float, worst: int) -> IslandReport:
        return IslandReport(island=int(k), n_bus=int((topo.island == k).sum()),
                            slack_bus=names[topo.slack_bus[k]], converged=converged,
                            iterations=iterations, max_mismatch_pu=mismatch,
                            worst_bus=names[worst] if worst >= 0 else "")

    if out.converged:
        reports = []
        for k in live:
            members = topo.island == k
            mis = _island_mismatch(ybus, out.v, inj, split, members)
            reports.append(report(k, True, out.iterations, *mis))
        done = compute_results(network, topo, prep.admittance, out.v, tuple(reports),
                               out.iterations, **extra)  # type: ignore[arg-type]
        return replace(done, factorisations=out.factorisations), out.v

    # Attribute the failure: solve each island on its own.
    v = v0.copy()
    failed = np.zeros(network.n_bus, dtype=bool)
    reports = []
    factorisations = out.factorisations
    for k in live:
        members = topo.island == k
        if len(live) == 1:
            one = out  # the joint run was this island's run
        else:
            pv, pq = split.pv[members[split.pv]], split.pq[members[split.pq]]
            one = newton_raphson(ybus, inj, v0, jacobian_pattern(ybus, pv, pq),
                                 tolerance_pu=tolerance_pu, max_iter=max_iter)
            factorisations += one.factorisations
        v[members] = one.v[members]
        if not one.converged:
            failed |= members
        reports.append(report(k, one.converged, one.iterations, one.max_mismatch_pu,
                              one.worst_bus))
    done = compute_results(network, topo, prep.admittance, v, tuple(reports),
                           max(r.iterations for r in reports), failed=failed,
                           **extra)  # type: ignore[arg-type]
    return replace(done, factorisations=factorisations), v


def _infeasible(network: Network, prep: Prepared, check: LimitCheck,
                result: PowerFlowResult) -> PowerFlowResult:
    """Mark the islands whose every voltage-controlling generator is beyond one limit as failed."""
    topo = prep.topology
    bad = set(check.infeasible_islands)
    failed = np.isin(topo.island, list(bad))
    reports = tuple(
        replace(r, converged=False, reason="every voltage-controlling generator is beyond "
                "the same reactive limit: no solution within the limits")
        if r.island in bad else r for r in result.islands)
    return compute_results(network, check.control.topology, prep.admittance, result.v_pu,
                           reports, result.iterations, failed=failed,
                           gen_q_fixed_mvar=check.control.q_fixed_mvar,
                           gen_p_mw=check.control.p_mw, q_limited=check.control.switched)


def _restore_slack_angles(original: Topology, control: GenControl, result: PowerFlowResult,
                          start_angle: np.ndarray) -> PowerFlowResult:
    """Rotate each island whose slack moved so that the original slack keeps its start angle."""
    moved = np.flatnonzero((original.slack_bus >= 0)
                           & (original.slack_bus != control.topology.slack_bus))
    if len(moved) == 0:
        return result
    v = result.v_pu.copy()
    for k in moved:
        ref0 = original.slack_bus[k]
        members = original.island == k
        target = start_angle[ref0]
        v[members] = v[members] * np.exp(1j * (target - np.angle(v[ref0])))
    return replace(result, v_pu=v, va_deg=np.rad2deg(np.angle(v)))


def _island_mismatch(ybus, v, inj: Injections, split: BusSplit,  # type: ignore[no-untyped-def]
                     members: BoolArray) -> tuple[float, int]:
    mis = v * np.conj(ybus @ v) - inj.at(np.abs(v))
    per_bus = np.zeros(len(v))
    pv, pq = split.pv, split.pq
    per_bus[pv] = np.abs(mis[pv].real)
    per_bus[pq] = np.maximum(np.abs(mis[pq].real), np.abs(mis[pq].imag))
    per_bus[~members] = 0.0
    if not members.any() or per_bus.max() == 0.0:
        return 0.0, -1
    k = int(np.argmax(per_bus))
    return float(per_bus[k]), k
