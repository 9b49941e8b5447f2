"""Sectionalizer counter: counts upstream interruptions, opens in the dead time after N.

A sectionalizer cannot interrupt fault current (IEEE C37.63-2013 defines it as
a self-contained circuit-opening device that opens while the circuit is
de-energised after a set number of counts). A count is one upstream
interruption: current above the actuating level, then the line de-energised
(current below ``dead_current_a``). On the N-th count it opens at once, while
the upstream recloser is still open, so the recloser's next reclose restores
the unfaulted part of the feeder. Counts are forgotten ``reset_time_s`` after
the last count if no fault current is flowing.

Times are simulated seconds; the current given at ``step`` holds until the
next step. The device senses current only (no voltage input).
"""

from __future__ import annotations

import dataclasses
import math

from devices.intents import CloseSwitch, Intent, OpenSwitch


@dataclasses.dataclass(frozen=True)
class SectionalizerSettings:
    """Counts to open, actuating (fault) current, de-energised threshold, memory (reset) time."""

    counts_to_open: int
    actuating_current_a: float
    dead_current_a: float = 0.5
    reset_time_s: float = 30.0

    def __post_init__(self) -> None:
        if self.counts_to_open < 1:
            raise ValueError("counts_to_open must be >= 1")
        if not 0 < self.dead_current_a < self.actuating_current_a:
            raise ValueError("need 0 < dead_current_a < actuating_current_a")
        if self.reset_time_s <= 0:
            raise ValueError("reset_time_s must be > 0")


class Sectionalizer:
    """The counting logic of one sectionalizer operating ``switch_id``."""

    def __init__(self, switch_id: str, settings: SectionalizerSettings) -> None:
        self.switch_id = switch_id
        self.settings = settings
        self.count = 0
        self.is_open = False
        self.open_time_s: float | None = None
        self._armed = False  # fault current seen since the last count
        self._last_count_s = -math.inf

    def step(self, time_s: float, current_a: float) -> list[Intent]:
        """Take a current sample (primary amperes) at simulated ``time_s``; return intents."""
        if self.is_open:
            return []
        current = abs(current_a)
        if current > self.settings.actuating_current_a:
            self._armed = True
            return []
        if current < self.settings.dead_current_a and self._armed:
            self._armed = False
            self.count += 1
            self._last_count_s = time_s
            if self.count >= self.settings.counts_to_open:
                self.is_open = True
                self.open_time_s = time_s
                return [OpenSwitch(self.switch_id)]
            return []
        if self.count and not self._armed and time_s >= self._last_count_s + self.settings.reset_time_s:
            self.count = 0
        return []

    @property
    def armed(self) -> bool:
        """Fault current seen since the last count (the next dead line counts)."""
        return self._armed

    def next_event_time_s(self) -> float:
        """When the counts would be forgotten if nothing changes; ``inf`` if there are none."""
        if self.is_open or not self.count or self._armed:
            return math.inf
        return self._last_count_s + self.settings.reset_time_s

    def remote_close(self, time_s: float) -> list[Intent]:
        """Close by command after the fault is repaired; the counter starts from zero."""
        if not self.is_open:
            return []
        self.is_open = False
        self.count = 0
        self._armed = False
        return [CloseSwitch(self.switch_id)]
