"""Inverse-time overcurrent curves as data, with the standard each constant comes from.

Both families share one form. With ``M = I / I_pickup`` (multiple of pickup)
and a time multiplier ``TD`` (IEEE "time dial", IEC "TMS"):

* operate time, M > 1:  ``t(M) = TD * (A / (M**p - 1) + B)``  seconds
* reset time,   M < 1:  ``t_r(M) = TD * tr / (1 - M**2)``     seconds

IEEE C37.112-2018 gives A, B, p and tr in its Table 1 (IEC 60255-151:2009
reproduces them as its "IEEE" curves). IEC 60255-151:2009, Table 1 gives the
IEC curves as ``t = TMS * k / (M**a - 1)``, i.e. A=k, B=0, p=a; it defines no
electromechanical reset for them (``tr`` is None: reset instantaneously or
after a definite time).
"""

from __future__ import annotations

import dataclasses
import enum
import math


@dataclasses.dataclass(frozen=True)
class InverseTimeCurve:
    """Constants of one inverse-time characteristic; times in seconds for TD = 1."""

    name: str
    a: float
    b: float
    p: float
    tr: float | None
    source: str

    def operate_time_s(self, multiple: float, time_dial: float) -> float:
        """Seconds to trip at a constant ``multiple`` of pickup; ``inf`` at or below pickup."""
        if multiple <= 1.0:
            return math.inf
        return time_dial * (self.a / (float(multiple**self.p) - 1.0) + self.b)

    def reset_time_s(self, multiple: float, time_dial: float) -> float:
        """Seconds for a fully travelled disk to reset at a constant ``multiple`` < 1.

        Raises ValueError when the curve has no reset characteristic or ``multiple >= 1``.
        """
        if self.tr is None:
            raise ValueError(f"{self.name} defines no electromechanical reset time")
        if multiple >= 1.0:
            raise ValueError(f"reset time is defined only below pickup, got M={multiple}")
        return time_dial * self.tr / (1.0 - float(multiple**2))


_IEEE = "IEEE C37.112-2018, Table 1"
_IEC = "IEC 60255-151:2009, Table 1"


class Curve(enum.Enum):
    """The standard curves by name; ``Curve.IEEE_VERY_INVERSE.value`` is the :class:`InverseTimeCurve`."""

    # IEEE C37.112-2018, Table 1
    IEEE_MODERATELY_INVERSE = InverseTimeCurve("IEEE moderately inverse", 0.0515, 0.1140, 0.02, 4.85, _IEEE)
    IEEE_VERY_INVERSE = InverseTimeCurve("IEEE very inverse", 19.61, 0.491, 2.0, 21.6, _IEEE)
    IEEE_EXTREMELY_INVERSE = InverseTimeCurve("IEEE extremely inverse", 28.2, 0.1217, 2.0, 29.1, _IEEE)
    # IEC 60255-151:2009, Table 1 (k -> a, alpha -> p)
    IEC_STANDARD_INVERSE = InverseTimeCurve("IEC standard inverse", 0.14, 0.0, 0.02, None, _IEC)
    IEC_VERY_INVERSE = InverseTimeCurve("IEC very inverse", 13.5, 0.0, 1.0, None, _IEC)
    IEC_EXTREMELY_INVERSE = InverseTimeCurve("IEC extremely inverse", 80.0, 0.0, 2.0, None, _IEC)
    IEC_LONG_TIME_INVERSE = InverseTimeCurve("IEC long-time inverse", 120.0, 0.0, 1.0, None, _IEC)

    @property
    def curve(self) -> InverseTimeCurve:
        return self.value


@dataclasses.dataclass(frozen=True)
class DefiniteTimeCurve:
    """Trip after a fixed delay at any current above pickup (a 50 element with a delay, a fast recloser curve)."""

    name: str
    delay_s: float
    source: str = "definite time"

    def operate_time_s(self, multiple: float, time_dial: float) -> float:
        """``delay_s * time_dial`` above pickup, ``inf`` at or below it."""
        return self.delay_s * time_dial if multiple > 1.0 else math.inf

    def reset_time_s(self, multiple: float, time_dial: float) -> float:
        raise ValueError(f"{self.name} defines no electromechanical reset time")

    @property
    def tr(self) -> None:
        return None


TimeCurrentCurve = InverseTimeCurve | DefiniteTimeCurve
