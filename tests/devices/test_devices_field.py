"""Each device kind driven through the simulated transport: a Modbus master on the SCADA node
reads its registers and writes its coils; an MQTT subscriber receives what it publishes."""

import math
import struct

import pytest

from cosim.comm import ModbusError
from cosim.comm.modbus.datamodel import ExceptionCode
from devices.registermaps.der_inverter import SUNS_MARKER
from devworlds import scenario_file, start


def f32(words):
    return struct.unpack(">f", struct.pack(">HH", *words))[0]


def test_relay_registers_settings_lock_and_command_coils(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: r1, kind: protective_relay, node: field, unit_id: 3, switch: cb,
           params: {pickup_51_a: 400, time_dial: 0.5}}
        - {id: r2, kind: protective_relay, node: field, unit_id: 4, switch: sw2, allow_protection_writes: true}
        """)
    run = start(path)
    master = run.comm.modbus_client("scada", "field")

    def script():
        currents = yield from master.read_input_registers(3, 0, 5)
        settings = yield from master.read_holding_registers(3, 0, 3)
        codes = []
        for unit, address, value in ((3, 0, 500), (4, 0, 500), (4, 1, 99)):
            try:
                yield from master.write_register(unit, address, value)
                codes.append(None)
            except ModbusError as error:
                codes.append(error.code)
        yield from master.write_coil(3, 0, True)              # trip_command
        yield run.world.timeout(0.5)
        opened = yield from master.read_discrete_inputs(3, 0, 1)
        coils = yield from master.read_coils(3, 0, 2)
        yield from master.write_coil(3, 1, True)              # close_command
        yield run.world.timeout(0.5)
        closed = yield from master.read_discrete_inputs(3, 0, 1)
        return currents, settings, codes, opened, coils, closed

    out = run.at(10.0, script)
    run.run(20.0)
    currents, settings, codes, opened, coils, closed = out[0]
    truth = run.grid.measurements().switch("cb").i_a
    assert currents[0] == round(truth) and currents[4] == pytest.approx(11000, rel=0.05)
    assert settings == [400, 2, 50]                           # pickup A, curve code, time dial x100
    assert codes == [ExceptionCode.ILLEGAL_DATA_ADDRESS, None, ExceptionCode.ILLEGAL_DATA_VALUE]
    assert run.devices["r2"].logic.elements["51"].settings.pickup_a == 500  # rebuilt after the allowed write
    assert opened == [0] and coils == [0, 0] and closed == [1]
    assert [e["action"] for e in run.of_kind("device_action")] == ["SetSwitch", "SetSwitch"]


def test_rtu_point_list_and_select_before_operate(tmp_path):
    path = scenario_file(tmp_path, """
        - id: rtu1
          kind: rtu
          node: field
          params:
            select_before_operate: true
            select_timeout_s: 5
            points:
              - {name: v_b1_pu, kind: analog, source: "bus/b1:vm_pu", data_type: u16, scale: 0.0001}
              - {name: p_l1_kw, kind: analog, source: "branch/l1:p_mw", data_type: i32, gain: 1000}
              - {name: cb_closed, kind: status, source: "switch/cb:closed"}
              - {name: load2_served, kind: status, source: "load/load2:served"}
              - {name: cb_open, kind: control, source: "switch/cb:open"}
              - {name: cap_step, kind: setpoint, source: "shunt/cap1:step", minimum: 0, maximum: 1}
        """)
    run = start(path)
    master = run.comm.modbus_client("scada", "field")

    def script():
        analog = yield from master.read_input_registers(1, 0, 3)
        status = yield from master.read_discrete_inputs(1, 0, 2)
        try:
            yield from master.write_coil(1, 0, True)          # operate without select
            refused = None
        except ModbusError as error:
            refused = error.code
        yield from master.write_coil(1, 1, True)              # cb_open.select
        yield from master.write_coil(1, 0, True)              # operate
        yield run.world.timeout(1.0)
        after = yield from master.read_discrete_inputs(1, 0, 2)
        yield from master.write_register(1, 0, 1)            # cap_step
        yield run.world.timeout(1.0)
        return analog, status, refused, after

    out = run.at(5.0, script)
    run.run(15.0)
    analog, status, refused, after = out[0]
    m = run.grid.measurements()
    assert 0.9 < analog[0] / 10000 < 1.05
    assert (analog[1] << 16 | analog[2]) == pytest.approx(2250, rel=0.03)   # kW through l1: loads less PV, plus losses
    assert status == [1, 1] and refused is ExceptionCode.ILLEGAL_DATA_VALUE
    assert after == [0, 0]                                    # breaker open, load2 dead
    assert not m.switch_closed("cb") and int(m.network.shunts.step[0]) == 1
    assert [e["point"] for e in run.of_kind("rtu_control")] == ["cb_open"]


def test_sectionalizer_commands_over_modbus(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: s1, kind: sectionalizer, node: field, switch: sw2}
        """)
    run = start(path)
    master = run.comm.modbus_client("scada", "field")

    def script():
        yield from master.write_coil(1, 0, True)              # open_command
        yield run.world.timeout(1.0)
        opened = yield from master.read_discrete_inputs(1, 0, 1)
        yield from master.write_coil(1, 1, True)              # close_command
        yield run.world.timeout(1.0)
        closed = yield from master.read_discrete_inputs(1, 0, 1)
        return opened, closed

    out = run.at(5.0, script)
    run.run(10.0)
    assert out[0] == ([0], [1])


