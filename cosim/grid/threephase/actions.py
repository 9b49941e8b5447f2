"""The grid's typed actions, applied to a three-phase :class:`Feeder`.

The same action classes as the balanced layer (:mod:`cosim.grid.actions`),
so a device that sheds load, opens a switch, steps a capacitor or moves a
regulator tap does not care which solver sits behind the grid. Their meaning
on a feeder:

* :class:`SetLoad` / :class:`ScaleLoad`: MW and Mvar of the whole load,
  split over its phases as before (``q_mvar`` None keeps the power factor).
* :class:`SetLoadInService`, :class:`SetSwitch` (a ``Line`` with ``Switch=yes``),
  :class:`SetBranchInService` (any line).
* :class:`SetShuntStep`: a capacitor bank, step 0 (off) or 1 (on).
* :class:`SetTap`: a transformer's tap ratio (pu) on its regulated winding
  (the ``RegControl``'s winding, else the second winding); phase shifts are
  not taps on a feeder and raise ``ValueError``.

:func:`apply_feeder_action` is pure (a new feeder, never an edit). Raises
``KeyError`` for an unknown element, ``ValueError`` for a value outside range,
``TypeError`` for an action that has no meaning on a feeder (generator and
DER setpoints: a feeder has neither yet).
"""

from __future__ import annotations

from dataclasses import replace

from cosim.grid.actions import (
    Change,
    NetworkAction,
    ScaleLoad,
    SetBranchInService,
    SetLoad,
    SetLoadInService,
    SetShuntStep,
    SetSwitch,
    SetTap,
)
from cosim.grid.threephase.elements import Feeder


def _set(items: tuple, i: int, **changes: object) -> tuple:  # type: ignore[type-arg]
    out = list(items)
    out[i] = replace(out[i], **changes)
    return tuple(out)


def regulated_winding(feeder: Feeder, transformer: str) -> int:
    """Position (0-based) of the winding a transformer's taps are on."""
    for reg in feeder.regulators:
        if reg.transformer == transformer.lower():
            return reg.winding - 1
    return 1


def apply_feeder_action(feeder: Feeder, action: NetworkAction) -> tuple[Feeder, Change]:
    """New feeder after ``action`` and what it invalidates (see :class:`Change`)."""
    if isinstance(action, SetLoad):
        i = feeder.index("loads", action.load)
        ld = feeder.loads[i]
        kw = action.p_mw * 1000.0
        if action.q_mvar is not None:
            kvar = action.q_mvar * 1000.0
        else:
            kvar = ld.kvar * kw / ld.kw if ld.kw != 0 else ld.kvar
        return replace(feeder, loads=_set(feeder.loads, i, kw=kw, kvar=kvar)), Change.INJECTION
    if isinstance(action, ScaleLoad):
        f = action.factor
        if action.load is None:
            loads = tuple(replace(ld, kw=ld.kw * f, kvar=ld.kvar * f) for ld in feeder.loads)
            return replace(feeder, loads=loads), Change.INJECTION
        i = feeder.index("loads", action.load)
        ld = feeder.loads[i]
        return (replace(feeder, loads=_set(feeder.loads, i, kw=ld.kw * f, kvar=ld.kvar * f)),
                Change.INJECTION)
    if isinstance(action, SetLoadInService):
        i = feeder.index("loads", action.load)
        # A load's rated admittance sits in the nodal matrix: refactorise.
        return (replace(feeder, loads=_set(feeder.loads, i, in_service=action.in_service)),
                Change.ADMITTANCE)
    if isinstance(action, SetSwitch):
        i = feeder.index("lines", action.switch)
        if not feeder.lines[i].is_switch:
            raise KeyError(f"line {action.switch!r} is not a switch")
        return replace(feeder, lines=_set(feeder.lines, i, closed=action.closed)), Change.TOPOLOGY
    if isinstance(action, SetBranchInService):
        i = feeder.index("lines", action.branch)
        return (replace(feeder, lines=_set(feeder.lines, i, closed=action.in_service)),
                Change.TOPOLOGY)
    if isinstance(action, SetShuntStep):
        i = feeder.index("capacitors", action.shunt)
        if action.step not in (0, 1):
            raise ValueError(f"capacitor {action.shunt!r}: step {action.step} outside 0..1")
        return (replace(feeder, capacitors=_set(feeder.capacitors, i, in_service=action.step == 1)),
                Change.ADMITTANCE)
    if isinstance(action, SetTap):
        i = feeder.index("transformers", action.branch)
        if action.shift_deg not in (None, 0.0):
            raise ValueError("a feeder transformer has no phase-shift tap")
        if action.tap_ratio is None:
            return feeder, Change.NONE
        if action.tap_ratio <= 0:
            raise ValueError(f"tap ratio must be > 0 pu, got {action.tap_ratio}")
        xf = feeder.transformers[i]
        w = regulated_winding(feeder, xf.name)
        windings = _set(xf.windings, w, tap=action.tap_ratio)
        return (replace(feeder, transformers=_set(feeder.transformers, i, windings=windings)),
                Change.ADMITTANCE)
    raise TypeError(f"not an action on a three-phase feeder: {action!r}")
