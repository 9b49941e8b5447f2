"""Recloser sequencer: fast and delayed trips, timed reclosures, lockout, reset.

The classic distribution scheme (reclosers per IEEE C37.60; reclosing terms as
in IEEE C37.104): the first ``fast_operations`` trips use the fast
curve to clear temporary faults before downstream fuses melt; the next
``delayed_operations`` trips use the delayed curve so downstream devices can
clear a permanent fault first. After the last trip the recloser stays open:
lockout. ``reclose_intervals_s[k]`` is the open (dead) time after trip k+1.
If the recloser stays closed without picking up for ``reset_time_s`` after a
reclose, the sequence starts again from the first fast trip.

All times are simulated seconds. The current given at ``step`` holds until
the next step; a device process should wake at ``next_event_time_s()`` so
trips and reclosures happen at their exact times.
"""

from __future__ import annotations

import dataclasses
import enum
import math

from devices.intents import CloseBreaker, Intent, TripBreaker
from devices.protection.overcurrent import TimeOvercurrentElement, TimeOvercurrentSettings


class RecloserState(enum.Enum):
    CLOSED = "closed"            # in service, timing any overcurrent
    RECLOSING = "reclosing"      # open, waiting for the reclose interval
    LOCKED_OUT = "locked_out"    # open after the last trip; needs a remote reset
    OPEN = "open"                # open by command (or after a lockout reset); waits for a remote close


@dataclasses.dataclass(frozen=True)
class RecloserSettings:
    """A reclosing sequence, e.g. 2 fast + 2 delayed with intervals (2 s, 5 s, 10 s)."""

    fast: TimeOvercurrentSettings
    delayed: TimeOvercurrentSettings
    fast_operations: int = 2
    delayed_operations: int = 2
    reclose_intervals_s: tuple[float, ...] = (2.0, 5.0, 10.0)
    reset_time_s: float = 30.0

    def __post_init__(self) -> None:
        if self.fast_operations < 0 or self.delayed_operations < 0 or self.operations_to_lockout < 1:
            raise ValueError("need at least one trip before lockout")
        if len(self.reclose_intervals_s) != self.operations_to_lockout - 1:
            raise ValueError(
                f"{self.operations_to_lockout} trips to lockout need {self.operations_to_lockout - 1} "
                f"reclose intervals, got {len(self.reclose_intervals_s)}"
            )
        if any(interval <= 0 for interval in self.reclose_intervals_s) or self.reset_time_s <= 0:
            raise ValueError("reclose intervals and the reset time must be > 0")

    @property
    def operations_to_lockout(self) -> int:
        return self.fast_operations + self.delayed_operations


class Recloser:
    """The sequencer of one recloser interrupting ``breaker_id``.

    ``operations`` counts trips in the current sequence; ``locked_out`` is the
    lockout signal (mirror it to a status point); ``lockout_time_s`` when it
    happened.
    """

    def __init__(self, breaker_id: str, settings: RecloserSettings) -> None:
        self.breaker_id = breaker_id
        self.settings = settings
        self.state = RecloserState.CLOSED
        self.operations = 0
        self.lockout_time_s: float | None = None
        self.last_trip_time_s: float | None = None
        self._element = TimeOvercurrentElement(self._next_curve())
        self._reclose_due_s = math.inf
        self._reset_due_s = math.inf
        self._above_pickup = False  # the last sample's current was above pickup

    @property
    def locked_out(self) -> bool:
        return self.state is RecloserState.LOCKED_OUT

    def step(self, time_s: float, current_a: float) -> list[Intent]:
        """Take a current sample (primary amperes) at simulated ``time_s``; return intents."""
        intents: list[Intent] = []
        self._above_pickup = self._picked_up(current_a)
        if self.state is RecloserState.RECLOSING and time_s >= self._reclose_due_s:
            reclose_time_s = self._reclose_due_s
            intents.append(self._close(reclose_time_s))
            self._reset_due_s = reclose_time_s + self.settings.reset_time_s
        if self.state is not RecloserState.CLOSED:
            return intents
        if self._element.step(time_s, current_a):
            intents.append(self._trip(self._element.trip_time_s or time_s))
        elif self.operations and time_s >= self._reset_due_s and not self._picked_up(current_a):
            # Reset time elapsed after a reclose: it was successful, the sequence starts over.
            self.operations = 0
            self._reset_due_s = math.inf
            self._element = TimeOvercurrentElement(self._next_curve())
            self._element.step(time_s, current_a)
        return intents

    def next_event_time_s(self) -> float:
        """Next reclose, trip or sequence reset if the current stays as last given; ``inf`` if none."""
        if self.state is RecloserState.RECLOSING:
            return self._reclose_due_s
        if self.state is RecloserState.CLOSED:
            # The sequence resets only below pickup: while picked up, a reset time already due is no
            # event (offering it would wake the device at the same instant again and again).
            reset_due = self._reset_due_s if self.operations and not self._above_pickup else math.inf
            return min(self._element.next_event_time_s(), reset_due)
        return math.inf

    def reset_lockout(self, time_s: float) -> list[Intent]:
        """Remote lockout reset: clear the sequence, stay open until ``remote_close``."""
        if self.state is RecloserState.LOCKED_OUT:
            self.state = RecloserState.OPEN
            self.operations = 0
        return []

    def remote_close(self, time_s: float) -> list[Intent]:
        """Close by command from ``OPEN`` (refused while locked out or already closed: no intents)."""
        if self.state is not RecloserState.OPEN:
            return []
        self.operations = 0
        self._reset_due_s = math.inf
        return [self._close(time_s)]

    def remote_trip(self, time_s: float) -> list[Intent]:
        """Open by command without reclosing."""
        if self.state in (RecloserState.CLOSED, RecloserState.RECLOSING):
            was_closed = self.state is RecloserState.CLOSED
            self.state = RecloserState.OPEN
            self._reclose_due_s = math.inf
            return [TripBreaker(self.breaker_id)] if was_closed else []
        return []

    def _picked_up(self, current_a: float) -> bool:
        return abs(current_a) > self._element.settings.pickup_a

    def _next_curve(self) -> TimeOvercurrentSettings:
        # With no fast operations (fuse blowing) even the first trip times on the delayed curve.
        return self.settings.fast if self.operations < self.settings.fast_operations else self.settings.delayed

    def _close(self, time_s: float) -> CloseBreaker:
        self.state = RecloserState.CLOSED
        self._reclose_due_s = math.inf
        self._element = TimeOvercurrentElement(self._next_curve())
        self._element.step(time_s, 0.0)
        return CloseBreaker(self.breaker_id)

    def _trip(self, trip_time_s: float) -> TripBreaker:
        self.operations += 1
        self.last_trip_time_s = trip_time_s
        self._reset_due_s = math.inf
        if self.operations >= self.settings.operations_to_lockout:
            self.state = RecloserState.LOCKED_OUT
            self.lockout_time_s = trip_time_s
        else:
            self.state = RecloserState.RECLOSING
            self._reclose_due_s = trip_time_s + self.settings.reclose_intervals_s[self.operations - 1]
        return TripBreaker(self.breaker_id)