def test_capacitor_controller_switches_on_low_voltage_after_its_delay(tmp_path):
    path = scenario_file(tmp_path, """
        - id: cap_ctl
          kind: capacitor_bank_controller
          node: field
          shunt: cap1
          params: {control_mode: voltage, voltage_setpoint_pu: 1.0, voltage_bandwidth_pu: 0.02,
                   time_delay_s: 30, min_switching_interval_s: 60, sample_period_s: 5}
        """)
    run = start(path)
    master = run.comm.modbus_client("scada", "field")
    out = run.at(100.0, lambda: (yield from master.read_input_registers(1, 0, 1)))
    bank = run.at(100.0, lambda: (yield from master.read_discrete_inputs(1, 0, 1)))
    run.run(200.0)
    (switch,) = run.of_kind("capacitor_switch")
    voltage = run.series("device/cap_ctl", "voltage")
    before = [v for t, v in voltage if t < 30.0]
    assert max(before) < 0.99                                  # below the band from the start
    assert switch["closed"] and switch["time_s"] == pytest.approx(30.0)
    assert bank[0] == [1] and out[0][0] / 10000 > before[-1] + 0.005
    assert int(run.grid.network.shunts.step[0]) == 1


def test_der_inverter_sunspec_map_curtailment_and_volt_var(tmp_path):
    path = scenario_file(tmp_path, """
        - id: inv1
          kind: der_inverter
          node: field
          der: pv1
          params: {rated_kw: 300, volt_var: {enabled: true}}
        """)
    run = start(path)
    master = run.comm.modbus_client("scada", "field")
    base = 40000

    def script():
        marker = yield from master.read_holding_registers(1, base, 2)
        model_id = yield from master.read_holding_registers(1, base + 2, 1)
        w_address = run.devices["inv1"].store.register_map.point("inverter.W").address
        before = yield from master.read_holding_registers(1, w_address, 2)  # W, W_SF
        limit = run.devices["inv1"].store.register_map.point("controls.WMaxLimPct").address
        yield from master.write_registers(1, limit, [500])                   # 50.0 % (scale 0.1)
        enable = run.devices["inv1"].store.register_map.point("controls.WMaxLim_Ena").address
        yield from master.write_register(1, enable, 1)
        yield run.world.timeout(10.0)
        after = yield from master.read_holding_registers(1, w_address, 2)
        return marker, model_id, before, after

    out = run.at(5.0, script)
    run.run(30.0)
    marker, model_id, before, after = out[0]
    assert (marker[0] << 16 | marker[1]) == SUNS_MARKER and model_id == [1]
    scale = 10.0 ** (before[1] - 65536 if before[1] >= 32768 else before[1])  # W_SF from the rating: 300 kW * 1.5 fits
    assert scale == 100.0 and before[0] * scale == 250_000 and after[0] * scale == 150_000  # 250 kW, capped at 150 kW
    assert run.grid.measurements().der("pv1").p_mw == pytest.approx(0.15)
    v = run.grid.measurements().bus_voltage("b2").vm_pu
    q_expected = float(__import__("numpy").interp(v, [0.92, 0.98, 1.02, 1.08], [44, 0, 0, -44])) / 100 * 0.3
    assert v < 0.98 and run.grid.measurements().der("pv1").q_mvar == pytest.approx(q_expected, abs=0.011)


