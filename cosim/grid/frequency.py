"""System frequency: an aggregate single-area model driven by the grid's power imbalance.

The quasi-static power flow balances every island through its slack, so it has
no frequency of its own. This module adds the classical aggregate model of
one synchronous area (Kundur, *Power System Stability and Control*, 1994,
§11.1.3-11.1.6; Bergen & Vittal, *Power Systems Analysis*, 2nd ed., §11.5),
with every quantity in per unit of ``system_base_mva`` and of nominal frequency:

    2H dΔω/dt = ΔPm − ΔPL − D·Δω          (swing equation of the area)
    T_G dΔPm/dt = −Δω/R − ΔPm             (governor with droop R, one lag T_G)

ΔPL is the load the synchronous machines must pick up beyond their schedule
(a generator trip, a load step): after each solve it is the generation the
slack buses delivered beyond the generators' setpoints, relative to the first
solve (the run starts in steady state at nominal frequency). The input is
piecewise constant between grid actions, so the state is advanced exactly
with the matrix exponential, at any clock value and without any periodic
process. In steady state Δω = −ΔPL / (D + 1/R).

After a change the frequency moves continuously although nothing in the
grid changes: :meth:`SystemFrequency.settled_s` bounds when the transient is
over (within ``RESOLUTION_HZ`` of its steady state), so that devices which
only sample the grid when it changes can sample on their own period until
then (devices.field.base).

Simulated seconds throughout; the model itself holds no clock: callers pass
the time. One area: every energised bus sees the same frequency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.linalg import expm  # type: ignore[import-untyped]


RESOLUTION_HZ = 1e-4
"""A transient is over once the frequency stays within this of its steady state: 0.1 mHz, below the
1 mHz resolution of a C37.118 integer frequency field and of any frequency register here."""


class FrequencyResponseConfig(BaseModel):
    """The ``grid.frequency_response`` section: the area's aggregate inertia, governors and load."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system_base_mva: float = Field(gt=0, description="rating of the synchronised generation H and R refer to")
    inertia_h_s: float = Field(5.0, gt=0, description="aggregate inertia constant H on system_base_mva, s")
    droop_pct: float = Field(5.0, gt=0, le=100, description="governor speed droop R, % (5 % is the usual setting)")
    governor_time_constant_s: float = Field(0.5, gt=0, description="governor-turbine time constant T_G, s")
    load_damping_pu: float = Field(1.0, ge=0, description="load damping D, pu power per pu frequency")


@dataclass(frozen=True)
class FrequencyReading:
    """The area frequency at one instant: Hz, its rate of change (Hz/s) and Δω in pu."""

    frequency_hz: float
    rocof_hz_per_s: float
    deviation_pu: float


class SystemFrequency:
    """The state (Δω, ΔPm) of one area, advanced exactly between step changes of its imbalance.

    ``set_imbalance(time_s, imbalance_mw)`` records a new load-generation
    imbalance from ``time_s`` on (positive: load exceeds scheduled
    generation, frequency falls); ``at(time_s)`` reads the frequency. Times
    passed to either must not go backwards (ValueError).
    """

    def __init__(self, config: FrequencyResponseConfig, nominal_hz: float) -> None:
        self.config = config
        self.nominal_hz = float(nominal_hz)
        h, d = config.inertia_h_s, config.load_damping_pu
        r, tg = config.droop_pct / 100.0, config.governor_time_constant_s
        self._a = np.array([[-d / (2.0 * h), 1.0 / (2.0 * h)],
                            [-1.0 / (r * tg), -1.0 / tg]])
        self._b = np.array([-1.0 / (2.0 * h), 0.0])
        self._t0 = 0.0
        self._x0 = np.zeros(2)
        self._u = 0.0  # ΔPL, pu on system_base_mva
        self._settled_s = 0.0
        # ‖expm(Aτ)‖ ≤ κ(V)·exp(σ·τ) with A = V Λ V⁻¹ and σ the largest real part of A's eigenvalues
        # (negative: H, T_G, R > 0 and D ≥ 0 make the area stable). A nearly defective A only makes
        # κ large, and the bound (logarithmic in κ) conservative.
        eigenvalues, vectors = np.linalg.eig(self._a)
        self._decay_per_s = -float(np.max(eigenvalues.real))
        condition = float(np.linalg.cond(vectors))
        self._condition = condition if math.isfinite(condition) else 1e16

    @property
    def imbalance_mw(self) -> float:
        return self._u * self.config.system_base_mva

    def steady_state_deviation_pu(self, imbalance_mw: float) -> float:
        """Δω the area settles at for a constant imbalance: −ΔPL / (D + 1/R)."""
        c = self.config
        return -(imbalance_mw / c.system_base_mva) / (c.load_damping_pu + 100.0 / c.droop_pct)

    def _state(self, time_s: float) -> np.ndarray:
        if time_s < self._t0:
            raise ValueError(f"frequency asked at {time_s} s, before the last change at {self._t0} s")
        x_ss = -np.linalg.solve(self._a, self._b * self._u)
        return x_ss + expm(self._a * (time_s - self._t0)) @ (self._x0 - x_ss)

    def set_imbalance(self, time_s: float, imbalance_mw: float) -> None:
        """From ``time_s`` on the imbalance is ``imbalance_mw`` (MW, load above scheduled generation)."""
        self._x0 = self._state(time_s)
        self._t0 = float(time_s)
        self._u = float(imbalance_mw) / self.config.system_base_mva
        self._settled_s = self._settle_time()

    def settled_s(self) -> float:
        """The instant (simulated s) from which the frequency stays within ``RESOLUTION_HZ`` of its steady state.

        An upper bound, from the slowest mode's decay and the eigenvectors'
        condition number; the last change's time if it started settled.
        """
        return self._settled_s

    def _settle_time(self) -> float:
        x_ss = -np.linalg.solve(self._a, self._b * self._u)
        distance = float(np.linalg.norm(self._x0 - x_ss)) * self._condition
        tolerance = RESOLUTION_HZ / self.nominal_hz  # pu; the norm bounds Δω's distance
        if distance <= tolerance:
            return self._t0
        return self._t0 + math.log(distance / tolerance) / self._decay_per_s

    def at(self, time_s: float) -> FrequencyReading:
        """Frequency (Hz) and ROCOF (Hz/s) at ``time_s``."""
        x = self._state(time_s)
        dx = self._a @ x + self._b * self._u
        return FrequencyReading(frequency_hz=self.nominal_hz * (1.0 + float(x[0])),
                                rocof_hz_per_s=self.nominal_hz * float(dx[0]), deviation_pu=float(x[0]))
