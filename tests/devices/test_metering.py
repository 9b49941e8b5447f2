"""The one meter model: energy registers integrate held power exactly and cut it at interval boundaries.

References are arithmetic of the definition (energy = held power x time,
each interval gets the part of a span that lies inside it), not our output.
"""

import numpy as np
import pytest

from devices.metering import EnergyRegister


def test_a_span_crossing_interval_ends_is_split_at_each_boundary():
    meters = EnergyRegister(2, 900.0)
    meters.hold(0.0, [1000.0, 2000.0])            # W
    meters.hold(2000.0, [500.0, 0.0])             # 2000 s of the first power, across two 900 s boundaries
    closed = meters.take_closed()
    assert [(c.start_s, c.end_s) for c in closed] == [(0.0, 900.0), (900.0, 1800.0)]
    assert closed[0].import_energy == pytest.approx([250.0, 500.0])     # 1000 W x 0.25 h, 2000 W x 0.25 h
    assert closed[1].import_energy == pytest.approx([250.0, 500.0])
    meters.hold(2700.0)
    (third,) = meters.take_closed()
    # 200 s of the first power, then 700 s of the second
    assert third.import_energy == pytest.approx([1000 * 200 / 3600 + 500 * 700 / 3600, 2000 * 200 / 3600])
    assert meters.import_total == pytest.approx([1000 * 2000 / 3600 + 500 * 700 / 3600, 2000 * 2000 / 3600])


def test_export_counts_negative_power_apart_from_import():
    meters = EnergyRegister(1, 3600.0)
    meters.hold(0.0, -300.0)
    meters.hold(1800.0, 600.0)
    meters.hold(3600.0)
    (hour,) = meters.take_closed()
    assert hour.export_energy == pytest.approx([150.0]) and hour.import_energy == pytest.approx([300.0])


def test_intervals_sit_on_multiples_of_the_interval_at_any_clock_value():
    start = 2.0**30 + 10.0                        # far out on the simulated clock
    meters = EnergyRegister(1, 3600.0, start_s=start)
    meters.hold(start, 7.0)
    end = (np.floor(start / 3600.0) + 1) * 3600.0
    meters.hold(end + 60.0)
    (first,) = meters.take_closed()
    assert first.end_s == end
    assert first.import_energy[0] == pytest.approx(7.0 * (end - start) / 3600.0, rel=1e-12)


def test_a_nonpositive_interval_is_refused():
    with pytest.raises(ValueError, match="interval_s"):
        EnergyRegister(1, 0.0)
