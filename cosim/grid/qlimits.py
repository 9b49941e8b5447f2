"""Generator reactive limits: which generators hold their bus voltage, and PV->PQ switching.

MATPOWER's ``runpf`` with ``ENFORCE_Q_LIMS`` = 1, applied per island:

1. solve the power flow;
2. find running voltage-controlling generators whose reactive output (shared
   at each bus by :func:`cosim.grid.results.share_reactive`) exceeds
   ``q_max_mvar`` or falls below ``q_min_mvar`` by more than
   :data:`Q_VIOLATION_MVAR`; if there are none, stop;
3. if in an island every remaining voltage-controlling generator violates,
   all the same limit, the island has no feasible solution: it is reported
   as not converged with that reason;
4. fix each violating generator at its limit, freeze the other generators at
   its bus at their present output, make the bus PQ; if it was the island's
   slack, the island's lowest-numbered (in table order) remaining
   voltage-controlled bus becomes the slack and the old slack generator keeps
   the active power it had; go to 1.

At the end, angles are shifted so the original slack keeps its angle. A bus
never switches back from PQ to PV within one solve (MATPOWER does not);
every solve starts again from the network's own generator types.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cosim.grid.network import BoolArray, FloatArray, Network
from cosim.grid.results import QLimitSwitch
from cosim.grid.topology import Topology

Q_VIOLATION_MVAR = 5e-6  # MATPOWER mpopt.opf.violation default, applied to Qg in Mvar


@dataclass(frozen=True)
class GenControl:
    """How each generator takes part in one Newton run.

    ``controls`` marks generators holding their bus voltage; ``q_fixed_mvar``
    is the reactive output of the others (NaN for controlling ones);
    ``p_mw`` the scheduled active output (a former slack generator keeps the
    output it had when its bus switched); ``topology`` carries the slack of
    each island, moved when a slack bus switched.
    """

    controls: BoolArray
    q_fixed_mvar: FloatArray
    p_mw: FloatArray
    topology: Topology
    switched: tuple[QLimitSwitch, ...] = ()


def initial_control(network: Network, topology: Topology) -> GenControl:
    """The network's own generator types: ``voltage_control`` generators hold voltage."""
    gen = network.generators
    controls = gen.in_service & gen.voltage_control
    return GenControl(controls=controls, q_fixed_mvar=np.where(controls, np.nan, gen.q_mvar),
                      p_mw=gen.p_mw.copy(), topology=topology)


@dataclass(frozen=True)
class LimitCheck:
    """Outcome of one check: the next control state, or why an island is infeasible."""

    control: GenControl
    changed: bool
    infeasible_islands: tuple[int, ...] = ()


def apply_limits(network: Network, control: GenControl, gen_q_mvar: FloatArray,
                 gen_p_mw: FloatArray, energised: BoolArray, round_: int) -> LimitCheck:
    """Switch the generators violating their reactive limits to fixed Q (step 2-4 above).

    ``gen_q_mvar``/``gen_p_mw`` are the generators' outputs from the last
    converged solve (slack P included).
    """
    gen = network.generators
    topo = control.topology
    active = control.controls & energised[gen.bus]
    over = active & (gen_q_mvar > gen.q_max_mvar + Q_VIOLATION_MVAR)
    under = active & (gen_q_mvar < gen.q_min_mvar - Q_VIOLATION_MVAR)
    violating = over | under
    if not violating.any():
        return LimitCheck(control, changed=False)

    g_island = topo.island[gen.bus]
    infeasible: list[int] = []
    for k in np.unique(g_island[violating]):
        mine = active & (g_island == k)
        if (violating[mine].all() and (not over[mine].any() or not under[mine].any())):
            infeasible.append(int(k))
    if infeasible:
        blocked = np.isin(g_island, infeasible)
        over, under, violating = over & ~blocked, under & ~blocked, violating & ~blocked

    controls = control.controls.copy()
    q_fixed = control.q_fixed_mvar.copy()
    p_mw = control.p_mw.copy()
    q_fixed[over] = gen.q_max_mvar[over]
    q_fixed[under] = gen.q_min_mvar[under]
    switched_bus = np.zeros(network.n_bus, dtype=bool)
    switched_bus[gen.bus[violating]] = True
    frozen = active & switched_bus[gen.bus] & ~violating  # same bus, within limits
    q_fixed[frozen] = gen_q_mvar[frozen]
    newly = violating | frozen
    controls[newly] = False
    p_mw[newly] = gen_p_mw[newly]  # the slack generator keeps the P it had

    names, bus_names = gen.name, network.buses.name
    records = []
    for g in np.flatnonzero(newly):
        limit = "max" if over[g] else "min" if under[g] else "bus"
        records.append(QLimitSwitch(generator=names[g], bus=bus_names[gen.bus[g]], limit=limit,
                                    q_mvar=float(q_fixed[g]), round=round_))

    slack_bus, slack_gen = topo.slack_bus.copy(), topo.slack_gen.copy()
    for k in np.flatnonzero(slack_bus >= 0):
        if not switched_bus[slack_bus[k]]:
            continue
        candidates = np.flatnonzero(controls & (g_island == k) & energised[gen.bus])
        if len(candidates) == 0:
            continue  # cannot happen unless infeasible (checked above)
        new_bus = int(gen.bus[candidates].min())  # MATPOWER bustypes: first PV bus
        slack_bus[k] = new_bus
        slack_gen[k] = int(candidates[gen.bus[candidates] == new_bus][0])
    topo = replace(topo, slack_bus=slack_bus, slack_gen=slack_gen)
    changed = bool(newly.any())
    return LimitCheck(GenControl(controls=controls, q_fixed_mvar=q_fixed, p_mw=p_mw,
                                 topology=topo, switched=control.switched + tuple(records)),
                      changed=changed, infeasible_islands=tuple(infeasible))