def test_smart_meter_modbus_readout_interval_data_outage_events_and_remote_disconnect(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: m2, kind: smart_meter, node: home, load: load2, params: {interval_s: 15min, mqtt: {broker: scada}}}
        """, events="- {at: 1000, kind: open_switch, target: switch/sw2}\n- {at: 1100, kind: close_switch, target: switch/sw2}\n")
    run = start(path)
    received = run.subscribe("ops", "smart_meter/m2/#")
    master = run.comm.modbus_client("scada", "home")

    def script():
        values = yield from master.read_input_registers(1, 14, 2)           # energy_import_wh
        yield from master.write_coil(1, 0, False)                            # service switch: disconnect
        yield run.world.timeout(1.0)
        return values

    out = run.at(1800.0, script)
    run.run(1900.0)
    wh = out[0][0] << 16 | out[0][1]
    # 1.0 MW for 1800 s less the 100 s outage: 472 kWh
    assert wh == pytest.approx(1.0e6 * 1700 / 3600, abs=2)
    topics = [t for _, t, _ in received]
    assert topics == ["smart_meter/m2/interval", "smart_meter/m2/event", "smart_meter/m2/event",
                      "smart_meter/m2/interval"]
    first, outage, restoration, second = (p for _, _, p in received)
    assert first["import_kwh"] == pytest.approx(250.0, rel=1e-6) and first["end_s"] == 900
    assert outage["event"] == "outage" and outage["time_s"] == 1000 and restoration["time_s"] == 1100
    assert second["import_kwh"] == pytest.approx(1.0e3 * 800 / 3600, rel=1e-6)
    assert not run.grid.network.loads.in_service[run.grid.network.loads.index("load2")]


def test_pmu_publishes_synchrophasor_frames_at_its_reporting_rate(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: pmu1, kind: pmu, node: field, bus: b1, branch: l2,
           params: {reporting_rate_fps: 10, mqtt: {broker: scada, qos: 0}}}
        """)
    run = start(path)
    frames = run.subscribe("ops", "pmu/pmu1/frame")
    master = run.comm.modbus_client("scada", "field")
    out = run.at(2.05, lambda: (yield from master.read_input_registers(1, 0, 10)))
    run.run(3.0)
    times_us = [p["soc"] * 1_000_000 + p["fracsec"] for _, _, p in frames]
    assert len(times_us) >= 25 and all(b - a == 100_000 for a, b in zip(times_us, times_us[1:]))
    v = run.grid.measurements().bus_voltage("b1")
    assert frames[-1][2]["vm_v"] == pytest.approx(v.v_kv * 1000 / math.sqrt(3))
    assert frames[-1][2]["freq_hz"] == 50.0 and frames[-1][2]["stat"] == 0
    registers = out[0]
    assert f32(registers[0:2]) == pytest.approx(v.v_kv * 1000 / math.sqrt(3), rel=1e-6)
    assert f32(registers[8:10]) == 50.0


