"""Sequence-of-events buffers downloaded over Modbus, as a protection engineer does after an event.

The window layout comes from devices.soe (the same table the docs are
generated from); the expected trips, their elements and times come from the
device's own event log and the fault study, the time stamps from Python's
calendar arithmetic for the scenario's ``run.start_utc``.
"""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from cosim.grid import ApplyFault
from cosim.scenario import load_scenario
from devices.soe import RECORD_FIELDS, RECORD_REGISTERS, SOE_BASE, SoeEvent
from devworlds import event, scenario_file, start

FEEDER = Path(__file__).parents[2] / "configs" / "protection_feeder.yaml"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)  # run.start_utc's default


def download(master, unit, run, at_s):
    """Read the whole SOE window at ``at_s`` (in reads of at most 120 registers); decode it into dicts."""
    total = 2 + 16 * RECORD_REGISTERS

    def script():
        words = []
        for offset in range(0, total, 120):
            words += yield from master.read_input_registers(unit, SOE_BASE + offset, min(120, total - offset))
        return words

    out = run.at(at_s, script)

    def decode():
        words = out[0]
        records, address = [], 2
        for _ in range(words[0]):
            record = {}
            for name, data_type, scale, _, _ in RECORD_FIELDS:
                if data_type.name == "U32":
                    record[name] = (words[address] << 16) | words[address + 1]
                    address += 2
                else:
                    record[name] = words[address] * scale if scale != 1.0 else words[address]
                    address += 1
            records.append(record)
        return words[0], words[1], records

    return decode


def utc_s(record):
    return (datetime.fromtimestamp(record["soc_s"], timezone.utc) - START).total_seconds() + record["fracsec_us"] / 1e6


def test_recloser_soe_holds_every_shot_with_its_current_and_the_lockout():
    scenario = load_scenario(FEEDER)
    t0 = 60.0
    run = start(scenario, [event(t0, "fault", "branch/feeder_2", fraction=0.5)])
    study = run.grid.fault_study(ApplyFault(branch="feeder_2", fraction=0.5))
    net = run.grid.network
    k = int(net.switches.branch[net.switches.index("rec_sw")])
    fault_a = float(max(study.i_from_ka[k], study.i_to_ka[k])) * 1000.0
    unit = next(d for d in scenario.spec.devices if d["id"] == "feeder_recloser").get("unit_id", 1)
    soe = download(run.comm.modbus_client("scada", "recloser_radio"), unit, run, t0 + 100.0)
    run.run(t0 + 110.0)
    count, last, records = soe()
    trips = run.of_kind("recloser_trip")
    assert count == 8 and last == 8                       # 4 trips, 3 recloses, lockout
    assert [r["sequence"] for r in records] == list(range(8, 0, -1))
    assert [SoeEvent(r["event"]).name for r in reversed(records)] == [
        "PROTECTION_TRIP", "RECLOSE", "PROTECTION_TRIP", "RECLOSE", "PROTECTION_TRIP", "RECLOSE",
        "PROTECTION_TRIP", "LOCKOUT"]
    trip_records = [r for r in reversed(records) if r["event"] == SoeEvent.PROTECTION_TRIP]
    assert all(r["element"] == 51 for r in trip_records) and records[0]["element"] == 79
    for record, trip in zip(trip_records, trips):
        assert utc_s(record) == pytest.approx(trip["trip_time_s"], abs=1e-6)
        assert record["ia_a"] == pytest.approx(fault_a, abs=1.0) and record["ia_a"] == round(trip["current_a"])


def test_relay_and_rtu_record_a_remote_trip_and_the_status_change(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: r1, kind: protective_relay, node: field, unit_id: 3, switch: cb}
        - id: rtu1
          kind: rtu
          node: field
          unit_id: 4
          params:
            points:
              - {name: v_b1_pu, kind: analog, source: "bus/b1:vm_pu", data_type: u16, scale: 0.0001}
              - {name: cb_closed, kind: status, source: "switch/cb:closed"}
        """)
    run = start(path)
    master = run.comm.modbus_client("scada", "field")
    run.at(30.0, lambda: (yield from master.write_coil(3, 0, True)))   # relay trip_command
    relay_soe = download(master, 3, run, 40.0)
    rtu_soe = download(master, 4, run, 40.0)
    run.run(45.0)
    count, _, (trip,) = relay_soe()
    (logged,) = run.of_kind("relay_remote_trip")
    assert count == 1 and trip["event"] == SoeEvent.REMOTE_TRIP and trip["element"] == 1
    assert utc_s(trip) == pytest.approx(logged["time_s"], abs=1e-6) and trip["ia_a"] == round(logged["current_a"])
    assert 0.9 < trip["v_pu"] < 1.1
    count, _, (change,) = rtu_soe()
    assert count == 1 and change["event"] == SoeEvent.STATUS_CHANGE and change["element"] == 1  # point 1: cb_closed
    assert utc_s(change) == pytest.approx(logged["time_s"], abs=1e-6)
