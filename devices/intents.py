"""Action intents: what device logic asks the grid to do, before anyone does it.

Protection and control state machines return these frozen dataclasses; the
device layer translates them into the electrical layer's typed actions (and
records them). Keeping them separate means the logic is testable without a
grid, and a device that is, say, out of service can drop an intent visibly.
Identifiers are the grid element ids the scenario gives the device.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class TripBreaker:
    """Open the interrupter ``breaker_id`` (relay trip, recloser trip, remote trip)."""

    breaker_id: str


@dataclasses.dataclass(frozen=True)
class CloseBreaker:
    """Close the interrupter ``breaker_id`` (reclose, remote close)."""

    breaker_id: str


@dataclasses.dataclass(frozen=True)
class OpenSwitch:
    """Open the load-break switch ``switch_id`` (a sectionalizer opens only while de-energised)."""

    switch_id: str


@dataclasses.dataclass(frozen=True)
class CloseSwitch:
    """Close the load-break switch ``switch_id`` (remote close after repair)."""

    switch_id: str


@dataclasses.dataclass(frozen=True)
class SwitchCapacitor:
    """Put capacitor bank ``bank_id`` in service (``closed=True``) or take it out."""

    bank_id: str
    closed: bool


@dataclasses.dataclass(frozen=True)
class DispatchUnit:
    """Move generating unit ``generator_id`` to ``p_mw`` (a plant controller's ramp-limited set-point)."""

    generator_id: str
    p_mw: float


@dataclasses.dataclass(frozen=True)
class SetUnitOnline:
    """Put generating unit ``generator_id`` in service (``online=True``) or take it off line."""

    generator_id: str
    online: bool


@dataclasses.dataclass(frozen=True)
class SetAvailablePower:
    """The resource of renewable plant ``der_id`` (wind, sun) now allows ``p_mw``."""

    der_id: str
    p_mw: float


@dataclasses.dataclass(frozen=True)
class CapPlantOutput:
    """Hold renewable plant ``der_id`` at or below ``p_limit_mw`` (None: no cap)."""

    der_id: str
    p_limit_mw: float | None


Intent = (TripBreaker | CloseBreaker | OpenSwitch | CloseSwitch | SwitchCapacitor | DispatchUnit | SetUnitOnline
          | SetAvailablePower | CapPlantOutput)
"""Every intent a device state machine can emit."""
