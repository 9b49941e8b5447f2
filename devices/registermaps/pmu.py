"""Phasor measurement unit: positive-sequence phasors, frequency and ROCOF, time stamp and STAT word.

A Modbus view of the synchrophasor quantities of IEEE C37.118.1-2011 (a PMU
streams them over C37.118.2 framing in the field; gridcosim offers the same
values as registers so a SCADA master can poll them). Values are IEEE 754
binary32 in big-endian word order; the time stamp is SOC (seconds since
1970-01-01 UTC) and FRACSEC in microseconds (TIME_BASE 1,000,000, so FRACSEC
is always 0..999,999), as in IEEE C37.118.2-2011; ``stat`` follows its STAT
word. The PMU's clock reads the scenario's ``run.start_utc`` at simulated
time 0 (default 2026-01-01T00:00:00Z; ``now`` takes the wall clock, for
hardware in the loop). Frequency and ROCOF come from the grid's area
frequency model (``grid.frequency_response``) when the scenario has one;
otherwise frequency is nominal and ROCOF 0.
"""

from devices.registermap import Point, RegisterMap, WordOrder
from devices.registermaps._tables import DI, F32, HR, IR, RW, U16, U32, BOOL

POINTS: tuple[Point, ...] = (
    Point("voltage_magnitude_v", IR, 0, F32, unit="V", description="Positive-sequence voltage magnitude, RMS"),
    Point("voltage_angle_deg", IR, 2, F32, unit="deg", description="Positive-sequence voltage angle"),
    Point("current_magnitude_a", IR, 4, F32, unit="A", description="Positive-sequence current magnitude, RMS"),
    Point("current_angle_deg", IR, 6, F32, unit="deg", description="Positive-sequence current angle"),
    Point("frequency_hz", IR, 8, F32, unit="Hz", description="Frequency"),
    Point("rocof_hz_per_s", IR, 10, F32, unit="Hz/s", description="Rate of change of frequency"),
    Point("timestamp_soc_s", IR, 12, U32, 1.0, "s", description="Time stamp, whole seconds (SOC)"),
    Point("timestamp_fracsec_us", IR, 14, U32, 1.0, "us", description="Time stamp, fraction of second"),
    Point("stat", IR, 16, U16, description="STAT word (IEEE C37.118.2-2011)"),
    Point("reporting_rate_fps", HR, 0, U16, 1.0, "1/s", RW, 1, 120, default=30,
          description="Reporting rate, frames per second"),
    Point("time_synchronised", DI, 0, BOOL, default=True, description="Locked to the time source"),
)


def pmu_map() -> RegisterMap:
    """The PMU's register map."""
    return RegisterMap("phasor measurement unit", POINTS, WordOrder.BIG, description=__doc__ or "")
