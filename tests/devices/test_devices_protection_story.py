"""The protection story of configs/protection_feeder.yaml, fault by fault, in simulated time.

Each story runs the scenario's feeder with its own events. Trip times are
compared with the curve formula at the fault current the grid gives at the
device (IEEE C37.112-2018: t = TD (A / (M^p - 1) + B)); the grid's recorded
``customers_unserved`` shows who is out.
"""

from pathlib import Path

import pytest

from cosim.comm import ModbusError
from cosim.comm.modbus.datamodel import ExceptionCode
from cosim.scenario import load_scenario
from devices.protection.curves import Curve
from devworlds import event, start, switch_fault_current_a

FEEDER = Path(__file__).parents[2] / "configs" / "protection_feeder.yaml"
T0 = 60.0  # fault instant in every story

IEEE_EI, IEEE_VI = Curve.IEEE_EXTREMELY_INVERSE.curve, Curve.IEEE_VERY_INVERSE.curve


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(FEEDER)


def unserved_at(run, time_s):
    """customers_unserved as last recorded by the grid at or before ``time_s``."""
    value = 0.0
    for t, v in run.series("grid", "customers_unserved"):
        if t <= time_s:
            value = v
    return value


def test_temporary_fault_is_cleared_by_the_recloser_fast_shot_and_service_restored(scenario):
    run = start(scenario, [event(T0, "fault", "branch/feeder_2", fraction=0.5), event(T0 + 1.0, "clear_fault")])
    current = switch_fault_current_a(run, "rec_sw", "feeder_2")
    run.run(T0 + 120)
    trips = run.of_kind("recloser_trip")
    assert len(trips) == 1 and trips[0]["curve"] == "fast" and trips[0]["shot"] == 1
    expected = IEEE_EI.operate_time_s(current / 200.0, 0.1)
    assert trips[0]["time_s"] - T0 == pytest.approx(expected, rel=1e-9)
    assert trips[0]["current_a"] == pytest.approx(current, rel=1e-9)
    (reclose,) = run.of_kind("recloser_reclose")
    assert reclose["time_s"] == pytest.approx(trips[0]["time_s"] + 2.0)
    assert not run.of_kind("relay_trip") and not run.of_kind("recloser_lockout")
    assert unserved_at(run, trips[0]["time_s"]) == 350  # load_b + load_c behind the recloser
    assert unserved_at(run, reclose["time_s"]) == 0
    assert run.of_kind("recloser_sequence_reset")  # 30 s closed without pickup: sequence starts over


def test_permanent_fault_drives_the_recloser_to_lockout_after_its_shots(scenario):
    run = start(scenario, [event(T0, "fault", "branch/feeder_2", fraction=0.5)])
    current = switch_fault_current_a(run, "rec_sw", "feeder_2")
    run.run(T0 + 120)
    trips = run.of_kind("recloser_trip")
    assert [t["curve"] for t in trips] == ["fast", "fast", "delayed", "delayed"]
    fast = IEEE_EI.operate_time_s(current / 200.0, 0.1)
    delayed = IEEE_VI.operate_time_s(current / 200.0, 0.5)
    closes = [T0] + [r["time_s"] for r in run.of_kind("recloser_reclose")]
    assert [c - t["time_s"] for c, t in zip(closes[1:], trips)] == pytest.approx([2.0, 5.0, 10.0])
    assert [t["time_s"] - c for t, c in zip(trips, closes)] == pytest.approx([fast, fast, delayed, delayed], rel=1e-9)
    (lockout,) = run.of_kind("recloser_lockout")
    assert lockout["time_s"] == trips[-1]["time_s"] and lockout["shots"] == 4
    assert unserved_at(run, T0 + 120) == 350
    assert not run.of_kind("relay_trip")  # coordination: the substation relay rides through every shot
    device = run.devices["feeder_recloser"]
    assert device.store.get("locked_out") and device.store.get("operations_in_sequence") == 4


