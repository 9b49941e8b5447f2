"""Expulsion fuse links (K and T) as data, a melting element with heating memory, recloser coordination.

Curves. A fuse link's minimum-melting characteristic is a table of
(multiple of the link's ampere rating, melting time in seconds), interpolated
log-log between points (straight lines on the log-log TCC paper they are read
from). The two tables here are the K ("fast") and T ("slow") link curves that
OpenDSS defines at start-up (``TCC_Curve.KLink`` and ``TCC_Curve.TLink`` in
its executive's defaults, the curves its ``Fuse`` element melts on; the
same arrays ship in every OpenDSS port), both starting at 2 x rating at 300 s,
which is the ANSI C37.42 floor "minimum melting current not less than 200 % of
the fuse-link ampere rating" quoted on S&C TCC 165-6. They are per-unit
curves: one shape per link speed, scaled by the rating (6K ... 200K,
6T ... 200T: the EEI-NEMA rating names). The per-size ANSI C37.43 melting-current
limits at 300/600 s, 10 s and 0.1 s and per-size manufacturer curves were
NOT found in a source we could cite, so no per-size points are given.
Above the last point the melting time stays at the last tabulated time (as
OpenDSS does); below the first point the link never melts.

Total clearing. As in the OpenDSS fuse model, the total-clearing time is the
melting time plus a fixed arcing (clearing) delay given with the link: no
published total-clearing table was found, so none is invented.

Heating memory (melting below the curve, repeated shots). The element
accumulates damage ``D = integral dt / t_melt(I(t))`` while the current is
at or above the minimum melting current and melts at ``D = 1`` (a linear
damage, "Miner" rule, on the minimum-melting curve). Under a constant current
this melts exactly at ``t_melt(I)``: the curve is reproduced. Several shots
of a recloser's fast curve add up, which is the effect Cooper's coordination
factors allow for. Below the minimum melting current the element cools:
``D`` decays as ``exp(-dt / cooling_time_constant_s)``. This damage model is
exact on the published curve. No cooling time constant of a link was found
published: the default is calibrated to Cooper's factor (two fast shots each
1/1.35 of the melting time, 1 s apart, melt the link exactly:
``DEFAULT_COOLING_TIME_CONSTANT_S`` ~ 0.95 s); a scenario may state its own. ``i2t_a2s`` is the I²t let through while melting, decaying
the same way.

Coordination (fuse saving). Cooper Power Systems R240-30-3 / Eaton TD132010EN,
"Coordination of fuse links with oil circuit reclosers", load-side fuses: the
fuse's minimum melting time must be at least 1.35 x the recloser's fast
clearing time for two fast + two delayed operations, and 1.20 x for one fast
+ three delayed (the factor covers the heating of the link over the fast
shots). For the fuse-blowing scheme the fuse must clear before the recloser's
delayed trip: total clearing time below the delayed curve's time.

Times are simulated seconds; a current given at ``step`` holds until the next step.
"""

from __future__ import annotations

import bisect
import dataclasses
import enum
import math
from typing import Callable

from devices.intents import Intent, TripBreaker


@dataclasses.dataclass(frozen=True)
class FuseCurve:
    """A minimum-melting characteristic: melting time (s) at multiples of the link's ampere rating."""

    name: str
    multiples: tuple[float, ...]
    times_s: tuple[float, ...]
    source: str

    def __post_init__(self) -> None:
        if len(self.multiples) < 2 or len(self.multiples) != len(self.times_s):
            raise ValueError(f"{self.name}: need >= 2 (multiple, time) points of equal count")
        if any(b <= a for a, b in zip(self.multiples, self.multiples[1:])):
            raise ValueError(f"{self.name}: multiples must increase")
        if any(b >= a for a, b in zip(self.times_s, self.times_s[1:])) or min(self.times_s) <= 0:
            raise ValueError(f"{self.name}: times must be positive and decrease")

    def melt_time_s(self, multiple: float) -> float:
        """Seconds to melt at a constant ``multiple`` of rating: log-log interpolation; ``inf`` below the first point."""
        if multiple < self.multiples[0]:
            return math.inf
        if multiple >= self.multiples[-1]:
            return self.times_s[-1]
        k = bisect.bisect_right(self.multiples, multiple) - 1
        x0, x1 = math.log(self.multiples[k]), math.log(self.multiples[k + 1])
        y0, y1 = math.log(self.times_s[k]), math.log(self.times_s[k + 1])
        return math.exp(y0 + (y1 - y0) * (math.log(multiple) - x0) / (x1 - x0))


