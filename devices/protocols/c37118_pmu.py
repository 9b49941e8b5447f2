"""The IEEE C37.118.2 view of a PMU: its configuration frame and its data frames, from the PMU's points.

The PMU holds one point model (its register store: phasors, frequency, ROCOF,
SOC/FRACSEC, STAT); this view declares which points fill which frame field,
so Modbus, MQTT and C37.118 masters all read the same values. Phasors go out
in floating-point polar form: volts and amperes, angles in radians.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cosim.comm.c37118 import ConfigFrame, DataFrame, PhasorChannel, PmuConfig, PmuData

TIME_BASE = 1_000_000  # FRACSEC counts microseconds, as the PMU's registers do


@dataclass(frozen=True)
class PhasorPoints:
    """The store points of one phasor (magnitude, angle in degrees)."""

    name: str
    magnitude: str
    angle_deg: str
    is_current: bool


PHASORS = (
    PhasorPoints("V1", "voltage_magnitude_v", "voltage_angle_deg", False),
    PhasorPoints("I1", "current_magnitude_a", "current_angle_deg", True),
)
"""Positive-sequence voltage at the PMU's bus, and the current into its branch (C37.118.2 Table 8 channel names)."""

FREQUENCY_POINT = "frequency_hz"
ROCOF_POINT = "rocof_hz_per_s"
SOC_POINT = "timestamp_soc_s"
FRACSEC_POINT = "timestamp_fracsec_us"
STAT_POINT = "stat"


def config_frame(station: str, idcode: int, nominal_hz: float, rate_fps: int, soc: int, fracsec: int) -> ConfigFrame:
    """The CFG-2 frame a PMU sends when asked (clause 6.4)."""
    pmu = PmuConfig(station[:16], idcode, tuple(PhasorChannel(p.name, p.is_current) for p in PHASORS), nominal_hz=nominal_hz)
    return ConfigFrame(idcode, soc, fracsec, TIME_BASE, (pmu,), rate_fps)


PointReader = Callable[[str], Any]
"""Gives a point's engineering value by name (a register store's ``get``)."""


def data_frame(idcode: int, value: PointReader) -> DataFrame:
    """The data frame of the PMU's present points (clause 6.3)."""
    phasors = tuple((float(value(p.magnitude)), math.radians(float(value(p.angle_deg)))) for p in PHASORS)
    block = PmuData(int(value(STAT_POINT)), phasors, float(value(FREQUENCY_POINT)), float(value(ROCOF_POINT)))
    return DataFrame(idcode, int(value(SOC_POINT)), int(value(FRACSEC_POINT)), (block,))