def test_lockout_is_read_and_reset_over_modbus_then_the_recloser_closes_on_command(scenario):
    run = start(scenario, [event(T0, "fault", "branch/feeder_2", fraction=0.5), event(T0 + 100, "clear_fault")])
    master = run.comm.modbus_client("scada", "recloser_radio", timeout_s=2.0)

    def operate():
        locked = yield from master.read_discrete_inputs(1, 0, 4)       # closed, locked_out, picked_up, reclosing
        refused = None
        try:
            yield from master.write_register(1, 0, 300)                 # pickup_a: a protection setting
        except ModbusError as error:
            refused = error.code
        yield from master.write_coil(1, 2, True)                        # reset_lockout_command
        yield run.world.timeout(1.0)
        yield from master.write_coil(1, 1, True)                        # close_command
        yield run.world.timeout(1.0)
        after = yield from master.read_discrete_inputs(1, 0, 2)
        coils = yield from master.read_coils(1, 0, 3)
        return locked, refused, after, coils

    out = run.at(T0 + 110, operate)
    run.run(T0 + 130)
    locked, refused, after, coils = out[0]
    assert locked[:2] == [0, 1]                                 # open and locked out, as the map says
    assert refused is ExceptionCode.ILLEGAL_DATA_ADDRESS        # allow_protection_writes is off
    assert after == [1, 0] and coils == [0, 0, 0]               # closed, lockout gone; command coils cleared
    assert run.grid.measurements().switch_closed("rec_sw")
    assert unserved_at(run, T0 + 130) == 0
    assert run.of_kind("recloser_lockout_reset")


def test_downstream_fault_trips_the_recloser_first_and_the_sectionalizer_opens_in_dead_time(scenario):
    run = start(scenario, [event(T0, "fault", "branch/feeder_3", fraction=0.5)])
    current = switch_fault_current_a(run, "rec_sw", "feeder_3")
    run.run(T0 + 120)
    trips = run.of_kind("recloser_trip")
    assert len(trips) == 2 and not run.of_kind("relay_trip") and not run.of_kind("recloser_lockout")
    assert trips[0]["time_s"] - T0 == pytest.approx(IEEE_EI.operate_time_s(current / 200.0, 0.1), rel=1e-9)
    (opened,) = run.of_kind("sectionalizer_open")
    reclosures = [r["time_s"] for r in run.of_kind("recloser_reclose")]
    # It opens at the second interruption, while the recloser is open, before the reclose that then holds.
    assert opened["count"] == 2 and opened["time_s"] == trips[1]["time_s"] < reclosures[-1]
    assert not run.grid.measurements().switch_closed("sec_sw")
    assert run.grid.measurements().switch_closed("rec_sw")
    assert unserved_at(run, T0 + 120) == 150  # only load_c, beyond the sectionalizer
    assert run.devices["feeder_sect"].store.get("closed") is False


def test_fault_upstream_of_the_recloser_is_cleared_by_the_relay_at_its_curve_time(scenario):
    run = start(scenario, [event(T0, "fault", "branch/feeder_1", fraction=0.5)])
    current = switch_fault_current_a(run, "sub_cb", "feeder_1")
    run.run(T0 + 30)
    (trip,) = run.of_kind("relay_trip")
    assert trip["element"] == "51"
    assert trip["time_s"] - T0 == pytest.approx(IEEE_VI.operate_time_s(current / 400.0, 2.0), rel=1e-9)
    assert not run.of_kind("recloser_trip")  # no fault current through the recloser
    assert unserved_at(run, T0 + 30) == 650
    relay = run.devices["sub_relay"]
    assert relay.store.get("trip_count") == 1 and relay.store.get("last_trip_time_s") == pytest.approx(trip["time_s"], abs=1e-3)


def test_the_scenario_file_runs_its_three_stories(scenario):
    run = start(scenario)
    run.run(scenario.spec.run.duration)
    assert len(run.of_kind("recloser_lockout")) == 1
    assert len(run.of_kind("sectionalizer_open")) == 1
    assert not run.of_kind("relay_trip")
    assert unserved_at(run, scenario.spec.run.duration) == 0


def test_same_seed_same_device_events_and_samples(scenario):
    events = [event(T0, "fault", "branch/feeder_3", fraction=0.5)]
    first, second = (start(scenario, events).run(T0 + 1000) for _ in range(2))
    assert first.events == second.events
    assert first.samples == second.samples
    assert any(kind == "device/meter_load_c" for _, kind, _, _ in first.samples)  # a noisy meter is in it
