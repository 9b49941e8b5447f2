"""The DMS's own model of the network: engineering data, never the live grid.

One job: build, from the scenario's ``grid:`` section, the network model a
distribution management system keeps in its database (the same data the
utility's GIS exports), and run the electrical layer's *pure* functions on
it -- :func:`cosim.grid.build_network`, :func:`cosim.grid.apply_action`,
:func:`cosim.grid.solve_ac` -- to check a switching plan against capacity and
voltage limits before the DMS commands it.

Why this does not break the architecture rule ("Operations never reads the
grid"): this module holds a *copy* made from configuration at start-up and
never calls ``world.service("grid")``; it knows nothing of the live switch
positions, loads or faults. What it knows of the present it is told by SCADA
(switch positions polled over Modbus). Its loads are the planning loads of
the configuration (scaled by ``load_scale``), as a real DMS uses load
estimates, not the true demand. It lives in ``cosim/operations`` (not in
``cosim/domains/operations*.py``), and the architecture test still forbids
the Operations domain modules to import ``cosim.grid``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from cosim.grid import GridConfig, Network, ScaleLoad, SetSwitch, apply_action, build_network, solve_ac

from .feeder import FeederGraph, SwitchStates
from .flisr import PlanCheck


def feeder_graph(network: Network) -> FeederGraph:
    """The connectivity model of ``network`` (normal switch positions as configured).

    A line with a switch at each end is split at a model-only bus
    ``<line>~line`` (a crew finds it at the line's two ends): the stretch
    between the two switches is a zone of its own, which a fault on the line
    leaves dead and the two switches isolate. Without it the zone model (sets
    of buses) could only isolate such a fault at one of the line's end buses,
    cutting off the healthy lateral and section beyond it.
    """
    br, sw, ld = network.branches, network.switches, network.loads
    gens = network.generators
    buses = [str(name) for name in network.buses.name]
    sites: list[tuple[str, ...]] = [(name,) for name in buses]
    branch_names, branch_from, branch_to = [str(n) for n in br.name], [int(b) for b in br.from_bus], [int(b) for b in br.to_bus]
    switch_branch, switch_bus = [int(k) for k in sw.branch], [int(b) for b in sw.bus]
    for k in range(len(br.name)):
        on = [s for s, kk in enumerate(switch_branch) if kk == k]
        f, t = branch_from[k], branch_to[k]
        if {switch_bus[s] for s in on} != {f, t}:
            continue
        mid = len(buses)
        buses.append(f"{branch_names[k]}~line")
        sites.append((buses[f], buses[t]))
        branch_to[k] = mid
        branch_names.append(f"{branch_names[k]}~to")
        branch_from.append(mid)
        branch_to.append(t)
        for s in on:
            if switch_bus[s] == t:
                switch_branch[s] = len(branch_names) - 1
    return FeederGraph(
        buses=tuple(buses),
        branch_names=tuple(branch_names),
        branch_from=tuple(branch_from),
        branch_to=tuple(branch_to),
        switch_names=tuple(sw.name),
        switch_branch=tuple(switch_branch),
        switch_bus=tuple(switch_bus),
        normally_closed=tuple(bool(c) for c in sw.closed),
        source_buses=frozenset(int(b) for b, on in zip(gens.bus, gens.in_service) if on),
        load_names=tuple(ld.name),
        load_bus=tuple(int(b) for b in ld.bus),
        load_customers=tuple(int(c) for c in ld.customers),
        load_kw=tuple(float(p) * 1000.0 for p in ld.p_mw),
        bus_sites=tuple(sites),
    )


@dataclass(frozen=True)
class Limits:
    """Operating limits a restoration must respect: branch loading (% of rate A) and bus voltage (pu)."""

    max_loading_pct: float = 100.0
    min_vm_pu: float = 0.95


class DmsModel:
    """The network model of a DMS and the power-flow check of switching states on it."""

    def __init__(self, network: Network, limits: Limits = Limits(), load_scale: float = 1.0) -> None:
        self.network = network
        self.graph = feeder_graph(network)
        self.limits = limits
        self.load_scale = load_scale
        self.checks_run = 0

    @classmethod
    def from_grid_section(cls, grid: GridConfig | Mapping[str, Any], base_dir: Path, limits: Limits = Limits(),
                          load_scale: float = 1.0) -> "DmsModel":
        config = grid if isinstance(grid, GridConfig) else GridConfig.model_validate(grid)
        return cls(build_network(config, base_dir), limits, load_scale)

    def check(self, states: SwitchStates) -> PlanCheck:
        """AC power flow of the model with ``states``: within limits, peak loading, lowest voltage."""
        self.checks_run += 1
        net = self.network
        for name, closed in states.items():
            net, _ = apply_action(net, SetSwitch(name, closed))
        if self.load_scale != 1.0:
            net, _ = apply_action(net, ScaleLoad(self.load_scale))
        result = solve_ac(net)
        if not result.converged:
            return PlanCheck(False, math.inf, 0.0, "power flow did not converge")
        rate = net.branches.rate_a_mva
        s_from = np.hypot(result.p_from_mw, result.q_from_mvar)
        s_to = np.hypot(result.p_to_mw, result.q_to_mvar)
        rated = np.isfinite(rate) & (rate > 0)
        loading = np.where(rated, 100.0 * np.maximum(s_from, s_to) / np.where(rated, rate, 1.0), 0.0)
        max_loading = float(loading.max()) if loading.size else 0.0
        vm = result.vm_pu[result.energised]
        min_vm = float(vm.min()) if vm.size else 0.0
        reasons = []
        if max_loading > self.limits.max_loading_pct:
            worst = net.branches.name[int(loading.argmax())]
            reasons.append(f"{worst} loaded {max_loading:.0f}% > {self.limits.max_loading_pct:g}%")
        if min_vm < self.limits.min_vm_pu:
            reasons.append(f"voltage {min_vm:.3f} pu < {self.limits.min_vm_pu:g} pu")
        return PlanCheck(not reasons, max_loading, min_vm, "; ".join(reasons))
