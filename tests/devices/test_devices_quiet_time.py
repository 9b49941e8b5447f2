"""Quiet time costs (almost) nothing: a device samples when the grid changed or its logic needs a time.

The grid is piecewise constant between actions, so a noiseless device that
re-read it on a fixed tick would store the same values again. These tests
count a device's wakes and samples over long quiet stretches, check it still
sees every change at the instant it happens, and that a device with noise or a
periodic output (PMU frames) keeps its period, also at large clock values.
"""

from devworlds import scenario_file, start


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
