"""Remote commands and counters read back over Modbus: relay trip count, manual-only capacitor
command, sectionalizer count resets."""

from pathlib import Path

import pytest

from cosim.comm import ModbusError
from cosim.comm.modbus.datamodel import ExceptionCode
from cosim.scenario import load_scenario
from devworlds import event, scenario_file, start

FEEDER = Path(__file__).parents[2] / "configs" / "protection_feeder.yaml"


def test_a_remote_trip_over_modbus_counts_in_the_relay_trip_count(tmp_path):
    path = scenario_file(tmp_path, "- {id: r1, kind: protective_relay, node: field, unit_id: 3, switch: cb}\n")
    run = start(path)
    master = run.comm.modbus_client("scada", "field")

    def script():
        before = yield from master.read_input_registers(3, 0, 10)
        yield from master.write_coil(3, 0, True)              # trip_command
        yield run.world.timeout(1.0)
        after = yield from master.read_input_registers(3, 0, 10)
        return before, after

    out = run.at(10.0, script)
    run.run(20.0)
    before, after = out[0]
    assert before[9] == 0 and after[9] == 1                    # trip_count (IR 9)
    trip_time_s = ((after[7] << 16) | after[8]) * 0.001        # last_trip_time_s (IR 7-8, ms)
    (trip,) = run.of_kind("relay_remote_trip")
    assert not run.of_kind("relay_trip")                       # protection trips stay a separate record
    assert trip["element"] == "remote" and trip_time_s == pytest.approx(trip["time_s"], abs=1e-3)
    assert ((after[5] << 16) | after[6]) == pytest.approx(before[0], abs=1)  # current when the command came
    assert not run.grid.measurements().switch_closed("cb")


def test_the_capacitor_bank_command_is_refused_in_voltage_mode_and_obeyed_in_manual(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: cap_ctl, kind: capacitor_bank_controller, node: field, shunt: cap1,
           params: {control_mode: voltage, voltage_setpoint_pu: 0.97, voltage_bandwidth_pu: 0.1}}
        """)
    run = start(path)
    master = run.comm.modbus_client("scada", "field")

    def script():
        codes = []
        try:
            yield from master.write_coil(1, 0, True)          # bank_close_command in voltage mode
            codes.append(None)
        except ModbusError as error:
            codes.append(error.code)
        yield run.world.timeout(1.0)
        refused_state = yield from master.read_discrete_inputs(1, 0, 1)
        coil = yield from master.read_coils(1, 0, 1)
        yield from master.write_register(1, 0, 0)            # control_mode: manual
        yield run.world.timeout(1.0)
        yield from master.write_coil(1, 0, True)
        yield run.world.timeout(1.0)
        obeyed_state = yield from master.read_discrete_inputs(1, 0, 1)
        return codes, refused_state, coil, obeyed_state

    out = run.at(10.0, script)
    run.run(30.0)
    codes, refused_state, coil, obeyed_state = out[0]
    assert codes == [ExceptionCode.ILLEGAL_FUNCTION]
    assert refused_state == [0] and coil == [0] and obeyed_state == [1]
    assert [e["closed"] for e in run.of_kind("capacitor_switch")] == [True]


def test_sectionalizer_count_resets_are_logged_and_the_count_reads_zero_again():
    scenario = load_scenario(FEEDER)
    t0 = 60.0
    run = start(scenario, [event(t0, "fault", "branch/feeder_3", fraction=0.5), event(t0 + 1.0, "clear_fault")])
    master = run.comm.modbus_client("scada", "sect_radio")
    unit = next(d for d in scenario.spec.devices if d["id"] == "feeder_sect").get("unit_id", 1)
    counted = run.at(t0 + 10.0, lambda: (yield from master.read_input_registers(unit, 1, 1)))
    memory = run.at(t0 + 10.0, lambda: (yield from master.read_holding_registers(unit, 2, 1)))  # reset_time_s
    reset = run.at(t0 + 100.0, lambda: (yield from master.read_input_registers(unit, 1, 1)))
    run.run(t0 + 110.0)
    assert counted[0] == [1] and reset[0] == [0]
    (logged,) = run.of_kind("sectionalizer_count_reset")
    assert logged["cleared_count"] == 1 and logged["reason"] == "memory_time" and logged["device"] == "feeder_sect"
    (count,) = run.of_kind("sectionalizer_count")
    assert logged["time_s"] == pytest.approx(count["time_s"] + memory[0][0])
