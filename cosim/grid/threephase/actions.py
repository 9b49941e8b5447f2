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
* :class:`ApplyPhaseFault` (defined here: the balanced ``ApplyFault`` has no
  phases) places one fault; :class:`ClearFault` removes it. The faulted
  feeder is solved by the same power flow, loads keeping their laws.

:func:`apply_feeder_action` is pure (a new feeder, never an edit). Raises
``KeyError`` for an unknown element, ``ValueError`` for a value outside range,
``TypeError`` for an action that has no meaning on a feeder (generator and
DER setpoints: a feeder has neither yet).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cosim.grid.actions import (
    Change,
    ClearFault,
    NetworkAction,
    ScaleLoad,
    SetBranchInService,
    SetLoad,
    SetLoadInService,
    SetShuntStep,
    SetSwitch,
    SetTap,
)
from cosim.grid.threephase.elements import Fault, Feeder, Node


@dataclass(frozen=True)
class ApplyPhaseFault:
    """A fault at ``bus`` on ``phases`` (1, 2, 3 = a, b, c) through ``r_ohm`` per path.

    ``ground`` True: each listed phase to earth (SLG with one phase, LLG with
    two, three-phase-to-ground with three). False: between consecutive listed
    phases (LL with two; with three, a-b and b-c). A bolted fault is a small
    ``r_ohm`` (the default 0.0001 ohm is OpenDSS's).
    """

    bus: str
    phases: tuple[int, ...]
    ground: bool = True
    r_ohm: float = 0.0001

    def __post_init__(self) -> None:
        if not self.phases or len(set(self.phases)) != len(self.phases) \
                or not set(self.phases) <= {1, 2, 3}:
            raise ValueError(f"fault phases must be distinct among 1, 2, 3, got {self.phases}")
        if not self.ground and len(self.phases) < 2:
            raise ValueError("a fault clear of ground needs at least two phases")
        if not self.r_ohm > 0:
            raise ValueError(f"fault resistance must be > 0 ohm, got {self.r_ohm}")

    def as_fault(self) -> Fault:
        bus = self.bus.lower()
        if self.ground:
            return Fault("fault", tuple(Node(bus, k) for k in self.phases),
                         tuple(Node(bus, 0) for _ in self.phases), self.r_ohm)
        return Fault("fault", tuple(Node(bus, k) for k in self.phases[:-1]),
                     tuple(Node(bus, k) for k in self.phases[1:]), self.r_ohm)


FeederAction = NetworkAction | ApplyPhaseFault | ClearFault


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


def apply_feeder_action(feeder: Feeder, action: FeederAction) -> tuple[Feeder, Change]:
    """New feeder after ``action`` and what it invalidates (see :class:`Change`)."""
    if isinstance(action, ApplyPhaseFault):
        fault = action.as_fault()
        known = {nd.bus for ln in feeder.lines for nd in ln.bus1 + ln.bus2}
        known |= {nd.bus for xf in feeder.transformers for w in xf.windings for nd in w.terminal}
        if fault.bus1[0].bus not in known:
            raise KeyError(f"no bus {action.bus!r} in feeder {feeder.name!r}")
        # Faults, like switches, change which paths conduct: re-find energised nodes.
        return replace(feeder, faults=(fault,)), Change.TOPOLOGY
    if isinstance(action, ClearFault):
        if not feeder.faults:
            return feeder, Change.NONE
        return replace(feeder, faults=()), Change.TOPOLOGY
    if isinstance(action, SetLoad):
        i = feeder.index("loads", action.load)
        ld = feeder.loads[i]
        kw = float(action.p_mw) * 1000.0
        if action.q_mvar is not None:
            kvar = float(action.q_mvar) * 1000.0
        else:
            kvar = ld.kvar * kw / ld.kw if ld.kw != 0 else ld.kvar
        return replace(feeder, loads=_set(feeder.loads, i, kw=kw, kvar=kvar)), Change.INJECTION
    if isinstance(action, ScaleLoad):
        # A numpy scalar factor would make every kW a numpy scalar, and every later
        # use of the feeder's loads ten times slower than with Python floats.
        f = float(action.factor)
        if action.load is None:
            loads = tuple(ld.with_power(ld.kw * f, ld.kvar * f) for ld in feeder.loads)
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
