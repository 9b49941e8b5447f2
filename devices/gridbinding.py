"""Intents to grid actions: the one place device logic meets ``cosim.grid``'s typed actions.

A device process forwards what its state machine returned through
:func:`grid_action` and hands the result to the grid service; the logic
itself never imports the electrical layer.

Capacitor banks are single-stage here: ``SwitchCapacitor(closed=True)`` sets
the shunt to step 1 (of a one-step bank), ``closed=False`` to step 0.
"""

from __future__ import annotations

from cosim.grid.actions import (
    CurtailDer,
    SetDerOutput,
    SetGeneratorSetpoint,
    SetShuntStep,
    SetSwitch,
)
from devices.intents import (
    CapPlantOutput,
    CloseBreaker,
    CloseSwitch,
    DispatchUnit,
    Intent,
    OpenSwitch,
    SetAvailablePower,
    SetUnitOnline,
    SwitchCapacitor,
    TripBreaker,
)

GridAction = SetSwitch | SetShuntStep | SetGeneratorSetpoint | SetDerOutput | CurtailDer


def grid_action(intent: Intent) -> GridAction:
    """The grid action that carries out ``intent``; raises TypeError for an unknown intent."""
    if isinstance(intent, TripBreaker):
        return SetSwitch(intent.breaker_id, closed=False)
    if isinstance(intent, CloseBreaker):
        return SetSwitch(intent.breaker_id, closed=True)
    if isinstance(intent, OpenSwitch):
        return SetSwitch(intent.switch_id, closed=False)
    if isinstance(intent, CloseSwitch):
        return SetSwitch(intent.switch_id, closed=True)
    if isinstance(intent, SwitchCapacitor):
        return SetShuntStep(intent.bank_id, 1 if intent.closed else 0)
    if isinstance(intent, DispatchUnit):
        return SetGeneratorSetpoint(intent.generator_id, p_mw=intent.p_mw)
    if isinstance(intent, SetUnitOnline):
        return SetGeneratorSetpoint(intent.generator_id, in_service=intent.online)
    if isinstance(intent, SetAvailablePower):
        return SetDerOutput(intent.der_id, p_mw=intent.p_mw)
    if isinstance(intent, CapPlantOutput):
        return CurtailDer(intent.der_id, intent.p_limit_mw)
    raise TypeError(f"no grid action for {intent!r}")
