"""Step-voltage regulator control logic: band, time delay and line-drop compensation, one tap at a time.

The control of an ANSI C57.15 type B regulator (W. H. Kersting, *Distribution
System Modeling and Analysis*, ch. 7) compares a **relay voltage** with a
band: the regulated voltage brought to a 120 V base by the potential
transformer, minus the drop the line-drop compensator reproduces from the
line current through the current transformer::

    V_relay = |V_ln / pt_ratio - (R + jX) * I_line / ct_primary_a|   (volts, R and X in volts at CT rated current)

When ``V_relay`` leaves ``band_centre_v +- bandwidth_v / 2`` a timer starts;
if it is still outside after ``time_delay_s`` the tap moves one step (5/8 %)
toward the band, and further steps follow every ``tap_delay_s`` while it
stays outside (OpenDSS's ``Delay`` and ``TapDelay``). Coming back into the
band resets the timer. Tap limits hold it at +-``max_step``. In manual mode
the control does nothing: taps move only on command.

Pure logic: no grid, no registers, times are simulated seconds given by the
caller.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


class RegulatorMode(enum.Enum):
    MANUAL = 0
    AUTO = 1


@dataclass(frozen=True)
class RegulatorSettings:
    """A regulator control's settings, in the units of its front panel (volts on the 120 V base)."""

    mode: RegulatorMode
    band_centre_v: float
    bandwidth_v: float
    time_delay_s: float
    tap_delay_s: float
    ldc_r_v: float
    ldc_x_v: float
    pt_ratio: float
    ct_primary_a: float
    tap_step_pu: float = 0.00625  # 5/8 % per step: 32 steps over +-10 %
    max_step: int = 16

    def __post_init__(self) -> None:
        if not (self.bandwidth_v > 0 and self.pt_ratio > 0 and self.ct_primary_a > 0 and self.tap_step_pu > 0):
            raise ValueError("bandwidth, PT ratio, CT primary and tap step must be > 0")
        if self.time_delay_s < 0 or self.tap_delay_s < 0:
            raise ValueError("time delays must be >= 0 s")


def relay_voltage_v(settings: RegulatorSettings, v_ln_v: complex, i_line_a: complex) -> float:
    """The compensated voltage the control compares with its band, volts on the PT secondary.

    ``v_ln_v``: the regulated winding's voltage (phase to neutral, volts);
    ``i_line_a``: the current leaving the regulator toward the load (amperes),
    both as phasors on the same reference.
    """
    z = complex(settings.ldc_r_v, settings.ldc_x_v)
    return abs(v_ln_v / settings.pt_ratio - z * i_line_a / settings.ct_primary_a)


def tap_step(ratio: float, settings: RegulatorSettings) -> int:
    """Tap position (steps from neutral) of a ratio, to the nearest step."""
    return int(round((ratio - 1.0) / settings.tap_step_pu))


class RegulatorController:
    """Timers and tap decisions of one regulator control; :meth:`step` is called whenever it is woken."""

    def __init__(self, settings: RegulatorSettings, step: int = 0) -> None:
        self.settings = settings
        self.step_position = step
        self._due_s = math.inf  # when the next tap change falls due while out of band
        self.operations = 0

    def in_band(self, v_relay: float) -> bool:
        s = self.settings
        return abs(v_relay - s.band_centre_v) <= s.bandwidth_v / 2

    def step(self, now: float, v_relay: float) -> int:
        """The tap change (-1, 0 or +1 step) due at ``now`` for relay voltage ``v_relay``."""
        s = self.settings
        if s.mode is RegulatorMode.MANUAL or self.in_band(v_relay):
            self._due_s = math.inf
            return 0
        direction = 1 if v_relay < s.band_centre_v else -1
        target = self.step_position + direction
        if abs(target) > s.max_step:
            self._due_s = math.inf  # at its end stop: stays there
            return 0
        if math.isinf(self._due_s):
            self._due_s = now + s.time_delay_s
        if now < self._due_s:
            return 0
        self.step_position = target
        self.operations += 1
        self._due_s = now + s.tap_delay_s
        return direction

    def next_event_time_s(self) -> float:
        """When a pending tap change falls due (inf when none is pending)."""
        return self._due_s

    def ratio(self) -> float:
        return 1.0 + self.step_position * self.settings.tap_step_pu


__all__ = ["RegulatorController", "RegulatorMode", "RegulatorSettings", "relay_voltage_v", "tap_step"]
