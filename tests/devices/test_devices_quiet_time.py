"""Quiet time costs (almost) nothing: a device samples when the grid changed or its logic needs a time.

The grid is piecewise constant between actions, so a noiseless device that
re-read it on a fixed tick would store the same values again. These tests
count a device's wakes and samples over long quiet stretches, check it still
sees every change at the instant it happens, and that a device with noise or a
periodic output (PMU frames) keeps its period, also at large clock values.
"""

import math

import pytest
from devworlds import AREA_GRID, scenario_file, start
from single_area_response import closed_form_deviation_pu


def test_noiseless_relay_sleeps_through_quiet_days_and_wakes_at_each_change(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: r1, kind: protective_relay, node: field, switch: cb, params: {pickup_51_a: 400, sample_period_s: 1}}
        """, duration="10d", events="""
        - {at: 3d, kind: open_switch, target: switch/sw2}
        - {at: 7d, kind: close_switch, target: switch/sw2}
        """)
    run = start(path)
    run.run(10 * 86400.0)
    relay = run.devices["r1"]
    # start, two grid changes: three samples, not 864,000 one-second ticks
    assert relay.samples == 3
    assert relay.wakes <= 6
    times = [t for t, _v in run.series("device/r1", "current")]
    assert times == [0.0, 3 * 86400.0, 7 * 86400.0]


def test_noisy_device_keeps_its_sample_period(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: r1, kind: protective_relay, node: field, switch: cb, params: {sample_period_s: 60, noise_pct: 1}}
        """, duration="1h")
    run = start(path)
    run.run(3600.0)
    times = [t for t, _v in run.series("device/r1", "current")]
    assert times == [60.0 * k for k in range(60)]


def test_periodic_sample_instants_advance_at_any_clock_value(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: pmu1, kind: pmu, node: field, bus: b1, params: {reporting_rate_fps: 10}}
        """, duration="1h")
    run = start(path)
    run.run(1.0)
    pmu = run.devices["pmu1"]
    assert pmu.frames == 10
    for start_s in (2.0 ** 24, 2.0 ** 26 + 0.05, 2.0 ** 30, 2.0 ** 33):
        now = start_s
        for _ in range(50):
            due = pmu._next_tick(now)
            assert now < due <= now + pmu.sample_period_s * 1.5
            now = due
        assert now - start_s >= 49 * pmu.sample_period_s * 0.99


def test_a_noiseless_rtu_reading_frequency_follows_the_transient_after_a_generator_trip(tmp_path):
    """The grid does not change after the trip, the frequency does: the RTU samples on its period until it settles."""
    path = scenario_file(tmp_path, """
        - {id: rtu1, kind: rtu, node: field, unit_id: 1, actor: utility, params: {sample_period_s: 0.5, points: [
            {name: f_hz, kind: analog, source: "bus/b1:frequency_hz", data_type: f32}]}}
        """, grid=AREA_GRID, duration="20min", events="- {at: 10, kind: trip_generator, target: gen/unit2}\n")
    run = start(path)
    rtu = run.devices["rtu1"]
    readings: list[tuple[float, float]] = []

    def read_register():  # what a master polling every 0.5 s, a quarter period after each sample, would see
        for k in range(240):
            yield run.world.timeout(max(0.0, 0.25 + 0.5 * k - run.world.now))
            readings.append((run.world.now, float(rtu.store.get("f_hz"))))

    def slack_mw():  # the test's ground truth, not a device reading: what the slack picks up is ΔPL
        yield run.world.timeout(0)
        return run.grid.measurements().generator("bulk").p_mw

    run.at(0.0, read_register)
    before = run.at(5.0, slack_mw)
    after = run.at(600.0, slack_mw)
    run.run(1200.0)
    dpl = (after[0] - before[0]) / 400.0  # pu on the area's 400 MVA
    assert dpl == pytest.approx(0.1, rel=0.1)  # unit2's 40 MW plus the change in losses
    seen_dip = False
    for t_read, f_hz in readings:
        sampled_at = math.floor(t_read / 0.5) * 0.5  # the RTU's last sample instant
        if sampled_at < 10.0:
            assert f_hz == 50.0
            continue
        expected = 50.0 * (1 + closed_form_deviation_pu(sampled_at - 10.0, dpl, 4.0, 0.05, 1.0, 0.5))
        assert f_hz == pytest.approx(expected, abs=1e-4), t_read  # f32 register: a few µHz; settled: 0.1 mHz
        seen_dip |= f_hz < 49.9
    assert seen_dip
    # It stopped ticking once the transient was over: tens of samples, not 2,400 half-second ticks.
    assert rtu.samples < 100
