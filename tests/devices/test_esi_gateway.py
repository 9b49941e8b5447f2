"""ESI gateway: what a master reads over Modbus and MQTT, and the premise load it controls.

Reference values are physics of the scenario (a 1 MW premise load for half an
hour imports 500 kWh; 20 % shed of 1 MW leaves 0.8 MW), not our own output.
"""

import pytest
from devworlds import scenario_file, start

ESI = "- {id: esi1, kind: esi_gateway, node: home, load: load2, params: {mqtt: {broker: scada}}}\n"


def u32(words):
    return words[0] << 16 | words[1]


def test_energy_import_register_integrates_the_premise_load(tmp_path):
    run = start(scenario_file(tmp_path, ESI))
    master = run.comm.modbus_client("scada", "home")
    out = run.at(1830.0, lambda: (yield from master.read_input_registers(1, 2, 2)))
    run.run(1900.0)
    assert u32(out[0]) == pytest.approx(500_000, abs=1)        # 1.0 MW x 0.5 h, in Wh


def test_price_tier_reads_the_lowest_tier_before_any_price_signal(tmp_path):
    run = start(scenario_file(tmp_path, ESI))
    master = run.comm.modbus_client("scada", "home")
    before = run.at(100.0, lambda: (yield from master.read_input_registers(1, 6, 1)))
    run.publisher("market")(200.0, "esi_gateway/esi1/price", {"price_per_kwh": 0.31, "tier": 3})
    after = run.at(300.0, lambda: (yield from master.read_input_registers(1, 6, 1)))
    run.run(400.0)
    assert before[0] == [1] and after[0] == [3]


def test_event_active_clears_when_the_ems_opts_out(tmp_path):
    run = start(scenario_file(tmp_path, ESI))
    master = run.comm.modbus_client("scada", "home")
    run.publisher("market")(10.0, "esi_gateway/esi1/dr", {"event_id": 9, "start_s": 100, "duration_s": 1800})
    gateway = run.devices["esi1"]
    during = run.at(200.0, lambda: (yield from master.read_discrete_inputs(1, 0, 1)))
    run.at(300.0, lambda: (yield run.world.timeout(0)) and None or gateway.respond(9, opt_in=False))
    after = run.at(400.0, lambda: (yield from master.read_discrete_inputs(1, 0, 1)))
    responses = run.subscribe("ops", "esi_gateway/esi1/dr/response")
    run.run(500.0)
    assert during[0] == [1] and after[0] == [0]
    assert [p["opt_in"] for _, _, p in responses] == [False]


def test_gateway_sheds_the_premise_load_and_the_meter_measures_it(tmp_path):
    devices = ESI + "- {id: m2, kind: smart_meter, node: home, unit_id: 2, load: load2, params: {mqtt: {broker: scada}}}\n"
    run = start(scenario_file(tmp_path, devices))
    gateway = run.devices["esi1"]
    intervals = run.subscribe("ops", "smart_meter/m2/interval")
    run.at(0.0, lambda: (yield run.world.timeout(0)) and None or gateway.set_premise_demand(1.0e6, 0.3e6))
    run.publisher("market")(10.0, "esi_gateway/esi1/dr",
                            {"event_id": 4, "start_s": 300, "duration_s": 1200, "reduction_pct": 20})
    loads = []
    for t in (200.0, 600.0, 1600.0):
        run.at(t, lambda: (yield run.world.timeout(0)) and None or loads.append(run.grid.measurements().load("load2").p_mw))
    run.run(1850.0)
    assert loads == pytest.approx([1.0, 0.8, 1.0])
    first, second = (p for _, _, p in intervals)
    assert first["import_kwh"] == pytest.approx((300 * 1000 + 600 * 800) / 3600, rel=1e-4)
    assert second["import_kwh"] == pytest.approx((600 * 800 + 300 * 1000) / 3600, rel=1e-4)


def test_an_enrolment_whose_step_does_not_divide_an_hour_is_a_scenario_error(tmp_path):
    from cosim.errors import ScenarioError
    from cosim.scenario import load_scenario

    enrolled = ("- {id: esi1, kind: esi_gateway, node: home, load: load2, params: {mqtt: {broker: scada}, enrolment: "
                "{csp: csp_a, zone: Z1, bus: b1, zip: '08001', peak_kw: 50, curtail: 0.2, step: 420}}}\n")
    with pytest.raises(ScenarioError) as error:
        load_scenario(scenario_file(tmp_path, enrolled))
    assert "enrolment" in str(error.value) and "must divide an hour" in str(error.value)
