"""The grid service: holds the present network and solves it only when something changed.

It is the electrical layer's one stateful object. Actions (:mod:`cosim.grid.actions`)
update the network and raise a dirty flag; :meth:`GridService.solve_if_changed`
runs the power flow only if the flag is up, warm-started from the last
solution, and reuses the admittance matrix and Jacobian pattern unless a
topology, tap or shunt action invalidated them. ``solve_count`` counts actual
solves so tests (and benchmarks) can check that nothing is solved twice.

``version`` counts the actions that changed something: a reader that keeps the
version it last saw knows, without solving or comparing arrays, whether
anything it measured can differ (the grid is piecewise constant between
actions). ``on_change`` lets a layer above be told at once (devices wait on it
instead of sampling on a fixed tick).

Solver options live here, as constructor arguments, not on the network.
Works with or without a kernel World: pass ``record=world.record`` and
``log=world.log`` to stream results and events. Simulated time plays no part
here: a solve is instantaneous in simulated time.
"""

from __future__ import annotations

import math

from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from cosim.grid.acflow import (
    DEFAULT_MAX_ITER,
    DEFAULT_TOLERANCE_PU,
    Prepared,
    prepare,
    solve_ac,
)
from cosim.grid.actions import Action, ApplyFault, Change, ClearFault, FaultType, apply_action
from cosim.grid.asymmetric_faults import asymmetric_fault_study, check_zero_sequence, needs_zero_sequence
from cosim.grid.dcflow import solve_dc
from cosim.grid.faults import FaultResult, fault_study
from cosim.grid.frequency import SystemFrequency
from cosim.grid.iec60909 import ShortCircuitData
from cosim.grid.measurements import GridMeasurements
from cosim.grid.network import Network
from cosim.grid.results import PowerFlowResult

Clock = Callable[[], float]
Recorder = Callable[[str, str, float, str], Any]
Logger = Callable[..., Any]
ChangeCallback = Callable[[Action, Change], Any]


