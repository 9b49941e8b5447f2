"""PMU time stamps and frequency, read over the device's interfaces (MQTT frames and Modbus registers).

Time stamps are checked against Python's own calendar arithmetic (``datetime``)
for the scenario's ``run.start_utc``; the frequency dip against the
closed-form steady state of the single-area model, Δf = −f0·ΔP/(D + 1/R)
(Kundur, Power System Stability and Control, §11.1).
"""

from __future__ import annotations

import struct
from datetime import datetime, timedelta, timezone

import pytest
from devworlds import AREA_GRID, COMM, scenario_file, start

from cosim.errors import ScenarioError
from cosim.scenario import load_scenario

START = datetime(2026, 3, 29, 0, 59, 58, 500_000, tzinfo=timezone.utc)  # a frame train across a minute boundary


def f32(words: list[int]) -> float:
    return struct.unpack(">f", struct.pack(">HH", *words))[0]


def u32(words: list[int]) -> int:
    return (words[0] << 16) | words[1]


def test_frames_carry_utc_time_with_fracsec_below_the_time_base(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: pmu1, kind: pmu, node: field, bus: b1, params: {reporting_rate_fps: 30, mqtt: {broker: scada, qos: 0}}}
        """, duration="20min")
    text = path.read_text().replace("seed: 3}", "seed: 3, start_utc: '2026-03-29T01:59:58.5+01:00'}")
    path.write_text(text)
    run = start(path)
    frames = run.subscribe("ops", "pmu/pmu1/frame")
    master = run.comm.modbus_client("scada", "field")
    polled = run.at(5.0, lambda: (yield from master.read_input_registers(1, 12, 4)))
    run.run(12.0)
    stamps = [(p["soc"], p["fracsec"]) for _, _, p in frames]
    assert len(stamps) >= 300
    assert all(0 <= fracsec < 1_000_000 for _, fracsec in stamps)
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # monotonic, across every second boundary
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    for index, (soc, fracsec) in enumerate(stamps):
        expected = START + timedelta(microseconds=round(index * 1e6 / 30))
        assert epoch + timedelta(seconds=soc, microseconds=fracsec) == expected
    soc, fracsec = u32(polled[0][0:2]), u32(polled[0][2:4])
    assert epoch + timedelta(seconds=soc, microseconds=fracsec) == START + timedelta(seconds=5)


def test_device_clock_at_large_simulated_times_never_reaches_a_full_second(tmp_path):
    run = start(scenario_file(tmp_path, "- {id: pmu1, kind: pmu, node: field, bus: b1}\n"))
    layer = run.devices
    base = float(2**27)
    stamps = [divmod(layer.utc_us(base + k / 30), 1_000_000) for k in range(300)]
    assert all(fracsec < 1_000_000 for _, fracsec in stamps) and stamps == sorted(stamps)


@pytest.mark.parametrize("value, message", [
    ("'2026-03-29T01:00:00'", "no UTC offset"),
    ("'yesterday'", "not an ISO 8601 time"),
    ("'1969-12-31T23:59:59Z'", "before 1970"),
])
def test_start_utc_is_validated(tmp_path, value, message):
    path = scenario_file(tmp_path, "- {id: pmu1, kind: pmu, node: field, bus: b1}\n")
    path.write_text(path.read_text().replace("seed: 3}", f"seed: 3, start_utc: {value}}}"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert "run.start_utc" in text and message in text


def test_a_generator_trip_shows_a_frequency_dip_and_recovery_in_pmu_frames(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: pmu1, kind: pmu, node: field, bus: b1, params: {reporting_rate_fps: 10, mqtt: {broker: scada, qos: 0}}}
        """, grid=AREA_GRID, comm=COMM, duration="20min",
        events="- {at: 10, kind: trip_generator, target: gen/unit2}\n")
    run = start(path)
    frames = run.subscribe("ops", "pmu/pmu1/frame")

    def truth():  # the test's ground truth, not a device reading: the slack's output before the trip
        yield run.world.timeout(0)
        return run.grid.measurements().generator("bulk").p_mw

    bulk_before = run.at(5.0, truth)
    run.run(70.0)
    t0 = frames[0][2]["soc"]
    series = [(p["soc"] - t0 + p["fracsec"] / 1e6, p["freq_hz"], p["rocof_hz_s"]) for _, _, p in frames]
    before = [f for t, f, _ in series if t < 10]
    after = [(t, f, r) for t, f, r in series if t > 10]
    assert before and all(f == 50.0 for f in before)
    nadir_t, nadir_hz, _ = min(after, key=lambda x: x[1])
    final_hz = after[-1][1]
    picked_up_mw = run.grid.measurements().generator("bulk").p_mw - bulk_before[0]  # lost unit2 + change in losses
    assert picked_up_mw == pytest.approx(40.0, rel=0.1)
    settle_hz = 50.0 * (1 - picked_up_mw / 400 / (1 + 1 / 0.05))
    assert after[0][2] < 0                                   # ROCOF negative right after the trip
    assert 10 < nadir_t < 20 and nadir_hz < final_hz < 50.0  # a dip, then recovery towards the droop steady state
    assert final_hz == pytest.approx(settle_hz, rel=1e-6)


def test_unset_start_utc_is_fixed_in_batch_and_the_wall_clock_in_realtime():
    from cosim.wiring.devices import start_utc_us

    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert start_utc_us(None, "batch") == (datetime(2026, 1, 1, tzinfo=timezone.utc) - epoch) // timedelta(microseconds=1)
    before = (datetime.now(timezone.utc) - epoch) // timedelta(microseconds=1)
    now_us = start_utc_us(None, "realtime")
    after = (datetime.now(timezone.utc) - epoch) // timedelta(microseconds=1)
    assert before <= now_us <= after
    assert start_utc_us(START, "realtime") == (START - epoch) // timedelta(microseconds=1)
