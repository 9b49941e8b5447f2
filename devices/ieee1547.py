"""IEEE 1547-2018 response to abnormal voltage and frequency: trip, ride-through, cease to energise, enter service.

The tables below are the standard's default settings, as data:

* voltage trip (shall trip) -- Table 11 (Category I), 12 (II), 13 (III): OV2,
  OV1, UV1, UV2 thresholds in pu of nominal and clearing times;
* voltage ride-through -- Table 14 (I), 15 (II), 16 (III): the operating
  region of each voltage band (continuous, mandatory, permissive, momentary
  cessation, cease to energise) and its minimum ride-through time;
* frequency trip -- Table 18 (all categories): OF2, OF1, UF1, UF2, defaults
  for 60 Hz systems; for another nominal frequency the thresholds are scaled
  by f_nom / 60 (gridcosim's choice; the standard is written for 60 Hz);
* enter service -- 4.10.2, Table 4: voltage 0.917..1.05 pu, frequency
  59.5..60.1 Hz, delay 300 s, then active power ramped up over the enter-service
  period (300 s);
* volt-var open-loop response time -- Table 8: 10 s (Category A), 5 s (B).

:class:`AbnormalResponse` is the logic of one DER: it is fed measured voltage
(pu) and frequency (Hz) at simulated times and says whether the DER may
energise, whether it has tripped (and why), and when it must be stepped next
(a clearing time running out, an enter-service delay ending). Pure logic: no
grid, no registers, no clock of its own.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from types import MappingProxyType
from typing import Mapping


class AbnormalCategory(enum.Enum):
    """Abnormal operating performance category (IEEE 1547-2018, 4.3)."""

    I = "I"  # noqa: E741 -- the standard's name
    II = "II"
    III = "III"


class NormalCategory(enum.Enum):
    """Normal operating performance category (IEEE 1547-2018, 4.3): reactive power capability and volt-var."""

    A = "A"
    B = "B"


class Region(enum.Enum):
    """Operating region of a ride-through band (IEEE 1547-2018, 6.4.2.3 and Tables 14-16)."""

    CONTINUOUS = "continuous operation"
    MANDATORY = "mandatory operation"
    PERMISSIVE = "permissive operation"
    MOMENTARY_CESSATION = "momentary cessation"
    CEASE_TO_ENERGISE = "cease to energise"

    @property
    def energises(self) -> bool:
        """Whether the DER exchanges current in this region (permissive: gridcosim keeps operating)."""
        return self in (Region.CONTINUOUS, Region.MANDATORY, Region.PERMISSIVE)


@dataclasses.dataclass(frozen=True)
class TripSetting:
    """One shall-trip element: trip when the value stays beyond ``threshold`` for ``clearing_time_s``."""

    name: str  # OV2, OV1, UV1, UV2, OF2, OF1, UF1, UF2
    threshold: float  # pu of nominal voltage, or Hz at 60 Hz nominal
    clearing_time_s: float

    @property
    def over(self) -> bool:
        return self.name.startswith("O")

    @property
    def on_frequency(self) -> bool:
        return self.name[1] == "F"


@dataclasses.dataclass(frozen=True)
class RideThroughBand:
    """Voltage band ``low_pu <= V < high_pu`` (bounds as the table states them) and its region.

    ``time_s`` is the minimum ride-through time; ``slope_s_per_pu`` (Category I
    and II mandatory operation) makes it ``time_s + slope * (V - low_pu)``.
    """

    low_pu: float
    high_pu: float
    region: Region
    time_s: float = math.inf
    slope_s_per_pu: float = 0.0


# IEEE 1547-2018 Tables 11, 12, 13: DER response (shall trip) to abnormal voltages, default settings.
VOLTAGE_TRIP: Mapping[AbnormalCategory, tuple[TripSetting, ...]] = MappingProxyType({
    AbnormalCategory.I: (TripSetting("OV2", 1.20, 0.16), TripSetting("OV1", 1.10, 2.0),
                         TripSetting("UV1", 0.70, 2.0), TripSetting("UV2", 0.45, 0.16)),
    AbnormalCategory.II: (TripSetting("OV2", 1.20, 0.16), TripSetting("OV1", 1.10, 2.0),
                          TripSetting("UV1", 0.70, 10.0), TripSetting("UV2", 0.45, 0.16)),
    AbnormalCategory.III: (TripSetting("OV2", 1.20, 0.16), TripSetting("OV1", 1.10, 13.0),
                           TripSetting("UV1", 0.88, 21.0), TripSetting("UV2", 0.50, 2.0)),
})

_INF = math.inf
# IEEE 1547-2018 Tables 14, 15, 16: voltage ride-through requirements.
VOLTAGE_RIDE_THROUGH: Mapping[AbnormalCategory, tuple[RideThroughBand, ...]] = MappingProxyType({
    AbnormalCategory.I: (
        RideThroughBand(1.20, _INF, Region.CEASE_TO_ENERGISE),
        RideThroughBand(1.175, 1.20, Region.PERMISSIVE, 0.2),
        RideThroughBand(1.15, 1.175, Region.PERMISSIVE, 0.5),
        RideThroughBand(1.10, 1.15, Region.PERMISSIVE, 1.0),
        RideThroughBand(0.88, 1.10, Region.CONTINUOUS),
        RideThroughBand(0.70, 0.88, Region.MANDATORY, 0.7, 4.0),
        RideThroughBand(0.50, 0.70, Region.PERMISSIVE, 0.16),
        RideThroughBand(0.0, 0.50, Region.CEASE_TO_ENERGISE),
    ),
    AbnormalCategory.II: (
        RideThroughBand(1.20, _INF, Region.CEASE_TO_ENERGISE),
        RideThroughBand(1.175, 1.20, Region.PERMISSIVE, 0.2),
        RideThroughBand(1.15, 1.175, Region.PERMISSIVE, 0.5),
        RideThroughBand(1.10, 1.15, Region.PERMISSIVE, 1.0),
        RideThroughBand(0.88, 1.10, Region.CONTINUOUS),
        RideThroughBand(0.65, 0.88, Region.MANDATORY, 3.0, 8.7),
        RideThroughBand(0.45, 0.65, Region.PERMISSIVE, 0.32),
        RideThroughBand(0.30, 0.45, Region.PERMISSIVE, 0.16),
        RideThroughBand(0.0, 0.30, Region.CEASE_TO_ENERGISE),
    ),
    AbnormalCategory.III: (
        RideThroughBand(1.20, _INF, Region.CEASE_TO_ENERGISE),
        RideThroughBand(1.10, 1.20, Region.MOMENTARY_CESSATION, 12.0),
        RideThroughBand(0.88, 1.10, Region.CONTINUOUS),
        RideThroughBand(0.70, 0.88, Region.MANDATORY, 20.0),
        RideThroughBand(0.50, 0.70, Region.MANDATORY, 10.0),
        RideThroughBand(0.0, 0.50, Region.MOMENTARY_CESSATION, 1.0),
    ),
})

# IEEE 1547-2018 Table 18: DER response (shall trip) to abnormal frequencies, default settings (60 Hz).
FREQUENCY_TRIP: tuple[TripSetting, ...] = (
    TripSetting("OF2", 62.0, 0.16), TripSetting("OF1", 61.2, 300.0),
    TripSetting("UF1", 58.5, 300.0), TripSetting("UF2", 56.5, 0.16),
)
FREQUENCY_BASE_HZ = 60.0

# IEEE 1547-2018 4.10.2 and Table 4: enter service criteria, default settings.
ENTER_SERVICE_V_PU = (0.917, 1.05)
ENTER_SERVICE_F_HZ = (59.5, 60.1)  # at 60 Hz nominal
ENTER_SERVICE_DELAY_S = 300.0
ENTER_SERVICE_RAMP_S = 300.0

# IEEE 1547-2018 Table 8: volt-var default open-loop response time by normal performance category.
VOLT_VAR_RESPONSE_TIME_S: Mapping[NormalCategory, float] = MappingProxyType({
    NormalCategory.A: 10.0, NormalCategory.B: 5.0,
})
# IEEE 1547-2018 Table 8: default volt-var curves (V pu, Q in % of nameplate apparent power, + injecting).
VOLT_VAR_CURVE: Mapping[NormalCategory, tuple[tuple[float, float], ...]] = MappingProxyType({
    NormalCategory.A: ((0.90, 25.0), (1.00, 0.0), (1.00, 0.0), (1.10, -25.0)),
    NormalCategory.B: ((0.92, 44.0), (0.98, 0.0), (1.02, 0.0), (1.08, -44.0)),
})


def ride_through_band(category: AbnormalCategory, v_pu: float) -> RideThroughBand:
    """The band of ``category``'s ride-through table that ``v_pu`` falls in.

    Tables 14-16 close the continuous band at both ends (0.88 <= V <= 1.10);
    other bands are closed at the end nearer nominal.
    """
    for band in VOLTAGE_RIDE_THROUGH[category]:
        if band.region is Region.CONTINUOUS and band.low_pu <= v_pu <= band.high_pu:
            return band
        if band.low_pu >= 1.0 and band.low_pu < v_pu <= band.high_pu:
            return band
        if band.high_pu <= 1.0 and band.low_pu <= v_pu < band.high_pu:
            return band
    raise AssertionError(f"no ride-through band for {v_pu} pu")  # the tables cover 0..inf


class State(enum.Enum):
    IN_SERVICE = "in service"
    CEASED = "ceased to energise"  # momentary cessation / cease-to-energise band, not tripped
    TRIPPED = "tripped"  # disconnected; waits for the enter-service criteria and delay
    RAMPING = "entering service"  # reconnected, active power ramping up


@dataclasses.dataclass(frozen=True)
class Settings:
    category: AbnormalCategory = AbnormalCategory.II
    enter_service_delay_s: float = ENTER_SERVICE_DELAY_S
    enter_service_ramp_s: float = ENTER_SERVICE_RAMP_S
    nominal_hz: float = 60.0

    def frequency_trips(self) -> tuple[TripSetting, ...]:
        scale = self.nominal_hz / FREQUENCY_BASE_HZ
        return tuple(dataclasses.replace(t, threshold=t.threshold * scale) for t in FREQUENCY_TRIP)


class AbnormalResponse:
    """Trip, ride-through and enter-service logic of one DER (times in simulated seconds).

    ``step(time_s, v_pu, f_hz)`` takes a measurement that holds until the next
    step. Afterwards ``state`` says what the DER does, ``tripped_by`` names
    the element that tripped it, ``power_limit_fraction(time_s)`` the share of
    its rating it may deliver (the enter-service ramp), and
    ``next_event_time_s()`` when it must be stepped again.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state = State.IN_SERVICE
        self.tripped_by: str | None = None
        self.trips = 0
        self._trip_elements = VOLTAGE_TRIP[settings.category] + settings.frequency_trips()
        self._beyond_since: dict[str, float] = {}  # element -> when the value went beyond its threshold
        self._normal_since_s: float | None = None  # enter-service criteria met since
        self._ramp_start_s: float | None = None
        self.band = ride_through_band(settings.category, 1.0)

    def step(self, time_s: float, v_pu: float, f_hz: float) -> State:
        if self.state is State.TRIPPED:
            self._step_enter_service(time_s, v_pu, f_hz)
            return self.state
        for element in self._trip_elements:
            value = f_hz if element.on_frequency else v_pu
            beyond = value > element.threshold if element.over else value < element.threshold
            if not beyond:
                self._beyond_since.pop(element.name, None)
                continue
            since = self._beyond_since.setdefault(element.name, time_s)
            if time_s >= since + element.clearing_time_s:
                self._trip(element.name)
                self._step_enter_service(time_s, v_pu, f_hz)
                return self.state
        self.band = ride_through_band(self.settings.category, v_pu)
        if not self.band.region.energises:
            self.state = State.CEASED
        elif self.state is State.CEASED:
            self.state = State.IN_SERVICE  # restore output (6.4.2.7); no enter-service delay after ride-through
        if self.state is State.RAMPING and self._ramp_start_s is not None and \
                time_s >= self._ramp_start_s + self.settings.enter_service_ramp_s:
            self.state, self._ramp_start_s = State.IN_SERVICE, None
        return self.state

    def _trip(self, element: str) -> None:
        self.state = State.TRIPPED
        self.tripped_by = element
        self.trips += 1
        self._beyond_since.clear()
        self._normal_since_s = None
        self._ramp_start_s = None

    def _step_enter_service(self, time_s: float, v_pu: float, f_hz: float) -> None:
        scale = self.settings.nominal_hz / FREQUENCY_BASE_HZ
        v_ok = ENTER_SERVICE_V_PU[0] <= v_pu <= ENTER_SERVICE_V_PU[1]
        f_ok = ENTER_SERVICE_F_HZ[0] * scale <= f_hz <= ENTER_SERVICE_F_HZ[1] * scale
        if not (v_ok and f_ok):
            self._normal_since_s = None
            return
        if self._normal_since_s is None:
            self._normal_since_s = time_s
        if time_s >= self._normal_since_s + self.settings.enter_service_delay_s:
            self.state = State.RAMPING
            self._ramp_start_s = self._normal_since_s + self.settings.enter_service_delay_s
            self._normal_since_s = None
            self.band = ride_through_band(self.settings.category, v_pu)

    @property
    def energises(self) -> bool:
        return self.state in (State.IN_SERVICE, State.RAMPING)

    def power_limit_fraction(self, time_s: float) -> float:
        """Share of rated active power allowed now: 1, or the linear enter-service ramp (4.10.3)."""
        if self.state is not State.RAMPING or self._ramp_start_s is None:
            return 1.0 if self.energises else 0.0
        return min(1.0, max(0.0, (time_s - self._ramp_start_s) / self.settings.enter_service_ramp_s))

    def next_event_time_s(self) -> float:
        """The next instant the logic changes by itself: a clearing time ending, the enter-service delay or ramp."""
        times = [math.inf]
        if self.state is State.TRIPPED:
            if self._normal_since_s is not None:
                times.append(self._normal_since_s + self.settings.enter_service_delay_s)
        else:
            clearing = {e.name: e.clearing_time_s for e in self._trip_elements}
            times += [since + clearing[name] for name, since in self._beyond_since.items()]
            if self.state is State.RAMPING and self._ramp_start_s is not None:
                times.append(self._ramp_start_s + self.settings.enter_service_ramp_s)
        return min(times)
