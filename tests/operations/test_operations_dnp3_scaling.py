"""The SCADA DNP3 master gives analog inputs in engineering units from the point map's scaling, as the Modbus
master does from the register map.

A smart meter (analog inputs in counts of 0.1 V, 0.01 A, 1 W) reports over
DNP3 to the dnp3_feeder scenario's master, which names the meter's kind. The
references are the world's, not the master's: the scenario's load (1.0 MW,
0.3 Mvar), the grid solver's voltage at the meter's bus, and the current
those two make (I = |S| / 3 V).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import yaml

from cosim.cli import main
from cosim.comm.dnp3 import AnalogInput, AppControl, Dnp3Link, FunctionCode, Iin, ObjectHeader, Qualifier, Response
from cosim.operations.dnp3_master import Dnp3MasterSession, analog_scales
from devices.registermaps import DeviceKind

SCENARIO = Path(__file__).parents[2] / "configs" / "dnp3_feeder.yaml"
P_W, Q_VAR = 1.0e6, 0.3e6  # load_b in the scenario
BASE_KV = 11.0


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> dict[tuple[str, str], float]:
    spec = yaml.safe_load(SCENARIO.read_text())
    master = spec["actors"][2]["applications"][0]["params"]
    master["outstations"].append({"name": "meter_b", "node": "meter_b", "address": 30, "kind": "smart_meter"})
    master["commands"] = []
    spec["comm"]["nodes"].append({"id": "meter_b", "actor": "feeder_customers"})
    spec["comm"]["links"].append({"a": "scada", "b": "meter_b", "profile": "lte"})
    spec["devices"].append({"id": "meter_b", "kind": "smart_meter", "node": "meter_b", "actor": "feeder_customers",
                            "load": "load_b", "params": {"interval_s": "15min", "sample_period_s": 60},
                            "protocols": {"modbus": {}, "dnp3": {"address": 30}}})
    spec["run"]["duration"] = "5min"
    spec["events"] = []
    folder = tmp_path_factory.mktemp("dnp3_scaling")
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["run", str(path), "--out", str(folder / "run"), "--no-progress"]) == 0
    with (folder / "run" / "timeseries.csv").open() as f:
        return {(r["entity"], r["quantity"]): float(r["value"]) for r in csv.DictReader(f)}  # the last of each


def test_the_master_records_the_meter_in_engineering_units(series):
    meter = "control_centre/meter_b"
    volts = series[("bus/b2", "vm")] * BASE_KV * 1000 / math.sqrt(3)
    assert series[(meter, "voltage_an_v")] == pytest.approx(volts, abs=0.05)  # one count is 0.1 V
    assert series[(meter, "active_power_w")] == pytest.approx(P_W, rel=1e-3)
    assert series[(meter, "reactive_power_var")] == pytest.approx(Q_VAR, rel=1e-3)
    amperes = math.hypot(P_W, Q_VAR) / (3 * volts)
    assert series[(meter, "current_a_a")] == pytest.approx(amperes, abs=0.005)  # one count is 0.01 A
    assert series[(meter, "analog_0")] == pytest.approx(volts * 10, abs=0.5)  # the counts as sent


def test_float_variations_are_already_engineering_units():
    scales = analog_scales(DeviceKind.SMART_METER)
    assert scales[0].name == "voltage_an_v" and scales[0].scale == 0.1 and scales[0].unit == "V"
    session = Dnp3MasterSession(1, 30, scales)
    outstation = Dnp3Link(30, is_master=False)
    headers = (ObjectHeader(30, 1, Qualifier.START_STOP_8, 0, 0, items=((0, AnalogInput(61615)),)),
               ObjectHeader(30, 5, Qualifier.START_STOP_8, 3, 3, items=((3, AnalogInput(56.48)),)))
    fragment = Response(AppControl(0), FunctionCode.RESPONSE, Iin(0), headers).encode()
    heard = next(iter(session.receive(outstation.send(1, fragment))))
    by_name = {c.name: c.engineering for c in heard.changes}
    assert by_name["voltage_an_v"] == pytest.approx(6161.5)
    assert by_name["current_a_a"] == pytest.approx(56.48, rel=1e-6)  # g30v5: a float in amperes, not scaled again


def test_a_kind_without_a_dnp3_map_is_refused_in_the_scenario(tmp_path):
    spec = yaml.safe_load(SCENARIO.read_text())
    spec["actors"][2]["applications"][0]["params"]["outstations"][0]["kind"] = "pmu"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--no-progress"]) == 2
