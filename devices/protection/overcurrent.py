"""Overcurrent protection: ANSI 50 (instantaneous) and 51 (inverse time) elements and a relay combining them.

The 51 element integrates like an induction disk (the operating-time integral
of IEEE C37.112-2018 for time-varying current): its travel grows at ``1 / t(M)`` per second above pickup and
it trips when the integral reaches 1, so a constant current trips at exactly
the curve time and a varying current at the time the standard's integral
gives. Below pickup the travel either resets at once or unwinds at
``1 / t_r(M)`` per second (the standard's electromechanical reset equation).

Sampling model: the current given at ``step(t, i)`` holds until the next
step (zero-order hold). Trips are timed at the exact crossing of the
integral, even if the next sample arrives later; a device process that wants
the trip at that instant asks ``next_event_time_s()`` and wakes then.
"""

from __future__ import annotations

import dataclasses
import enum
import math

from devices.intents import Intent, TripBreaker
from devices.protection.curves import TimeCurrentCurve

_TRAVEL_TOLERANCE = 1e-12  # integral within this of 1 counts as reached (floating point sums)


class ResetMode(enum.Enum):
    INSTANTANEOUS = "instantaneous"        # travel back to 0 as soon as M < 1 (most numerical relays)
    ELECTROMECHANICAL = "electromechanical"  # IEEE C37.112-2018 reset equation, t_r = TD*tr/(1-M^2)


@dataclasses.dataclass(frozen=True)
class TimeOvercurrentSettings:
    """Settings of a 51 element: pickup in primary amperes, curve, time dial (TD or TMS)."""

    pickup_a: float
    curve: TimeCurrentCurve
    time_dial: float = 1.0
    reset_mode: ResetMode = ResetMode.INSTANTANEOUS

    def __post_init__(self) -> None:
        if not self.pickup_a > 0 or not self.time_dial > 0:
            raise ValueError(f"pickup_a and time_dial must be > 0, got {self.pickup_a}, {self.time_dial}")
        if self.reset_mode is ResetMode.ELECTROMECHANICAL and self.curve.tr is None:
            raise ValueError(f"{self.curve.name} has no electromechanical reset characteristic")


class TimeOvercurrentElement:
    """ANSI 51: inverse-time overcurrent with induction-disk integration.

    ``travel`` is the integral of ``1/t(M)`` (0 at rest, 1 at trip).
    ``tripped`` is the trip output; it drops when the current falls below
    pickup. ``trip_time_s`` is the simulated time of the last trip.
    """

    def __init__(self, settings: TimeOvercurrentSettings) -> None:
        self.settings = settings
        self.travel = 0.0
        self.tripped = False
        self.trip_time_s: float | None = None
        self._time_s: float | None = None
        self._current_a = 0.0

    def step(self, time_s: float, current_a: float) -> bool:
        """Advance to ``time_s`` with the previous current held, then take ``current_a``.

        Returns True on the step where the trip output rises.
        """
        rising = False
        if self._time_s is not None:
            if time_s < self._time_s:
                raise ValueError(f"time went backwards: {time_s} < {self._time_s}")
            rising = self._integrate(self._time_s, time_s - self._time_s)
        self._time_s = time_s
        self._current_a = abs(current_a)
        if self._multiple() < 1.0:
            self.tripped = False
            if self.settings.reset_mode is ResetMode.INSTANTANEOUS:
                self.travel = 0.0
        return rising

    def next_event_time_s(self) -> float:
        """When the trip will happen if the current stays as last given; ``inf`` if never."""
        if self._time_s is None or self.tripped:
            return math.inf
        rate = self._rate_per_s(self._multiple())
        if rate <= 0.0:
            return math.inf
        return self._time_s + (1.0 - self.travel) / rate

    def _multiple(self) -> float:
        return self._current_a / self.settings.pickup_a

    def _rate_per_s(self, multiple: float) -> float:
        """d(travel)/dt: positive above pickup, negative while resetting, 0 otherwise."""
        settings = self.settings
        if multiple > 1.0:
            return 1.0 / settings.curve.operate_time_s(multiple, settings.time_dial)
        if multiple < 1.0 and settings.reset_mode is ResetMode.ELECTROMECHANICAL:
            return -1.0 / settings.curve.reset_time_s(multiple, settings.time_dial)
        return 0.0

    def _integrate(self, start_s: float, duration_s: float) -> bool:
        rate = self._rate_per_s(self._multiple())
        if rate > 0.0 and not self.tripped:
            remaining = 1.0 - self.travel
            # Also reached when the crossing instant is not representably later than the end of the
            # step: late in a long run, a few 1e-12 of travel are below the resolution of the clock.
            crossing_s = start_s + remaining / rate
            if rate * duration_s >= remaining - _TRAVEL_TOLERANCE or crossing_s <= start_s + duration_s:
                self.travel = 1.0
                self.tripped = True
                self.trip_time_s = min(crossing_s, start_s + duration_s)
                return True
        self.travel = min(1.0, max(0.0, self.travel + rate * duration_s))
        return False


