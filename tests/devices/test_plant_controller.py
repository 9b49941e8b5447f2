"""The plant controller through the simulated transport: basepoints written over Modbus move the grid
generator at the unit's ramp rate, within its limits, and its telemetry reports what the grid carries."""

import pytest
from devworlds import GRID, scenario_file, start

from cosim.comm import ModbusError
from cosim.comm.modbus.datamodel import ExceptionCode
from cosim.domains.plantlink import BasepointOrder, RegulationOrder, UnitTelemetry
from cosim.errors import ScenarioError
from cosim.scenario import load_scenario

UNIT_GRID = GRID.replace(
    "    - {name: source, bus: src, slack: true, xdss_pu: 0.2, mbase_mva: 200}",
    "    - {name: source, bus: src, slack: true, xdss_pu: 0.2, mbase_mva: 200}\n"
    "    - {name: unit, bus: b1, p_mw: 1.0, vm_pu: 1.0, p_max_mw: 3.0}")

CONTROLLER = """
    - {id: pc1, kind: plant_controller, node: field, unit_id: 5, generator: unit,
       params: {ramp_rate_mw_per_min: 0.6, p_max_mw: 3.0, control_period_s: 2}}
    """


def unit_mw(run):
    net = run.grid.network
    return float(net.generators.p_mw[net.generators.index("unit")])


def test_a_basepoint_written_over_modbus_ramps_the_unit_at_its_rate(tmp_path):
    run = start(scenario_file(tmp_path, CONTROLLER, grid=UNIT_GRID))
    master = run.comm.modbus_client("scada", "field")
    address, words = BasepointOrder(2.5, 7).encode()
    run.at(10.0, lambda: (yield from master.write_registers(5, address, words)))
    seen = {}

    def look(at):
        def script():
            seen[at] = unit_mw(run)
            yield run.world.timeout(0)
        run.at(at, script)

    for at in (9.0, 70.0, 250.0):
        look(at)
    start_r, count = UnitTelemetry.request()
    telemetry = run.at(251.0, lambda: (yield from master.read_input_registers(5, start_r, count)))
    run.run(260.0)
    assert seen[9.0] == 1.0                                   # the grid's starting point, untouched
    # 0.6 MW/min from the write (10 s + a LAN latency), stepped every 2 s: 0.58 to 0.60 MW after a minute.
    assert 1.57 <= seen[70.0] <= 1.601
    assert seen[250.0] == pytest.approx(2.5)                  # arrived after 150 s and stopped
    report = UnitTelemetry.decode(telemetry[0])
    assert report.output_mw == pytest.approx(2.5, abs=0.01) and report.setpoint_mw == pytest.approx(2.5)


def test_basepoint_and_regulation_are_clipped_at_the_unit_limit_and_flagged(tmp_path):
    run = start(scenario_file(tmp_path, CONTROLLER, grid=UNIT_GRID))
    master = run.comm.modbus_client("scada", "field")

    def script():
        address, words = BasepointOrder(2.9, 1).encode()
        yield from master.write_registers(5, address, words)
        address, words = RegulationOrder(0.5).encode()
        yield from master.write_registers(5, address, words)
        yield run.world.timeout(600.0)
        flags = yield from master.read_discrete_inputs(5, 0, 3)
        return flags

    flags = run.at(1.0, script)
    run.run(700.0)
    assert unit_mw(run) == pytest.approx(3.0)
    assert flags[0] == [1, 0, 1]                               # online, not ramping, at its limit


def test_a_write_beyond_the_register_range_gets_an_exception_and_changes_nothing(tmp_path):
    run = start(scenario_file(tmp_path, CONTROLLER, grid=UNIT_GRID))
    master = run.comm.modbus_client("scada", "field")
    codes = []

    def script():
        try:
            address, words = BasepointOrder(150_000.0, 1).encode()
            yield from master.write_registers(5, address, words)
        except ModbusError as error:
            codes.append(error.code)

    run.at(1.0, script)
    run.run(100.0)
    assert codes == [ExceptionCode.ILLEGAL_DATA_VALUE]
    assert unit_mw(run) == 1.0


@pytest.mark.parametrize("entry, message", [
    ("{id: pc1, kind: plant_controller, generator: unit, params: {ramp_rate_mw_per_min: 1, p_max_mw: 3, p_min_mw: -1}}",
     "does not absorb power"),
    ("{id: pc1, kind: plant_controller, generator: unit, der: pv1, params: {ramp_rate_mw_per_min: 1, p_max_mw: 3}}",
     "exactly one of generator and der"),
    ("{id: pc1, kind: plant_controller, params: {ramp_rate_mw_per_min: 1, p_max_mw: 3}}",
     "exactly one of generator and der"),
])
def test_a_controller_that_would_let_a_generator_absorb_power_is_a_scenario_error(tmp_path, entry, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario(scenario_file(tmp_path, f"- {entry}\n", grid=UNIT_GRID))
