"""Bad device entries are scenario errors: every problem, one line each, with file, line and field path."""

import pytest

from cosim.errors import ScenarioError
from cosim.scenario import load_scenario
from cosim.scenario.checks import _device_refs
from devworlds import scenario_file


def problems(tmp_path, devices, **options):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario_file(tmp_path, devices, **options))
    return [str(p) for p in caught.value.problems]


def test_schema_errors_name_the_device_and_field_with_the_line(tmp_path):
    found = problems(tmp_path, """
        - {id: r1, kind: protective_relay, switch: cb, params: {curve: ieee_sorta_inverse}}
        - {id: r2, kind: protective_relay, switch: cb, params: {pickup_51_a: 9000}}
        - {id: rc, kind: recloser, switch: cb, params: {fast_operations: 4, delayed_operations: 2}}
        - {id: x, kind: thermostat}
        - {id: s1, kind: sectionalizer}
        - {id: m1, kind: smart_meter, load: load1, paramz: {}}
        """)
    text = "\n".join(found)
    assert "scenario.yaml:" in found[0]
    assert "devices[0].params.curve: unknown curve 'ieee_sorta_inverse'" in text
    assert "devices[1].params: pickup_51_a 9000 outside the device's range [1, 6000] A" in text
    assert "devices[2].params: 6 trips to lockout need 5 reclose_intervals_s, got 3" in text
    assert "devices[3].kind: unknown device kind 'thermostat'" in text
    assert "devices[4]: a sectionalizer needs switch" in text
    assert "devices[5].paramz: unknown field (did you mean 'params'?)" in text
    line_of = {p.split(": ")[1]: int(p.split(":")[1]) for p in found}
    assert line_of["devices[1].params"] == line_of["devices[0].params.curve"] + 1


def test_references_to_grid_comm_actors_and_unit_ids_are_checked(tmp_path):
    found = problems(tmp_path, """
        - {id: r1, kind: protective_relay, node: field, switch: no_such_cb, actor: nobody}
        - {id: r1, kind: recloser, node: field, switch: sw2}
        - {id: pmu1, kind: pmu, node: nowhere, bus: b1}
        - {id: m1, kind: smart_meter, node: home, load: load1, params: {mqtt: {broker: field}}}
        - {id: rtu1, kind: rtu, params: {points: [{name: p, kind: analog, source: "load/ghost:p_mw"}]}}
        - {id: rtu2, kind: rtu, node: field, params: {points: [{name: p, kind: control, source: "bus/b1:open"}]}}
        - {id: cap, kind: capacitor_bank_controller, shunt: cap1, params: {control_mode: var}}
        """)
    text = "\n".join(found)
    assert "devices[0].switch: 'switch/no_such_cb': no switch named 'no_such_cb' in the grid" in text
    assert "devices[0].actor: unknown actor 'nobody'" in text
    assert "devices[1].id: duplicate device id 'r1' (first used at devices[0])" in text
    assert "devices[1].unit_id: unit_id 1 on node 'field' already used by devices[0]" in text
    assert "devices[2].node: unknown comm node 'nowhere'" in text
    assert "devices[3].params.mqtt.broker: no MQTT broker at node 'field' (brokers: scada)" in text
    assert "devices[4].params.points[0].source: 'load/ghost': no load named 'ghost' in the grid" in text
    assert "devices[4].node: a rtu talks over the network" in text
    assert "devices[5].params.points[0]: a control point mirrors switch, load, shunt elements, not 'bus'" in text
    assert "devices[6]: var control needs branch" in text


def test_a_device_on_the_network_without_a_comm_section(tmp_path):
    found = problems(tmp_path, "- {id: r1, kind: protective_relay, node: field, switch: cb}\n", comm="")
    assert any("devices[0].node: names comm node 'field' but the scenario has no comm section" in p for p in found)


def test_application_params_naming_devices_are_checked():
    class Poll:
        poll = ["r1", "ghost", "m1"]
        relay = "m1"

    kinds = {"r1": "protective_relay", "m1": "smart_meter"}
    found = list(_device_refs(("params",), Poll(), {"poll": "*", "relay": "protective_relay"}, kinds))
    assert found == [
        (("params", "poll", 1), "unknown device 'ghost'"),
        (("params", "relay"), "device 'm1' is a smart_meter, expected a protective_relay"),
    ]


def test_the_shipped_scenarios_validate():
    from pathlib import Path

    root = Path(__file__).parents[2] / "configs"
    assert load_scenario(root / "protection_feeder.yaml").spec.devices


def test_a_device_talking_mqtt_cannot_share_the_broker_node(tmp_path):
    found = problems(tmp_path, "- {id: p, kind: pmu, node: scada, bus: b1, params: {mqtt: {broker: scada}}}\n")
    assert any("devices[0].node: node 'scada' hosts the MQTT broker" in p for p in found)