def test_esi_gateway_forwards_price_and_dr_to_the_ems_and_reports_response(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: esi1, kind: esi_gateway, node: home, load: load2, params: {mqtt: {broker: scada}}}
        """, events="- {at: 400, kind: scale_load, target: load/load2, params: {factor: 0.8}}\n")
    run = start(path)
    responses = run.subscribe("ops", "esi_gateway/esi1/dr/#")
    publish = run.publisher("market")
    publish(10.0, "esi_gateway/esi1/price", {"price_per_kwh": 0.31, "tier": 3})
    publish(20.0, "esi_gateway/esi1/price", b"not json")
    publish(30.0, "esi_gateway/esi1/dr", {"event_id": 7, "start_s": 300, "duration_s": 600, "reduction_pct": 20})
    gateway = run.devices["esi1"]
    seen = []

    def ems():  # a stand-in for the Customer-domain EMS: consume the inbox, opt in to events
        while True:
            message = yield gateway.inbox.get()
            seen.append(message)
            if hasattr(message, "event_id"):
                gateway.respond(message.event_id, opt_in=True)

    run.world.process(ems())
    run.run(1000.0)
    assert [type(m).__name__ for m in seen] == ["PriceSignal", "DrEvent"]
    assert seen[0].price_per_kwh == 0.31 and seen[1].duration_s == 600
    assert gateway.store.get("price_tier") == 3 and len(run.of_kind("esi_bad_message")) == 1
    (response, measured) = [p for _, topic, p in responses if topic != "esi_gateway/esi1/dr"]
    assert response["opt_in"] is True and response["event_id"] == 7
    # 1.0 MW for 100 s then 0.8 MW for 500 s: average 833.3 kW against a 1 MW baseline
    assert measured["baseline_w"] == pytest.approx(1.0e6) and measured["average_w"] == pytest.approx(833333.3, abs=1)


def test_meter_population_reports_through_collectors_over_mqtt(tmp_path):
    comm = """
    comm:
      nodes: [{id: scada}, {id: col1}, {id: col2}, {id: ops}]
      node_groups:
        - {id_format: "m{index:04d}", count: 400, link_to: [col1, col2], link: {profile: ami_rf_mesh, loss: 0}}
      links:
        - {a: scada, b: col1, profile: lte, loss: 0}
        - {a: scada, b: col2, profile: lte, loss: 0}
        - {a: scada, b: ops, profile: lan}
      mqtt:
        brokers: [{node: scada}]
    """
    path = scenario_file(tmp_path, """
        - {id: ami, kind: meter_population, params: {node_group: "m{index:04d}", loads: [load1, load2],
           noise_pct: 0, collect_s: 120, mqtt: {broker: scada}}}
        """, comm=comm, events="- {at: 1000, kind: open_switch, target: switch/sw2}\n")
    run = start(path)
    batches = run.subscribe("ops", "meter_population/ami/+")
    run.run(2000.0)
    first = [p for _, _, p in batches if p["interval_end_s"] == 900]
    second = [p for _, _, p in batches if p["interval_end_s"] == 1800]
    assert len(first) == 2 and sum(len(p["readings"]) for p in first) == 400
    total = sum(sum(p["readings"].values()) for p in first)
    assert total == pytest.approx((1.5 + 1.0) * 1000 * 0.25, rel=1e-3)     # kWh in 15 min
    # load2's 200 meters lost supply at 1000 s: they send nothing for the second interval
    assert sum(len(p["readings"]) for p in second) == 200
    population = run.devices["ami"]
    assert population.store is None and population.count == 400


def test_esi_gateway_modbus_side_starts_an_event_and_opts_out(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: esi1, kind: esi_gateway, node: home, load: load2, params: {mqtt: {broker: scada}}}
        """)
    run = start(path)
    responses = run.subscribe("ops", "esi_gateway/esi1/dr/+")
    master = run.comm.modbus_client("scada", "home")
    gateway = run.devices["esi1"]
    seen = []
    gateway.listen(seen.append)

    def script():
        yield from master.write_registers(1, 2, [42, 30, 15])     # dr_event_id, dr_duration_min, reduction %
        yield from master.write_coil(1, 0, True)                  # dr_event_start
        yield run.world.timeout(5.0)
        active = yield from master.read_discrete_inputs(1, 0, 2)
        yield from master.write_coil(1, 1, True)                  # dr_opt_out
        yield run.world.timeout(5.0)
        demand = yield from master.read_input_registers(1, 0, 2)
        return active, demand

    out = run.at(100.0, script)
    run.run(2100.0)
    active, demand = out[0]
    assert active == [1, 1] and (demand[0] << 16 | demand[1]) == 1_000_000
    assert [(m.event_id, m.duration_s, m.source) for m in seen] == [(42, 1800.0, "modbus")]
    payloads = [p for _, _, p in responses]
    assert payloads[0]["opt_in"] is False and payloads[1]["event_id"] == 42
    assert payloads[1]["reduction_w"] == pytest.approx(0.0, abs=1)