@dataclasses.dataclass(frozen=True)
class InstantaneousSettings:
    """Settings of a 50 element: pickup in primary amperes and an optional definite delay."""

    pickup_a: float
    delay_s: float = 0.0


class InstantaneousElement:
    """ANSI 50: trips when the current has stayed above pickup for ``delay_s`` (0: at once)."""

    def __init__(self, settings: InstantaneousSettings) -> None:
        self.settings = settings
        self.tripped = False
        self.trip_time_s: float | None = None
        self._above_since_s: float | None = None

    def step(self, time_s: float, current_a: float) -> bool:
        """Take a sample; True on the step where the trip output rises."""
        rising = False
        if self._above_since_s is not None and not self.tripped:
            due = self._above_since_s + self.settings.delay_s
            if time_s >= due:
                self.tripped, self.trip_time_s, rising = True, due, True
        if abs(current_a) > self.settings.pickup_a:
            if self._above_since_s is None:
                self._above_since_s = time_s
                if self.settings.delay_s == 0.0:
                    self.tripped, self.trip_time_s, rising = True, time_s, True
        else:
            self._above_since_s = None
            self.tripped = False
        return rising

    def next_event_time_s(self) -> float:
        if self._above_since_s is None or self.tripped:
            return math.inf
        return self._above_since_s + self.settings.delay_s


class OvercurrentRelay:
    """A 50/51 relay tripping one breaker: ``TripBreaker`` once per rise of the combined trip output."""

    def __init__(
        self,
        breaker_id: str,
        time_overcurrent: TimeOvercurrentSettings | None = None,
        instantaneous: InstantaneousSettings | None = None,
    ) -> None:
        if time_overcurrent is None and instantaneous is None:
            raise ValueError("an overcurrent relay needs a 50 or a 51 element")
        self.breaker_id = breaker_id
        self.element_51 = TimeOvercurrentElement(time_overcurrent) if time_overcurrent else None
        self.element_50 = InstantaneousElement(instantaneous) if instantaneous else None
        self.trip_time_s: float | None = None
        self._tripped = False

    @property
    def tripped(self) -> bool:
        return self._tripped

    def step(self, time_s: float, current_a: float) -> list[Intent]:
        """Take a current sample (primary amperes) at simulated ``time_s``; return intents to act on."""
        elements = [e for e in (self.element_50, self.element_51) if e is not None]
        for element in elements:
            element.step(time_s, current_a)
        tripped = any(e.tripped for e in elements)
        rising = tripped and not self._tripped
        self._tripped = tripped
        if not rising:
            return []
        self.trip_time_s = min(e.trip_time_s for e in elements if e.tripped and e.trip_time_s is not None)
        return [TripBreaker(self.breaker_id)]

    def next_event_time_s(self) -> float:
        """Earliest time an element would trip if the current stayed as last given."""
        return min((e.next_event_time_s() for e in (self.element_50, self.element_51) if e), default=math.inf)
