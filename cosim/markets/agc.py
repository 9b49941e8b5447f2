"""Basepoints from a SCED dispatch and automatic generation control (AGC) on telemetry, as pure functions.

**Basepoints.** A plant's basepoint is the sum of the SCED MW of its offers
(:func:`plant_basepoints`); the SCED dispatch of its interval, sent to the
plant controller, which ramps the unit to it.

**Area control error.** The power flow balances the area at one unit, the
grid's slack: the *balancing unit*. Its deviation from its own schedule is the
area's imbalance, the static image of what NERC BAL-001 measures as
``ACE = (NI_A - NI_S) - 10 B (F_A - F_S)`` (no frequency term: the simulated
grid holds nominal frequency). :func:`area_control_error` takes it from the
balancing unit's *measured* output, as the ISO reads it from the plant
controller; positive means the rest of the area generates too little.

**Regulation.** Each AGC cycle the ISO asks the regulating units for
``R = R_previous + gain x (ACE - pending)``, where ``pending`` is the output
the units are already ramping toward (their desired minus measured output):
power on its way is not asked for twice, so a ramp-limited unit does not make
the integral wind up. ``R`` is shared by participation factors, each unit
within its limits (:func:`allocate_regulation`); what a unit at a limit
cannot take goes to the others. The balancing unit then carries the losses
and the imbalance only until the regulating units have moved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def plant_basepoints(generator_mw: Mapping[str, float], offers: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Plant -> basepoint (MW): the SCED MW of the plant's offers (``offers``: plant -> offer names)."""
    return {plant: float(sum(generator_mw.get(name, 0.0) for name in names)) for plant, names in offers.items()}


def area_control_error(balancing_output_mw: float, balancing_schedule_mw: float) -> float:
    """ACE in MW: the balancing unit's measured output minus its schedule (+: the area under-generates)."""
    return balancing_output_mw - balancing_schedule_mw


@dataclass(frozen=True)
class RegulatingUnit:
    """A unit that follows the regulation signal: its participation factor, basepoint and limits (MW)."""

    plant: str
    participation: float
    basepoint_mw: float
    p_min_mw: float
    p_max_mw: float

    @property
    def down_mw(self) -> float:
        """Regulation it can give downwards (>= 0)."""
        return max(0.0, self.basepoint_mw - self.p_min_mw)

    @property
    def up_mw(self) -> float:
        """Regulation it can give upwards (>= 0)."""
        return max(0.0, self.p_max_mw - self.basepoint_mw)


def regulation_request(previous_mw: float, ace_mw: float, pending_mw: float, gain: float) -> float:
    """The next total regulation (MW): integral of the ACE not already on its way."""
    return previous_mw + gain * (ace_mw - pending_mw)


def allocate_regulation(total_mw: float, units: Sequence[RegulatingUnit]) -> dict[str, float]:
    """Share ``total_mw`` by participation factors within each unit's room; what cannot be placed is dropped.

    Water-filling: units that would pass a limit are held at it and the rest
    is shared again among the others in proportion to their factors, so the
    result is the proportional share whenever no limit binds.
    """
    result = {u.plant: 0.0 for u in units}
    room = {u.plant: (u.up_mw if total_mw >= 0 else u.down_mw) for u in units}
    free = [u for u in units if u.participation > 0 and room[u.plant] > 0]
    left = abs(total_mw)
    while free and left > 0:
        weight = sum(u.participation for u in free)
        capped = [u for u in free if left * u.participation / weight >= room[u.plant]]
        if not capped:
            for u in free:
                result[u.plant] = left * u.participation / weight
            left = 0.0
            break
        for u in capped:
            result[u.plant] = room[u.plant]
            left -= room[u.plant]
        free = [u for u in free if u not in capped]
    sign = 1.0 if total_mw >= 0 else -1.0
    return {plant: sign * mw for plant, mw in result.items()}
