"""The OpenADR VEN of a site population's node: registration from the enrolment, events to DR signals, opt-out, telemetry.

A real VTN (cosim.domains.openadr_vtn) and a real simulated MQTT broker; the
population is stood in for by what it publishes (its enrolment and ESI
status) and by a subscriber of ``esi/<csp>/+`` on the VEN's node, so the test
sees exactly what the sites' handler would be given.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import numpy as np

from cosim.comm import CommNetwork, Delay, MqttMessage, QoS
from cosim.domains.openadr_vtn import OpenAdrVtn
from cosim.kernel import World
from cosim.markets.wire import encode
from devices.config import OpenAdrVenConfig
from devices.esi_signals import DrSignal
from devices.field import build_devices

EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
GROUPS = ("csp_a.ZB.08001.30P", "csp_a.ZB.08002.30P")


def test_a_group_with_load_opts_in_and_curtails_one_without_opts_out_with_its_reason(tmp_path: Path) -> None:
    world = World(3, tmp_path)
    network = CommNetwork(world)
    for node in ("sites", "broker", "csp_a"):
        network.add_node(node)
    network.add_link("sites", "broker", Delay.fixed(0.02), 1e6)
    network.add_link("broker", "csp_a", Delay.fixed(0.02), 1e6)
    network.add_mqtt_broker("broker")
    vtn = OpenAdrVtn(world, network, "csp_a", "CSP_A", epoch=EPOCH, market_context="http://pjm.com/lm", near_s=60.0)
    config = OpenAdrVenConfig.model_validate({"id": "ven_a", "kind": "openadr_ven", "node": "sites", "params": {
        "vtn": "csp_a", "csp": "csp_a", "population": "dr_sites", "broker": "broker"}})
    # the run's start_utc, as the runner gives both the devices and the applications
    layer = build_devices(world, [config], None, network, start_utc_us=round(EPOCH.timestamp() * 1e6))
    mqtt = layer.mqtt("sites", "broker")   # the population's client on the same node: its ESIs' subscription
    received: list[tuple[str, DrSignal]] = []

    def on_esi(message: MqttMessage) -> None:
        received.append((message.topic, DrSignal.decode(message.payload)))

    mqtt.subscribe("esi/csp_a/+", 1, on_esi)
    resources = [{"resource_id": g, "csp": "csp_a", "zone": "ZB", "zip": g.split(".")[2], "lead_time": 30,
                  "dr_type": "PRE_EMERGENCY", "resource_type": "ANNUAL"} for g in GROUPS]
    mqtt.publish("pjm/enrol/csp_a", encode({"population": "dr_sites", "csp": "csp_a", "resources": resources},
                                           {"site_index": np.array([0, 1]), "site_resource": np.array([0, 1], dtype=np.int32),
                                            "committed_kw": np.array([50.0, 50.0])}))
    mqtt.publish("esi/status/csp_a", encode({"population": "dr_sites", "csp": "csp_a", "time_s": 0.0,
                                             "resources": list(GROUPS)}, {"available_kw": np.array([42.0, 0.0]),
                                                                         "metered_kw": np.array([84.0, 30.0])}),
                 QoS.AT_LEAST_ONCE)

    def call() -> Any:
        yield world.timeout(30.0)
        for group in GROUPS:
            vtn.call(group, "LM1", 600.0, 1200.0, 100.0)
        yield world.timeout(700.0 - world.now)   # the sites curtail: their meters measure less
        mqtt.publish("esi/status/csp_a", encode({"population": "dr_sites", "csp": "csp_a", "time_s": 700.0,
                                                 "resources": list(GROUPS)}, {"available_kw": np.array([0.0, 0.0]),
                                                                              "metered_kw": np.array([42.0, 30.0])}),
                     QoS.AT_LEAST_ONCE)

    world.process(call())
    world.env.run(until=1500.0)
    assert sorted(vtn.serving) == sorted(GROUPS)
    assert [(topic, s.start_s, s.duration_s, s.reduction_pct, s.label) for topic, s in received] == [
        (f"esi/csp_a/{GROUPS[0]}", 600.0, 600.0, 100.0, "LM1")]
    world.recorder.close(status="test")
    # telemetry while the events are active: each group's metered kW (the opted-out group's too: its event runs)
    import csv
    with open(tmp_path / "timeseries.csv") as handle:
        reported = [(r["entity"], r["quantity"], float(r["value"])) for r in csv.DictReader(handle)
                    if r["entity"].startswith("CSP_A/openadr/")]
    assert sorted(reported) == [(f"CSP_A/openadr/{GROUPS[0]}", "metered_kw", 42.0),
                                (f"CSP_A/openadr/{GROUPS[1]}", "metered_kw", 30.0)]
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    (out,) = [e for e in events if e["kind"] == "openadr_opt_out"]
    assert out["event_id"] == f"LM1:{GROUPS[1]}" and "no curtailable load" in out["reason"]
    answers = {e["event_id"]: (e["opt_in"], e["reason"]) for e in events if e["kind"] == "openadr_created_event"}
    assert answers == {f"LM1:{GROUPS[0]}": (True, "OK"), f"LM1:{GROUPS[1]}": (False, out["reason"])}
