"""Capacitor bank controller: voltage or VAR control with bandwidth, time delay and anti-hunting.

The usual switched-capacitor control on distribution feeders: the controller
compares one measurement with a band around a setpoint and switches the bank
after the measurement has stayed outside the band for ``time_delay_s``, never
sooner than ``min_switching_interval_s`` after its previous switching (the
bank must discharge before it may be re-energised, and every operation wears
the switch; ``switching_count`` is kept for that reason).

* VOLTAGE mode (volts or per unit, the caller's choice): bank in when the
  voltage is below ``setpoint - bandwidth/2``, out when above ``setpoint + bandwidth/2``.
* VAR mode (kvar drawn from the source, positive lagging): bank in when the
  reactive flow is above ``setpoint + bandwidth/2``, out when below
  ``setpoint - bandwidth/2``. The bandwidth must exceed the bank size or the
  control hunts.

Times are simulated seconds; the measurement given at ``step`` holds until the
next step.
"""

from __future__ import annotations

import dataclasses
import enum
import math

from devices.intents import Intent, SwitchCapacitor


class ControlMode(enum.Enum):
    VOLTAGE = "voltage"
    VAR = "var"


@dataclasses.dataclass(frozen=True)
class CapacitorControlSettings:
    mode: ControlMode
    setpoint: float
    bandwidth: float
    time_delay_s: float = 30.0
    min_switching_interval_s: float = 300.0

    def __post_init__(self) -> None:
        if self.bandwidth <= 0 or self.time_delay_s < 0 or self.min_switching_interval_s < 0:
            raise ValueError("bandwidth must be > 0 and the delays >= 0")


class CapacitorController:
    """Switching logic of one bank ``bank_id``; ``closed`` is the state it last commanded."""

    def __init__(self, bank_id: str, settings: CapacitorControlSettings, *, closed: bool = False) -> None:
        self.bank_id = bank_id
        self.settings = settings
        self.closed = closed
        self.switching_count = 0
        self.last_switching_s = -math.inf
        self._wanted_since_s: float | None = None  # when the measurement left the band towards a switching

    def step(self, time_s: float, measurement: float) -> list[Intent]:
        """Take a measurement at simulated ``time_s``; return a ``SwitchCapacitor`` when one is due."""
        intents: list[Intent] = []
        if self._wanted_since_s is not None and time_s >= self._due_s():
            self.closed = not self.closed
            self.switching_count += 1
            self.last_switching_s = self._due_s()
            self._wanted_since_s = None
            intents.append(SwitchCapacitor(self.bank_id, self.closed))
        if self._wants_switching(measurement):
            if self._wanted_since_s is None:
                self._wanted_since_s = time_s
        else:
            self._wanted_since_s = None
        return intents

    def next_event_time_s(self) -> float:
        """When the bank will switch if the measurement stays as last given; ``inf`` if not."""
        return self._due_s() if self._wanted_since_s is not None else math.inf

    def _due_s(self) -> float:
        assert self._wanted_since_s is not None
        return max(
            self._wanted_since_s + self.settings.time_delay_s,
            self.last_switching_s + self.settings.min_switching_interval_s,
        )

    def _wants_switching(self, measurement: float) -> bool:
        settings = self.settings
        low = settings.setpoint - settings.bandwidth / 2
        high = settings.setpoint + settings.bandwidth / 2
        if settings.mode is ControlMode.VOLTAGE:
            return measurement > high if self.closed else measurement < low
        return measurement < low if self.closed else measurement > high
