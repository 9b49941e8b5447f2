"""Typed actions: the only way anything outside ``cosim.grid`` changes the network.

Each action is a frozen dataclass naming its element by string id.
:func:`apply_action` is pure: it returns a new :class:`Network` (arrays are
copied, never modified in place) and the kind of :class:`Change`, which tells
a service what must be recomputed (only injections, or also the admittance
matrix and islands).

Faults (:class:`ApplyFault`, :class:`ClearFault`) do not change the network;
the grid service keeps the active fault and answers measurements with the
faulted state until it is cleared.

Raises ``KeyError`` for an unknown element name and ``ValueError`` for an
out-of-range value (a shunt step beyond its bank, a non-positive tap): those
are errors of the caller, not of the simulated grid.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any, Union

import numpy as np

from cosim.grid.network import Network


class Change(enum.Enum):
    """What an action invalidates, from cheapest to dearest."""

    NONE = 0
    INJECTION = 1  # load, generator or DER output: re-solve with the same Ybus
    ADMITTANCE = 2  # tap or shunt step: rebuild Ybus
    TOPOLOGY = 3  # switch, branch or generator status: re-islanding and Ybus
    FAULT = 4  # fault applied or cleared: fault study only


@dataclass(frozen=True)
class SetLoad:
    """Set a load to ``p_mw`` (and ``q_mvar``; kept at the old power factor if None)."""

    load: str
    p_mw: float
    q_mvar: float | None = None


@dataclass(frozen=True)
class ScaleLoad:
    """Multiply P and Q of one load (or every load when ``load`` is None) by ``factor``."""

    factor: float
    load: str | None = None


@dataclass(frozen=True)
class SetLoadInService:
    """Connect or disconnect a load (e.g. a customer's main breaker)."""

    load: str
    in_service: bool


@dataclass(frozen=True)
class SetSwitch:
    """Open (``closed=False``) or close a switch or breaker."""

    switch: str
    closed: bool


@dataclass(frozen=True)
class SetBranchInService:
    """Take a line or transformer out of service, or back in."""

    branch: str
    in_service: bool


@dataclass(frozen=True)
class SetGeneratorSetpoint:
    """Change a generator's active power (MW), voltage setpoint (pu) or status."""

    generator: str
    p_mw: float | None = None
    vm_pu: float | None = None
    in_service: bool | None = None


@dataclass(frozen=True)
class SetDerOutput:
    """Change a DER's available/commanded P (MW), Q (Mvar) or curtailment cap (MW).

    ``p_limit_mw=float('inf')`` lifts a curtailment.
    """

    der: str
    p_mw: float | None = None
    q_mvar: float | None = None
    p_limit_mw: float | None = None
    in_service: bool | None = None


@dataclass(frozen=True)
class CurtailDer:
    """Cap a DER's active output at ``p_limit_mw`` (None lifts the cap)."""

    der: str
    p_limit_mw: float | None


@dataclass(frozen=True)
class SetShuntStep:
    """Switch a capacitor bank / shunt to ``step`` of its ``max_step`` steps (0 = off)."""

    shunt: str
    step: int


@dataclass(frozen=True)
class SetTap:
    """Set a transformer's off-nominal ratio (pu) and/or phase shift (degrees)."""

    branch: str
    tap_ratio: float | None = None
    shift_deg: float | None = None


class FaultType(enum.Enum):
    """The shunt fault kinds; the value is what a scenario writes (``params.type``)."""

    THREE_PHASE = "three_phase"
    SLG = "slg"  # single line to ground
    LL = "ll"  # line to line
    LLG = "llg"  # double line to ground

    @property
    def sequence_kind(self) -> str:
        """The kind's name in :mod:`cosim.grid.sequence` (``"3ph"``, ``"SLG"``, ``"LL"``, ``"LLG"``)."""
        return {"three_phase": "3ph", "slg": "SLG", "ll": "LL", "llg": "LLG"}[self.value]

    @property
    def phase_count(self) -> int:
        """How many phases the fault involves (3 for a three-phase fault)."""
        return {"three_phase": 3, "slg": 1, "ll": 2, "llg": 2}[self.value]


_DEFAULT_PHASES = {FaultType.THREE_PHASE: (1, 2, 3), FaultType.SLG: (1,), FaultType.LL: (2, 3),
                   FaultType.LLG: (2, 3)}


@dataclass(frozen=True)
class ApplyFault:
    """A shunt fault at a bus, or along a line at ``fraction`` (0..1 from the from-bus).

    ``fault_type`` is three-phase (default), SLG, LL or LLG; ``phases`` the
    faulted phases (1, 2, 3 = a, b, c): one for SLG (default a), two for LL
    and LLG (default b, c), all three (the default) for a three-phase fault.
    ``r_fault_ohm + j x_fault_ohm`` is the fault impedance in series with
    each faulted phase (IEC 60909's ``Z_F``; for LL the phases are joined
    through twice it).
    """

    bus: str | None = None
    branch: str | None = None
    fraction: float = 0.5
    r_fault_ohm: float = 0.0
    x_fault_ohm: float = 0.0
    fault_type: FaultType = FaultType.THREE_PHASE
    phases: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if (self.bus is None) == (self.branch is None):
            raise ValueError("ApplyFault needs exactly one of bus or branch")
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fault fraction must be in [0, 1], got {self.fraction}")
        if not isinstance(self.fault_type, FaultType):
            object.__setattr__(self, "fault_type", FaultType(self.fault_type))
        if self.phases is None:
            object.__setattr__(self, "phases", _DEFAULT_PHASES[self.fault_type])
        phases = tuple(self.phases or ())
        if (len(phases) != self.fault_type.phase_count or len(set(phases)) != len(phases)
                or not set(phases) <= {1, 2, 3}):
            raise ValueError(f"a {self.fault_type.value} fault needs {self.fault_type.phase_count} distinct "
                             f"phases among 1, 2, 3, got {phases}")
        object.__setattr__(self, "phases", tuple(sorted(phases)))

    @property
    def reference_phase(self) -> int:
        """The phase (0, 1, 2 = a, b, c) the sequence formulas take as reference: the faulted one of an
        SLG, the healthy one of an LL or LLG, a for a three-phase fault."""
        phases = self.phases or (1, 2, 3)
        if self.fault_type is FaultType.SLG:
            return phases[0] - 1
        if self.fault_type in (FaultType.LL, FaultType.LLG):
            return ({1, 2, 3} - set(phases)).pop() - 1
        return 0


@dataclass(frozen=True)
class ClearFault:
    """Remove the active fault (the fault arc is extinguished)."""


NetworkAction = Union[SetLoad, ScaleLoad, SetLoadInService, SetSwitch, SetBranchInService,
                      SetGeneratorSetpoint, SetDerOutput, CurtailDer, SetShuntStep, SetTap]
Action = Union[NetworkAction, ApplyFault, ClearFault]


def _with(table: Any, idx: int | slice, **columns: Any) -> Any:
    """Copy of ``table`` with ``columns`` set at ``idx`` (None values are skipped)."""
    updates = {}
    for column, value in columns.items():
        if value is None:
            continue
        arr = getattr(table, column).copy()
        arr[idx] = value
        updates[column] = arr
    return replace(table, **updates)


def apply_action(network: Network, action: NetworkAction) -> tuple[Network, Change]:
    """New network after ``action``, and what it invalidates."""
    if isinstance(action, SetLoad):
        ld = network.loads
        i = ld.index(action.load)
        q = action.q_mvar
        if q is None:
            q = ld.q_mvar[i] * action.p_mw / ld.p_mw[i] if ld.p_mw[i] != 0 else ld.q_mvar[i]
        return replace(network, loads=_with(ld, i, p_mw=action.p_mw, q_mvar=q)), Change.INJECTION
    if isinstance(action, ScaleLoad):
        ld = network.loads
        idx: int | slice = slice(None) if action.load is None else ld.index(action.load)
        return replace(network, loads=_with(ld, idx, p_mw=ld.p_mw[idx] * action.factor,
                                            q_mvar=ld.q_mvar[idx] * action.factor)), Change.INJECTION
    if isinstance(action, SetLoadInService):
        ld = network.loads
        return (replace(network, loads=_with(ld, ld.index(action.load), in_service=action.in_service)),
                Change.INJECTION)
    if isinstance(action, SetSwitch):
        sw = network.switches
        return (replace(network, switches=_with(sw, sw.index(action.switch), closed=action.closed)),
                Change.TOPOLOGY)
    if isinstance(action, SetBranchInService):
        br = network.branches
        return (replace(network, branches=_with(br, br.index(action.branch),
                                                in_service=action.in_service)), Change.TOPOLOGY)
    if isinstance(action, SetGeneratorSetpoint):
        gen = network.generators
        i = gen.index(action.generator)
        if action.vm_pu is not None and action.vm_pu <= 0:
            raise ValueError(f"generator voltage setpoint must be > 0 pu, got {action.vm_pu}")
        status_change = (action.in_service is not None
                         and bool(action.in_service) != bool(gen.in_service[i]))
        new = _with(gen, i, p_mw=action.p_mw, vm_setpoint_pu=action.vm_pu,
                    in_service=action.in_service)
        return (replace(network, generators=new),
                Change.TOPOLOGY if status_change else Change.INJECTION)
    if isinstance(action, SetDerOutput):
        der = network.ders
        new = _with(der, der.index(action.der), p_mw=action.p_mw, q_mvar=action.q_mvar,
                    p_limit_mw=action.p_limit_mw, in_service=action.in_service)
        return replace(network, ders=new), Change.INJECTION
    if isinstance(action, CurtailDer):
        der = network.ders
        cap = np.inf if action.p_limit_mw is None else action.p_limit_mw
        return (replace(network, ders=_with(der, der.index(action.der), p_limit_mw=cap)),
                Change.INJECTION)
    if isinstance(action, SetShuntStep):
        sh = network.shunts
        i = sh.index(action.shunt)
        if not 0 <= action.step <= sh.max_step[i]:
            raise ValueError(f"shunt {action.shunt!r}: step {action.step} outside 0..{sh.max_step[i]}")
        return replace(network, shunts=_with(sh, i, step=action.step)), Change.ADMITTANCE
    if isinstance(action, SetTap):
        br = network.branches
        i = br.index(action.branch)
        if action.tap_ratio is not None and action.tap_ratio <= 0:
            raise ValueError(f"tap ratio must be > 0 pu, got {action.tap_ratio}")
        return (replace(network, branches=_with(br, i, tap_ratio=action.tap_ratio,
                                                shift_deg=action.shift_deg)), Change.ADMITTANCE)
    raise TypeError(f"not a network action: {action!r}")