_OPENDSS = ("OpenDSS built-in TCC_Curve.{} (EPRI OpenDSS executive defaults), per unit of the link rating; "
            "2 x rating at 300 s per ANSI C37.42 (S&C TCC 165-6, 'Basis')")


class FuseLinkType(enum.Enum):
    """Link speed; ``.value`` is its minimum-melting :class:`FuseCurve`."""

    K = FuseCurve("K link (fast)", (2.0, 2.2, 3.0, 4.0, 6.0, 30.0), (300.0, 20.0, 4.0, 1.3, 0.41, 0.02),
                  _OPENDSS.format("KLink"))
    T = FuseCurve("T link (slow)", (2.0, 2.1, 3.0, 4.0, 6.0, 22.0, 50.0),
                  (300.0, 100.0, 10.1, 4.0, 1.4, 0.1, 0.02), _OPENDSS.format("TLink"))

    @property
    def curve(self) -> FuseCurve:
        return self.value


RATINGS_A: tuple[int, ...] = (6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 65, 80, 100, 140, 200)
"""EEI-NEMA K and T link ampere ratings (preferred 6, 10, 15, 25, 40, 65, 100, 140, 200; intermediate the rest)."""


FAST_CURVE_FACTORS: dict[int, float] = {1: 1.20, 2: 1.35}
"""Fast operations -> multiplier on the recloser's fast clearing time the fuse's minimum melt must exceed.

Cooper Power Systems R240-30-3 (Eaton TD132010EN, 2017), load-side fuses:
1.35 for two fast + two delayed operations, 1.20 for one fast + three delayed.
"""



REFERENCE_DEAD_TIME_S = 1.0
"""Dead time between two fast shots at which the default cooling reproduces Cooper's 1.35 (60 cycles at 60 Hz)."""

DEFAULT_COOLING_TIME_CONSTANT_S = REFERENCE_DEAD_TIME_S / math.log(
    (1.0 / FAST_CURVE_FACTORS[2]) / (1.0 - 1.0 / FAST_CURVE_FACTORS[2]))
"""About 0.95 s: two fast shots each 1/1.35 of the melting time, REFERENCE_DEAD_TIME_S apart, bring
the damage to exactly 1. The model is calibrated to the published factor, not to a measured link."""


@dataclasses.dataclass(frozen=True)
class FuseSettings:
    """One installed link, e.g. 25T: rating, speed, arcing delay after melting, cooling time constant."""

    rating_a: float
    link: FuseLinkType
    clearing_delay_s: float = 0.0
    cooling_time_constant_s: float = DEFAULT_COOLING_TIME_CONSTANT_S

    def __post_init__(self) -> None:
        if self.rating_a <= 0 or self.clearing_delay_s < 0 or self.cooling_time_constant_s <= 0:
            raise ValueError("need rating_a > 0, clearing_delay_s >= 0, cooling_time_constant_s > 0")

    @property
    def name(self) -> str:
        return f"{self.rating_a:g}{self.link.name}"

    @property
    def minimum_melting_current_a(self) -> float:
        return self.rating_a * self.link.curve.multiples[0]

    def melt_time_s(self, current_a: float) -> float:
        """Minimum-melting time (s) at a constant ``current_a`` from cold; ``inf`` below the minimum melting current."""
        return self.link.curve.melt_time_s(abs(current_a) / self.rating_a)

    def clear_time_s(self, current_a: float) -> float:
        """Total-clearing time (s) at a constant ``current_a``: melting time plus the arcing delay."""
        return self.melt_time_s(current_a) + self.clearing_delay_s


