"""Unit set-point control: follow basepoint + regulation within the unit's limits and ramp rate.

The logic of a plant controller without a grid or a register store, so it can
be tested alone. Each :meth:`UnitRamp.step` takes the simulated time and the
present orders (basepoint, regulation, limits, ramp rate) and returns the
set-point the unit should run at now. The set-point moves toward
``clip(basepoint + regulation, p_min, p_max)`` by at most
``ramp_rate x elapsed time``; a ramp starts at the step that sees a new target
(time spent at the old target does not count as ramp already done), which is
how a unit's load controller behaves when it receives a new demand.

Times are simulated seconds; powers MW.
"""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class UnitOrders:
    """What the unit is told to do (the plant controller's holding registers)."""

    basepoint_mw: float
    regulation_mw: float
    p_min_mw: float
    p_max_mw: float
    ramp_rate_mw_per_min: float
    agc_enabled: bool = True

    def desired_mw(self) -> float:
        """Basepoint plus regulation (while AGC is enabled), clipped to the unit's limits."""
        wanted = self.basepoint_mw + (self.regulation_mw if self.agc_enabled else 0.0)
        return min(max(wanted, self.p_min_mw), self.p_max_mw)

    def at_limit(self) -> bool:
        wanted = self.basepoint_mw + (self.regulation_mw if self.agc_enabled else 0.0)
        return wanted < self.p_min_mw or wanted > self.p_max_mw


class UnitRamp:
    """Ramp-limited set-point of one unit; ``setpoint_mw`` is where it runs now."""

    def __init__(self, setpoint_mw: float, time_s: float = 0.0) -> None:
        self.setpoint_mw = setpoint_mw
        self.ramping = False
        self._last_s = time_s

    def step(self, time_s: float, orders: UnitOrders) -> float:
        """Advance to ``time_s`` under ``orders``; return the new set-point (MW)."""
        elapsed = time_s - self._last_s if self.ramping else 0.0
        self._last_s = time_s
        target = orders.desired_mw()
        gap = target - self.setpoint_mw
        reach = orders.ramp_rate_mw_per_min / 60.0 * max(elapsed, 0.0)
        if abs(gap) <= reach:
            self.setpoint_mw = target
        else:
            self.setpoint_mw += math.copysign(reach, gap)
        # Moving on: compare with a tolerance relative to the unit's size (set-points are stored in 0.01 MW).
        tolerance = 1e-9 * max(1.0, abs(orders.p_max_mw), abs(orders.p_min_mw))
        self.ramping = abs(target - self.setpoint_mw) > tolerance
        return self.setpoint_mw