class GridService:
    """Stateful front of the electrical layer: apply actions, solve on change, measure.

    ``mode`` is "ac" (Newton-Raphson) or "dc". ``tolerance_pu`` is the largest
    P/Q mismatch accepted (pu on base_mva), ``max_iter`` the Newton iteration
    limit. ``enforce_q_limits`` holds generators at their reactive limits
    (PV->PQ switching, see :mod:`cosim.grid.qlimits`); off by default here as in
    MATPOWER's ``runpf``, on by default in scenarios (``grid.solver``).
    ``record(entity, quantity, value, unit)`` and ``log(kind, **fields)``
    are optional sinks (a World's ``record`` and ``log``). ``on_change(action,
    change)``, if set (here or later on the attribute), is called after every
    :meth:`apply`, so a layer above (devices) can wake its processes; it is a
    plain call, the grid stays free of SimPy.

    ``frequency`` (a :class:`SystemFrequency`) with ``clock`` (simulated
    seconds now) adds the area frequency: each solve feeds it the generation
    the slacks picked up beyond the generators' setpoints, from the time of the
    action that caused it, and measurements carry the frequency at ``clock()``.

    ``sequence`` (a :class:`ShortCircuitData`) gives the zero-sequence data of
    the branches and the network feeders' X0/X and R0/X0: needed for earth
    faults (SLG, LLG), which are refused without it (``ValueError`` at
    :meth:`apply`). Three-phase and LL faults need none.
    """

    def __init__(self, network: Network, *, mode: Literal["ac", "dc"] = "ac",
                 tolerance_pu: float = DEFAULT_TOLERANCE_PU, max_iter: int = DEFAULT_MAX_ITER,
                 enforce_q_limits: bool = False, record: Recorder | None = None,
                 log: Logger | None = None, entity: str = "grid",
                 on_change: ChangeCallback | None = None,
                 frequency: SystemFrequency | None = None, clock: Clock | None = None,
                 sequence: ShortCircuitData | None = None) -> None:
        if mode not in ("ac", "dc"):
            raise ValueError(f"mode must be 'ac' or 'dc', got {mode!r}")
        if frequency is not None and clock is None:
            raise ValueError("a frequency model needs a clock")
        self._frequency = frequency
        self._clock = clock
        self._changed_at_s = clock() if clock is not None else 0.0
        self._scheduled_offset_mw: float | None = None
        self._network = network
        self.mode = mode
        self.tolerance_pu = tolerance_pu
        self.max_iter = max_iter
        self.enforce_q_limits = enforce_q_limits
        self._record = record
        self._log = log
        self._entity = entity
        self._prepared: Prepared | None = None
        self._result: PowerFlowResult | None = None
        self._fault: ApplyFault | None = None
        self._sequence = sequence
        self._fault_result: FaultResult | None = None
        self._dirty = True
        self.solve_count = 0
        self._q_limited: tuple[tuple[str, str, str], ...] = ()
        self._version = 0
        self.on_change = on_change

    @property
    def network(self) -> Network:
        """The present network (immutable; change it with :meth:`apply`)."""
        return self._network

    @property
    def dirty(self) -> bool:
        """True when an action happened since the last solve."""
        return self._dirty

    @property
    def version(self) -> int:
        """How many applied actions changed something (a fault counts); equal versions, equal measurements."""
        return self._version

    @property
    def active_fault(self) -> ApplyFault | None:
        return self._fault

    def apply(self, action: Action) -> Change:
        """Apply one action; the next :meth:`solve_if_changed` will re-solve.

        Raises ``KeyError``/``ValueError`` for an action naming an unknown element
        or an out-of-range value (see :mod:`cosim.grid.actions`).
        """
        if isinstance(action, ApplyFault):
            # Validate the location now, so a bad fault fails at the caller.
            if action.bus is not None:
                self._network.buses.index(action.bus)
            else:
                k = self._network.branches.index(action.branch or "")
                if self._network.branches.is_transformer[k]:
                    raise ValueError(f"mid-line fault on transformer {action.branch!r}: "
                                     "fault one of its buses instead")
            if needs_zero_sequence(action):
                check_zero_sequence(self._network, self._sequence.zero if self._sequence else None)
            self._fault = action
            change = Change.FAULT
        elif isinstance(action, ClearFault):
            self._fault = None
            change = Change.FAULT
        else:
            self._network, change = apply_action(self._network, action)
            if change in (Change.TOPOLOGY, Change.ADMITTANCE):
                self._prepared = None
        if change is not Change.NONE:
            self._dirty = True
            self._version += 1
            if self._clock is not None:
                self._changed_at_s = self._clock()
        if self._log is not None:
            self._log("grid_action", action=type(action).__name__, change=change.name)
        if self.on_change is not None:
            self.on_change(action, change)
        return change

    def solve(self) -> PowerFlowResult:
        """Solve now, whatever the dirty flag says."""
        if self.mode == "dc":
            self._prepared = self._prepared or prepare(self._network)
            result = solve_dc(self._network, self._prepared.topology)
        else:
            if self._prepared is None:
                self._prepared = prepare(self._network)
            v_start = self._result.v_pu if self._result is not None else None
            result = solve_ac(self._network, tolerance_pu=self.tolerance_pu,
                              max_iter=self.max_iter, v_start=v_start, prepared=self._prepared,
                              enforce_q_limits=self.enforce_q_limits)
        self._result = result
        self._fault_result = self._study(self._fault, result) if self._fault is not None else None
        self.solve_count += 1
        self._dirty = False
        self._feed_frequency(result)
        self._report(result)
        return result

    def _study(self, fault: ApplyFault, result: PowerFlowResult) -> FaultResult:
        """The fault study of ``fault`` on the solved state: balanced, or on sequence networks."""
        if fault.fault_type is FaultType.THREE_PHASE:
            return fault_study(self._network, fault, result.v_pu)
        data = self._sequence
        return asymmetric_fault_study(self._network, fault, result.v_pu, data.zero if data else None,
                                      data.feeders if data else ())

    def _feed_frequency(self, result: PowerFlowResult) -> None:
        """Give the frequency model the load the slacks picked up beyond schedule (relative to the first solve)."""
        if self._frequency is None:
            return
        gens = self._network.generators
        on = gens.in_service
        beyond_mw = float(np.sum(result.gen_p_mw[on]) - np.sum(gens.p_mw[on]))
        if not np.isfinite(beyond_mw):
            return  # a non-converged island: keep the last imbalance
        if self._scheduled_offset_mw is None:
            self._scheduled_offset_mw = beyond_mw  # the run starts in steady state at nominal frequency
        self._frequency.set_imbalance(self._changed_at_s, beyond_mw - self._scheduled_offset_mw)

    def solve_if_changed(self) -> PowerFlowResult:
        """The current solution, solving first only if an action happened since the last solve."""
        if self._dirty or self._result is None:
            return self.solve()
        return self._result

    def measurements(self) -> GridMeasurements:
        """Snapshot for reading (solves first if anything changed)."""
        result = self.solve_if_changed()
        frequency = (self._frequency.at(self._clock()) if self._frequency is not None and self._clock is not None
                     else None)
        return GridMeasurements(self._network, result, self._fault_result, self.solve_count, frequency)

    def frequency_settled_s(self) -> float:
        """When the area frequency's transient is over (simulated s; ``-inf`` without a frequency model).

        Until then the frequency changes while ``version`` does not: a reader
        that samples only on change must also sample on its own period up to
        this instant (and once at or after it). Solves first if an action is pending.
        """
        if self._frequency is None:
            return -math.inf
        self.solve_if_changed()
        return self._frequency.settled_s()

    def fault_study(self, fault: ApplyFault) -> FaultResult:
        """What-if fault study on the present state; changes nothing."""
        return self._study(fault, self.solve_if_changed())

    def _report(self, result: PowerFlowResult) -> None:
        if self._record is not None:
            served = result.load_served
            ld = self._network.loads
            unserved = int(ld.customers[ld.in_service & ~served].sum())
            self._record(self._entity, "losses", result.losses_mw, "MW")
            self._record(self._entity, "customers_unserved", unserved, "customers")
            self._record(self._entity, "converged", float(result.converged), "bool")
            if self._fault_result is not None:
                self._record(self._entity, "fault_current", self._fault_result.i_fault_ka, "kA")
        if self._log is not None:
            for island in result.islands:
                if not island.converged:
                    self._log("powerflow_not_converged", island=island.island,
                              slack_bus=island.slack_bus, iterations=island.iterations,
                              max_mismatch_pu=island.max_mismatch_pu,
                              worst_bus=island.worst_bus, reason=island.reason)
            switched = tuple((s.generator, s.bus, s.limit) for s in result.q_limited)
            if switched != self._q_limited:
                self._log("q_limits", generators=[g for g, _, _ in switched],
                          buses=list(result.switched_buses), limits=[lim for *_, lim in switched])
                self._q_limited = switched
