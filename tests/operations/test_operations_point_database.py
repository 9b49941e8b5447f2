"""The SCADA master's point database comes from the scenario's devices: ids checked by the loader,
addresses from the devices' own register maps, RTU roles from the points wired to its switch."""

from pathlib import Path

import pytest

from cosim.errors import ScenarioError
from cosim.operations.scada import PolledDevice, contiguous_runs
from cosim.scenario import load_scenario
from devices.config import parse_device
from devices.registermaps import DeviceKind

CONFIG = Path(__file__).parents[2] / "configs" / "flisr_fibre.yaml"


def devices_of(scenario):
    return {raw["id"]: parse_device(raw) for raw in scenario.spec.devices}


def test_rtu_roles_come_from_the_points_wired_to_its_switch():
    configs = devices_of(load_scenario(CONFIG))
    rtu = PolledDevice.from_device_config(configs["rtu_s2"], scan_s=10)
    assert rtu.kind is DeviceKind.RTU and rtu.node == "rtu_s2" and rtu.switch == "s2" and rtu.scan_s == 10
    assert rtu.roles == {"closed": "closed", "fault_flag": "fault_indicator", "open": "open_command",
                         "close": "close_command", "fault_reset": "reset_indicator"}
    assert rtu.measurements == ("current_a",)
    # the same map the device serves: the addresses agree by construction
    served = configs["rtu_s2"].params.register_map("rtu_s2")
    assert [(p.name, p.table, p.address) for p in rtu.register_map.points] == [(p.name, p.table, p.address) for p in served.points]
    recloser = PolledDevice.from_device_config(configs["rec1"])
    assert recloser.switch == "rec1" and recloser.roles["locked_out"] == "locked_out"
    relay = PolledDevice.from_device_config(configs["cb2"])
    assert relay.kind is DeviceKind.PROTECTIVE_RELAY and "locked_out" not in relay.roles


def test_a_poll_reads_through_mapped_gaps_one_request_per_table():
    recloser = PolledDevice.from_device_config(devices_of(load_scenario(CONFIG))["rec1"])
    runs = [(table.name, start, count) for table, start, count, _ in contiguous_runs(recloser.read_points(), recloser.register_map)]
    assert runs == [("DISCRETE_INPUTS", 0, 2), ("INPUT_REGISTERS", 0, 8)]  # current_a_a at 0 .. trip_count at 6-7


def test_unknown_device_in_the_polling_list_is_a_scenario_error(tmp_path):
    text = CONFIG.read_text().replace("poll: [rec1, cb2, rtu_s2,", "poll: [rec1, cb9, rtu_s2,")
    (tmp_path / "flisr_fibre.yaml").write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "flisr_fibre.yaml")
    assert any("params.poll[1]: unknown device 'cb9'" in str(p) for p in caught.value.problems)