class Fuse:
    """The melting element of one link in switch ``switch_id``.

    ``damage`` (0..1) is the heating memory; ``melt_time_s`` and
    ``clear_time_s`` are set when it melts; at the clearing time ``step``
    returns the intent that opens the switch. A blown fuse stays open until
    :meth:`replace`.
    """

    def __init__(self, switch_id: str, settings: FuseSettings) -> None:
        self.switch_id = switch_id
        self.settings = settings
        self.damage = 0.0
        self.i2t_a2s = 0.0
        self.melt_time_s: float | None = None
        self.clear_time_s: float | None = None
        self.blown = False
        self._time_s: float | None = None
        self._current_a = 0.0

    @property
    def melted(self) -> bool:
        return self.melt_time_s is not None

    def step(self, time_s: float, current_a: float) -> list[Intent]:
        """Advance to ``time_s`` with the previous current, then take ``current_a`` (primary A); return intents."""
        if self._time_s is not None and time_s > self._time_s:
            self._advance(self._time_s, time_s)
        self._time_s = time_s if self._time_s is None else max(time_s, self._time_s)
        self._current_a = abs(current_a)
        if self.clear_time_s is not None and not self.blown and time_s >= self.clear_time_s:
            self.blown = True
            return [TripBreaker(self.switch_id)]
        return []

    def next_event_time_s(self) -> float:
        """Melting (if the current holds) or clearing time; ``inf`` if none."""
        if self.blown:
            return math.inf
        if self.clear_time_s is not None:
            return self.clear_time_s
        if self._time_s is None:
            return math.inf
        t_melt = self.settings.melt_time_s(self._current_a)
        if math.isinf(t_melt):
            return math.inf
        return self._time_s + (1.0 - self.damage) * t_melt + self.settings.clearing_delay_s

    def replace(self) -> None:
        """A new link (a crew refused the cutout): cold, not melted."""
        self.damage, self.i2t_a2s = 0.0, 0.0
        self.melt_time_s = self.clear_time_s = None
        self.blown = False

    def _advance(self, start_s: float, end_s: float) -> None:
        if self.melted:
            return
        dt = end_s - start_s
        t_melt = self.settings.melt_time_s(self._current_a)
        if math.isinf(t_melt):
            decay = math.exp(-dt / self.settings.cooling_time_constant_s)
            self.damage *= decay
            self.i2t_a2s *= decay
            return
        to_melt_s = (1.0 - self.damage) * t_melt
        # Compared as instants, the way next_event_time_s computes them: a wake at the melting
        # instant melts even late in a long run, where dt may round below to_melt_s.
        if end_s >= start_s + to_melt_s:
            self.melt_time_s = start_s + to_melt_s
            self.clear_time_s = self.melt_time_s + self.settings.clearing_delay_s
            self.damage = 1.0
            self.i2t_a2s += self._current_a**2 * to_melt_s
        else:
            self.damage += dt / t_melt
            self.i2t_a2s += self._current_a**2 * dt


@dataclasses.dataclass(frozen=True)
class CoordinationCheck:
    """Fuse and recloser times (s) at one fault current and whether the chosen scheme holds."""

    current_a: float
    fuse_melt_s: float
    fuse_clear_s: float
    recloser_fast_s: float
    recloser_delayed_s: float
    factor: float
    fuse_saving: bool    # melt >= factor x fast clearing: the fast shots clear before the link melts
    fuse_blowing: bool   # fuse clears before the delayed trip


TripTime = Callable[[float], float]


def check_coordination(fuse: FuseSettings, current_a: float, fast_trip_s: TripTime, delayed_trip_s: TripTime,
                       fast_operations: int) -> CoordinationCheck:
    """Cooper's rules at ``current_a``; ``fast_trip_s``/``delayed_trip_s`` give the recloser's trip times (s).

    Raises ValueError for a fast-operation count without a published factor (only 1 and 2 are).
    """
    if fast_operations not in FAST_CURVE_FACTORS:
        raise ValueError(f"Cooper R240-30-3 gives factors for 1 or 2 fast operations, not {fast_operations}")
    factor = FAST_CURVE_FACTORS[fast_operations]
    melt, clear = fuse.melt_time_s(current_a), fuse.clear_time_s(current_a)
    fast, delayed = fast_trip_s(current_a), delayed_trip_s(current_a)
    return CoordinationCheck(current_a, melt, clear, fast, delayed, factor,
                             fuse_saving=melt >= factor * fast, fuse_blowing=clear < delayed)