def test_net_meter_exports_when_its_der_exceeds_the_load(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: m2, kind: smart_meter, node: home, load: load2, der: pv1}
        """, events="- {at: 0, kind: scale_load, target: load/load2, params: {factor: 0.1}}\n")
    run = start(path)
    master = run.comm.modbus_client("scada", "home")
    out = run.at(3600.0, lambda: (yield from master.read_input_registers(1, 6, 12)))
    run.run(3601.0)
    words = out[0]
    power = words[0] << 16 | words[1]
    power = power - (1 << 32) if power >= 1 << 31 else power
    assert power == pytest.approx(-150_000, abs=1)                # 0.1 MW load, 0.25 MW PV
    assert (words[8] << 16 | words[9]) == 0                        # energy_import_wh
    assert (words[10] << 16 | words[11]) == pytest.approx(150_000, abs=2)   # exported in one hour


def test_relay_instantaneous_element_trips_at_its_definite_delay(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: r1, kind: protective_relay, switch: cb, params: {pickup_51_a: 400, time_dial: 5, pickup_50_a: 2000, delay_50_s: 0.05}}
        """, events="- {at: 10, kind: fault, target: bus/b1}\n")
    run = start(path)
    run.run(20.0)
    (trip,) = run.of_kind("relay_trip")
    assert trip["element"] == "50" and trip["time_s"] == pytest.approx(10.05)


def test_rtu_fault_passage_indicator_latches_and_resets_over_modbus(tmp_path):
    path = scenario_file(tmp_path, """
        - id: rtu_s2
          kind: rtu
          node: field
          params:
            fault_indicator_a: 500
            points:
              - {name: fault_indicator, kind: status, source: "switch/sw2:fault_indicator"}
              - {name: reset_indicator, kind: control, source: "switch/sw2:reset_indicator"}
        - {id: r1, kind: protective_relay, switch: cb, params: {pickup_51_a: 400, time_dial: 0.5}}
        """, events="- {at: 10, kind: fault, target: bus/b2}\n")
    run = start(path)
    master = run.comm.modbus_client("scada", "field")

    def script():
        latched = yield from master.read_discrete_inputs(1, 0, 1)
        yield from master.write_coil(1, 0, True)
        yield run.world.timeout(1.0)
        cleared = yield from master.read_discrete_inputs(1, 0, 1)
        return latched, cleared

    out = run.at(30.0, script)
    run.run(40.0)
    assert run.of_kind("relay_trip") and run.of_kind("rtu_fault_indicator")
    assert out[0] == ([1], [0])   # latched after the relay cleared the fault; reset by the control coil
