"""The feeder service: holds the present three-phase feeder and solves it only when it changed.

The unbalanced counterpart of :class:`cosim.grid.service.GridService`, with
the same shape (``apply``, ``solve_if_changed``, ``measurements``,
``solve_count``, ``version``, ``on_change``), so devices drive either. A
load change keeps the factorised nodal matrix (only the injections change);
a tap, capacitor or load-status change refactorises it; a switch or line
status change also re-finds which conductors are energised. Each solve is
warm-started from the last voltages. Simulated time plays no part here.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import numpy as np

from cosim.grid.actions import Action, ClearFault, Change, NetworkAction
from cosim.grid.threephase.actions import ApplyPhaseFault, FeederAction, apply_feeder_action
from cosim.grid.threephase.elements import Feeder
from cosim.grid.threephase.measurements import FeederMeasurements
from cosim.grid.threephase.results import (
    ThreePhaseResult,
    bus_bases_kv,
    compute_results,
    node_base_v,
)
from cosim.grid.threephase.solver import Prepared, build, solve, with_new_loads

ChangeCallback = Callable[[Action | ApplyPhaseFault, Change], Any]

DEFAULT_TOLERANCE = 1e-10  # largest relative voltage change of the last iteration
DEFAULT_MAX_ITER = 200


class FeederService:
    """Stateful front of a three-phase feeder: apply actions, solve on change, measure.

    ``tolerance`` and ``max_iter`` are the fixed-point solver's options
    (:func:`cosim.grid.threephase.solver.solve`). Faults are placed with
    :class:`ApplyPhaseFault` (with phases) and removed with
    :class:`ClearFault`; the balanced :class:`ApplyFault` raises ``TypeError``.
    """

    def __init__(self, feeder: Feeder, *, tolerance: float = DEFAULT_TOLERANCE,
                 max_iter: int = DEFAULT_MAX_ITER, on_change: ChangeCallback | None = None) -> None:
        self._feeder = feeder
        self._tol = tolerance
        self._max_iter = max_iter
        self.on_change = on_change
        self._bases = bus_bases_kv(feeder)
        self._prep: Prepared | None = None
        self._base_v: np.ndarray = np.zeros(0)
        self._pending = Change.TOPOLOGY
        self._result: ThreePhaseResult | None = None
        self.solve_count = 0
        self._version = 0

    @property
    def feeder(self) -> Feeder:
        return self._feeder

    @property
    def version(self) -> int:
        """Number of actions that changed something."""
        return self._version

    @property
    def dirty(self) -> bool:
        return self._pending is not Change.NONE

    def apply(self, action: Action | ApplyPhaseFault) -> Change:
        """Apply a typed action; raises KeyError/ValueError/TypeError as :mod:`.actions` says."""
        if not isinstance(action, (*typing.get_args(NetworkAction), ApplyPhaseFault, ClearFault)):
            raise TypeError(f"not an action on a three-phase feeder: {action!r}")
        feeder_action: FeederAction = action  # type: ignore[assignment]
        self._feeder, change = apply_feeder_action(self._feeder, feeder_action)
        if change is not Change.NONE:
            self._pending = max(self._pending, change, key=lambda c: c.value)
            self._version += 1
        if self.on_change is not None:
            self.on_change(action, change)
        return change

    def solve(self) -> ThreePhaseResult:
        """Solve now, reusing what the pending changes left valid."""
        if self._prep is None or self._pending.value >= Change.ADMITTANCE.value:
            warm = None
            if self._prep is not None and self._result is not None \
                    and self._pending is Change.ADMITTANCE:
                warm = self._result.v
            self._prep = build(self._feeder)
            self._base_v = node_base_v(self._prep, self._bases)
        else:
            self._prep = with_new_loads(self._prep, self._feeder)
            warm = self._result.v if self._result is not None else None
        sol = solve(self._prep, v_start=warm, tol=self._tol, max_iter=self._max_iter)
        self._result = compute_results(self._prep, sol, self._bases, self._base_v)
        self._pending = Change.NONE
        self.solve_count += 1
        return self._result

    def solve_if_changed(self) -> ThreePhaseResult:
        if self._result is None or self.dirty:
            return self.solve()
        return self._result

    def measurements(self) -> FeederMeasurements:
        result = self.solve_if_changed()
        assert self._prep is not None
        return FeederMeasurements(self._prep, result, self.solve_count)
