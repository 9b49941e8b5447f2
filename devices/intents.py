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


Intent = TripBreaker | CloseBreaker | OpenSwitch | CloseSwitch | SwitchCapacitor
"""Every intent a device state machine can emit."""
