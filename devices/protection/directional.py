"""Directional supervision (ANSI 67, 67N, 67Q): forward or reverse from the angle between an operating current and its polarising voltage.

A directional element compares the operating current ``I_op`` with a
polarising voltage ``V_pol`` (the classic torque comparator of an
induction-cup or numerical directional unit):

    T = |V_pol| |I_op| cos(angle(I_op) - angle(V_pol) + MTA)

forward when T > 0, reverse when T < 0. The maximum torque angle ``MTA``
is how many degrees the current of a forward fault **lags** its polarising
voltage: about the angle of the source impedance behind the relay for the
sequence quantities, the line impedance angle for phase elements.

Quantities, all seen by a relay whose CT points into the protected line:

* phase (67): ``I1`` against ``V1``: a forward fault draws I1 lagging V1 by
  the line angle (MTA 60-80 deg);
* ground (67N): ``3I0`` against ``-3V0``: at the relay, ``V0 = -Z0s I0``
  with ``Z0s`` the zero-sequence source impedance behind it, so a forward
  fault's I0 lags ``-V0`` by the angle of ``Z0s`` (MTA 60-90 deg); a
  reverse fault reverses I0;
* negative sequence (67Q): ``3I2`` against ``-3V2``, the same reasoning on
  the negative-sequence network.

Below ``min_polarising_v`` the direction is unknown and a directional
element does not operate (there is no memory polarisation here: a close-in
three-phase fault that collapses V1 blocks a 67 phase element; the ground
and negative-sequence elements are the ones to rely on for earth faults).
"""

from __future__ import annotations

import cmath
import dataclasses
import enum
import math


class Direction(enum.Enum):
    """What a directional setting allows; the value is its register code."""

    NON_DIRECTIONAL = 0
    FORWARD = 1
    REVERSE = 2


@dataclasses.dataclass(frozen=True)
class DirectionalSettings:
    """Direction an element operates for, its maximum torque angle (degrees lag) and the least polarising voltage."""

    direction: Direction = Direction.NON_DIRECTIONAL
    mta_deg: float = 60.0
    min_polarising_v: float = 0.0

    def __post_init__(self) -> None:
        if not -180.0 <= self.mta_deg <= 180.0:
            raise ValueError(f"maximum torque angle must be within +-180 deg, got {self.mta_deg}")
        if self.min_polarising_v < 0:
            raise ValueError(f"minimum polarising voltage must be >= 0 V, got {self.min_polarising_v}")


def torque(operating: complex, polarising: complex, mta_deg: float) -> float:
    """``|V||I| cos(angle(I) - angle(V) + MTA)``: positive forward, negative reverse (see module doc)."""
    return float((operating * polarising.conjugate() * cmath.exp(1j * math.radians(mta_deg))).real)


def looking(operating: complex, polarising: complex, settings: DirectionalSettings) -> Direction | None:
    """FORWARD or REVERSE for this current and polarising voltage; None when the voltage is too small
    to polarise or there is no current (direction unknown)."""
    if abs(polarising) <= settings.min_polarising_v or abs(polarising) == 0.0 or operating == 0:
        return None
    t = torque(operating, polarising, settings.mta_deg)
    if t == 0.0:
        return None
    return Direction.FORWARD if t > 0 else Direction.REVERSE


def permits(operating: complex, polarising: complex, settings: DirectionalSettings) -> bool:
    """True when an element with these settings may operate on this current."""
    if settings.direction is Direction.NON_DIRECTIONAL:
        return True
    return looking(operating, polarising, settings) is settings.direction
