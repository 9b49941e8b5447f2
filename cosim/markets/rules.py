"""Programme rules of the PJM-style markets, as data.

Every number the market engines apply (minimum sizes, credit rates, lead
times, baseline windows, penalty formula) lives in this module as a frozen
table with the source it comes from, so a rule change is a data change and the
docs table in ``docs/markets.md`` is read off the same values.

Sources, abbreviated in the tables below:

* ``SEED-003`` -- the project's seed document (PJM "Demand Response Strategy",
  June 2017, summarised in Japanese): CP annual availability, DR plans of
  existing and planned resources, credit for planned resources, double-counting
  review, PRD as a shift of the demand curve, Load Management dispatch options
  (2 resource types x zones x 3 lead times, sub-zones as ZIP-code sets).
* ``M11`` -- PJM Manual 11, Energy & Ancillary Services Market Operations,
  section 10 (Demand Resource participation, CBL methods).
* ``M18`` -- PJM Manual 18, PJM Capacity Market (RPM, DR registrations).
* ``OATT-DD`` -- PJM Open Access Transmission Tariff, Attachment DD
  (RPM; section 10A: Capacity Performance Non-Performance Charges).

Values marked ``verified=False`` in :data:`RULE_SOURCES` could not be checked
against a primary PJM text while writing this module; they are the commonly
published values and are kept as data so a scenario can override them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping


class ResourceType(enum.Enum):
    """Capacity product of an RPM offer (OATT-DD; SEED-003).

    ``ANNUAL`` is Capacity Performance: available all year, any number of
    interruptions. ``EXTENDED_SUMMER`` and ``LIMITED`` are the older, less
    available DR products (June-October, and June-September weekdays with at
    most 10 interruptions of 6 hours); an auction caps how much of them clears.
    ``GENERATION`` is any generator offer (annual availability).
    """

    GENERATION = "generation"
    ANNUAL = "annual"
    EXTENDED_SUMMER = "extended_summer"
    LIMITED = "limited"


class DrType(enum.Enum):
    """Load Management resource type used for dispatch (SEED-003, M13).

    Emergency resources may only be dispatched once an emergency (NERC EEA)
    is declared; everything else is pre-emergency and is called first.
    """

    PRE_EMERGENCY = "pre_emergency"
    EMERGENCY = "emergency"


class LeadTime(enum.IntEnum):
    """Notification lead time of a Load Management resource, in minutes.

    SEED-003: 30 min is the default (63 % of 2015/16 DR MW); 60 min when the
    resource physically needs 30-60 min (5 %); 120 min when it cannot respond
    within 60 min (32 %).
    """

    MIN_30 = 30
    MIN_60 = 60
    MIN_120 = 120


class DayKind(enum.Enum):
    """Day classes that select the CBL rule (M11 section 10)."""

    WEEKDAY = "weekday"
    SATURDAY = "saturday"
    SUNDAY_HOLIDAY = "sunday_holiday"


@dataclass(frozen=True)
class AvailabilityWindow:
    """When a capacity product must be able to respond (OATT-DD; SEED-003)."""

    months: tuple[int, ...]
    weekdays_only: bool
    hours: tuple[int, int]          # [start, end) hour of day it must respond in
    max_interruptions: int | None  # None = unlimited
    max_hours_per_interruption: float | None

    def covers(self, month: int, weekday: bool, hour: int) -> bool:
        """True if the product must respond at this time (month 1-12, hour 0-23)."""
        return (month in self.months and (weekday or not self.weekdays_only)
                and self.hours[0] <= hour < self.hours[1])

    def refusal(self, month: int, weekday: bool, start_hour: float, end_hour: float, calls_so_far: int) -> str | None:
        """Why a call [start_hour, end_hour) of this product may not be made, or None if it may.

        Checks the months, weekdays, hours of the day (the whole call must lie
        inside them), the length of one call and the number of calls this
        delivery year (``calls_so_far`` made before this one).
        """
        if month not in self.months:
            return f"month {month} is outside the product's months {list(self.months)}"
        if self.weekdays_only and not weekday:
            return "the product is available on weekdays only"
        if start_hour < self.hours[0] or end_hour > self.hours[1]:
            return (f"call {start_hour:g}-{end_hour:g} h is outside the product's hours "
                    f"{self.hours[0]}-{self.hours[1]} h")
        if self.max_hours_per_interruption is not None and end_hour - start_hour > self.max_hours_per_interruption:
            return f"call of {end_hour - start_hour:g} h exceeds {self.max_hours_per_interruption:g} h per interruption"
        if self.max_interruptions is not None and calls_so_far >= self.max_interruptions:
            return f"{calls_so_far} calls already made: the product allows {self.max_interruptions} per year"
        return None


AVAILABILITY: Mapping[ResourceType, AvailabilityWindow] = MappingProxyType(
    {
        ResourceType.GENERATION: AvailabilityWindow(tuple(range(1, 13)), False, (0, 24), None, None),
        ResourceType.ANNUAL: AvailabilityWindow(tuple(range(1, 13)), False, (0, 24), None, None),
        # June-October and the following May, 10:00-22:00, unlimited calls of <= 10 h
        ResourceType.EXTENDED_SUMMER: AvailabilityWindow((5, 6, 7, 8, 9, 10), False, (10, 22), None, 10.0),
        # June-September weekdays (non-holiday), 12:00-20:00, <= 10 calls of <= 6 h
        ResourceType.LIMITED: AvailabilityWindow((6, 7, 8, 9), True, (12, 20), 10, 6.0),
    }
)


@dataclass(frozen=True)
class CblRule:
    """A "High X of Y" customer baseline rule (M11 section 10).

    Take the ``candidate_days`` most recent eligible days of the same kind
    within ``lookback_days`` before the event, keep the ``selected_days`` with
    the highest average load over the event hours, average them per interval.
    The symmetric additive adjustment shifts the CBL by the mean of
    (actual - CBL) over ``adjustment_hours`` hours that end
    ``adjustment_gap_hours`` before the event starts.
    """

    selected_days: int
    candidate_days: int
    lookback_days: int
    adjustment_hours: int
    adjustment_gap_hours: int


CBL_RULES: Mapping[DayKind, CblRule] = MappingProxyType(
    {
        DayKind.WEEKDAY: CblRule(4, 5, 45, 3, 1),
        DayKind.SATURDAY: CblRule(2, 3, 45, 3, 1),
        DayKind.SUNDAY_HOLIDAY: CblRule(2, 3, 45, 3, 1),
    }
)

#: Smallest DR resource PJM registers, MW (M11 section 10 / M18: 100 kW).
MIN_DR_SIZE_MW: Mapping[ResourceType, float] = MappingProxyType(
    {
        ResourceType.ANNUAL: 0.1,
        ResourceType.EXTENDED_SUMMER: 0.1,
        ResourceType.LIMITED: 0.1,
    }
)

#: Credit a CSP must post per MW of *planned* DR in a plan, $/MW.
#: PJM computes the RPM credit requirement per auction (M18 / Attachment Q);
#: this flat rate is a scenario default, not a PJM number.
PLANNED_DR_CREDIT_USD_PER_MW: float = 5_000.0

#: Expected Performance Assessment Interval hours per year behind the
#: Capacity Performance Non-Performance Charge Rate (OATT-DD 10A):
#: rate $/MWh = Net CONE ($/MW-day, UCAP) x 365 / 30.
CP_EXPECTED_PAI_HOURS: float = 30.0


def non_performance_charge_rate_usd_per_mwh(net_cone_usd_per_mw_day: float) -> float:
    """CP Non-Performance Charge Rate, $/MWh of shortfall (OATT-DD 10A).

    One year of Net CONE recovered over the expected 30 hours of emergency
    (Performance Assessment Interval) operation. Net CONE is auction data.
    """
    return net_cone_usd_per_mw_day * 365.0 / CP_EXPECTED_PAI_HOURS


@dataclass(frozen=True)
class RuleSource:
    rule: str
    source: str
    verified: bool
    note: str = ""


RULE_SOURCES: tuple[RuleSource, ...] = (
    RuleSource("CP annual availability; Limited/Extended Summer caps", "SEED-003; OATT-DD", True,
               "seed states CP must be available all year; caps on Limited DR"),
    RuleSource("DR plans: existing vs planned, credit for planned, double counting", "SEED-003", True),
    RuleSource("Lead times 30/60/120 min; pre-emergency before emergency; sub-zones as ZIP sets",
               "SEED-003", True),
    RuleSource("Limited / Extended Summer availability windows (months, hours, call limits)",
               "M18 (pre-CP DR products)", False, "published pre-2020 product definitions, from memory"),
    RuleSource("Minimum DR size 0.1 MW", "M11 s.10; M18", False,
               "commonly published 100 kW minimum; not re-read from the manual here"),
    RuleSource("CBL High 4 of 5 weekday, High 2 of 3 weekend/holiday, 45-day lookback",
               "M11 s.10", False, "published PJM default CBL; primary text not retrieved"),
    RuleSource("Symmetric additive adjustment: 3 h ending 1 h before event start", "M11 s.10", False,
               "matches PJM's 'skip one hour' convention for same-day windows"),
    RuleSource("Non-Performance Charge Rate = Net CONE x 365 / 30", "OATT-DD 10A", False),
    RuleSource("Planned DR credit $/MW", "scenario default", False, "not a PJM value"),
)
