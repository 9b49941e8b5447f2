"""Report by exception, device side: what a device sends unasked, when, and what a bad config or payload gets.

Reports are received by an MQTT subscriber on the SCADA node, as any master
would; the reference for "when" is the grid event's time and the protection
formula's trip time, for "what" the device's own register map read over Modbus.
"""

import json

import pytest
from devworlds import scenario_file, start

from cosim.errors import ScenarioError
from cosim.scenario import load_scenario
from devices.reports import PointReport, ReportCause, ReportDecodeError

RBE = "reporting: {mode: rbe, broker: scada, deadband_pct: 5}"


def test_report_round_trip_and_malformed_payloads():
    report = PointReport("r1", 12.5, 3, ReportCause.CHANGE, (("breaker_closed", False), ("trip_count", 2), ("current_a_a", 410.0)))
    assert PointReport.decode(report.encode()) == report
    assert json.loads(report.encode()) == {"device": "r1", "t": 12.5, "seq": 3, "cause": "change",
                                           "values": {"breaker_closed": False, "trip_count": 2, "current_a_a": 410.0}}
    for bad in (b"\xff", b"[]", b'{"device": "", "t": 1, "seq": 0, "cause": "change", "values": {}}',
                b'{"device": "r1", "t": -1, "seq": 0, "cause": "change", "values": {}}',
                b'{"device": "r1", "t": 1, "seq": true, "cause": "change", "values": {}}',
                b'{"device": "r1", "t": 1, "seq": 0, "cause": "whim", "values": {}}',
                b'{"device": "r1", "t": 1, "seq": 0, "cause": "change", "values": {"a": [1]}}'):
        with pytest.raises(ReportDecodeError):
            PointReport.decode(bad)


def test_relay_reports_its_trip_at_once_and_analogs_beyond_the_deadband(tmp_path):
    path = scenario_file(tmp_path, f"""
        - {{id: r1, kind: protective_relay, node: field, switch: cb,
           params: {{pickup_51_a: 400, curve: ieee_very_inverse, time_dial: 0.5, {RBE}}}}}
        """, duration="2h", events="""
        - {at: 10min, kind: open_switch, target: switch/sw2}
        - {at: 20min, kind: scale_load, target: load/load1, params: {factor: 1.01}}
        - {at: 1h, kind: fault, target: bus/b1}
        """)
    run = start(path)
    received = run.subscribe("ops", "rbe/#")
    run.run(7200.0)
    reports = [PointReport.decode(json.dumps(payload).encode()) for _t, _topic, payload in received]
    assert all(topic == "rbe/r1" for _t, topic, _p in received)
    assert [r.sequence for r in reports] == list(range(len(reports)))
    # the startup report, then one per change that matters: nothing in quiet time
    times = [r.time_s for r in reports]
    trip = run.of_kind("relay_trip")[0]
    assert 600.0 in times                        # load2 (40 % of the current) dropped: beyond 5 %
    assert 1200.0 not in times                   # load1 1 % up: inside the deadband
    by_time: dict = {}
    for r in reports:  # the trip step and the step that sees the breaker open report at the same instant
        by_time.setdefault(r.time_s, {}).update(r.values)
    assert by_time[3600.0]["pickup_51"] is True  # the fault: picked up at once
    tripped = by_time[trip["trip_time_s"]]
    assert tripped["breaker_closed"] is False and tripped["trip_count"] == 1
    # the trip output pulsed: up in the trip step, down once the breaker interrupted the current
    assert [dict(r.values).get("trip_output") for r in reports if r.time_s == trip["trip_time_s"]] == [True, False]
    # received within the LAN's latency, and with the values a poll decodes from the map
    arrival = next(t for t, _topic, p in received if p["t"] == trip["trip_time_s"])
    assert 0 < arrival - trip["trip_time_s"] < 0.01
    assert len(reports) <= 8


def test_mixed_mode_reports_status_only_and_poll_mode_nothing(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: r1, kind: protective_relay, node: field, switch: cb, params: {reporting: {mode: mixed, broker: scada}}}
        - {id: r2, kind: protective_relay, node: field, unit_id: 2, switch: sw2}
        """, duration="1h", events="""
        - {at: 10min, kind: open_switch, target: switch/sw2}
        """)
    run = start(path)
    received = run.subscribe("ops", "rbe/#")
    run.run(3600.0)
    assert {topic for _t, topic, _p in received} == {"rbe/r1"}
    names = {name for _t, _topic, p in received for name in p["values"]}
    assert not any(name.endswith(("_a", "_v")) for name in names)


def test_reporting_config_errors_name_the_field(tmp_path):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario_file(tmp_path, """
            - {id: r1, kind: protective_relay, node: field, switch: cb, params: {reporting: {mode: rbe}}}
            - {id: r2, kind: protective_relay, node: field, unit_id: 2, switch: cb, params: {reporting: {mode: sometimes, broker: scada}}}
            - {id: r3, kind: protective_relay, node: field, unit_id: 3, switch: cb, params: {reporting: {mode: rbe, broker: field}}}
            - {id: r4, kind: protective_relay, switch: cb, params: {reporting: {mode: rbe, broker: scada}}}
            """))
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "devices[0].params.reporting: reporting mode rbe needs a broker" in text
    assert "devices[1].params.reporting.mode:" in text
    assert "devices[2].params.reporting.broker:" in text
    assert "devices[3]" in text and "node" in text


def test_reports_with_qos2_arrive_once_each(tmp_path):
    path = scenario_file(tmp_path, """
        - {id: r1, kind: protective_relay, node: field, switch: cb,
           params: {reporting: {mode: mixed, broker: scada, qos: 2}}}
        """, duration="1h", events="""
        - {at: 10min, kind: open_switch, target: switch/cb}
        - {at: 20min, kind: close_switch, target: switch/cb}
        """)
    run = start(path)
    received = run.subscribe("ops", "rbe/#")
    run.run(3600.0)
    sequences = [payload["seq"] for _t, _topic, payload in received]
    assert sequences == list(range(len(sequences))) and len(sequences) >= 3  # startup, open, close; no repeats
