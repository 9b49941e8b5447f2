"""The ``comm:`` scenario section: profiles, explicit links, outages, errors naming their field."""

from __future__ import annotations

import hashlib

import pytest
import yaml
from pydantic import ValidationError

from cosim.comm import LINK_PROFILES, CommConfig, DelayKind, build_network
from cosim.comm.modbus.datamodel import ArrayRegisterBank
from cosim.kernel import World

from commtools import run_process

EXAMPLE = """
comm:
  nodes:
    - {id: scada, actor: operations/scada}
    - {id: wan}
    - {id: rtu1, actor: distribution/substation1}
    - {id: meter1}
  links:
    - {a: scada, b: wan, profile: fibre_wan}
    - {a: wan, b: rtu1, profile: lte, loss: 0.0, outages: [{start_s: 100, duration_s: 50}]}
    - {a: rtu1, b: meter1, latency_s: {dist: lognormal, median_s: 0.4, sigma: 0.5},
       jitter_s: 0.05, bandwidth_bps: 50000, loss: 0.02, mtbf_s: 86400, mttr_s: 600}
  modbus_servers:
    - {node: rtu1, response_delay_s: 0.005}
  mqtt:
    brokers: [{node: scada}]
"""


def test_every_profile_is_complete_and_plausible():
    assert set(LINK_PROFILES) == {"lan", "fibre_wan", "lte", "ami_rf_mesh", "plc", "satellite"}
    for profile in LINK_PROFILES.values():
        assert profile.bandwidth_bps > 0 and 0 <= profile.loss < 0.1 and profile.latency.mean > 0
    assert LINK_PROFILES["satellite"].latency.mean > 0.239  # physics: 2 x 35,786 km at c


def test_example_builds_and_profile_values_can_be_overridden():
    config = CommConfig.model_validate(yaml.safe_load(EXAMPLE)["comm"])
    world = World(1)
    network = build_network(world, config)
    lte = network.links["wan--rtu1"]
    assert lte.loss == 0.0 and lte.bandwidth_bps == LINK_PROFILES["lte"].bandwidth_bps
    assert network.links["rtu1--meter1"].latency.kind is DelayKind.LOGNORMAL
    assert network.nodes["scada"].actor == "operations/scada"
    assert network.modbus_server("rtu1") is network.modbus_server("rtu1")
    world.run(120)
    assert not lte.up
    world.run(200)
    assert lte.up


@pytest.mark.parametrize("section, where, words", [
    ({"nodes": [{"id": "a"}], "links": [{"a": "a", "b": "x", "profile": "lan"}]},
     ("links",), "links[0].b: unknown node 'x'"),
    ({"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"a": "a", "b": "b", "profile": "wifi"}]},
     ("links", 0, "profile"), "unknown link profile 'wifi'"),
    ({"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"a": "a", "b": "b"}]},
     ("links", 0), "needs latency_s and bandwidth_bps"),
    ({"nodes": [{"id": "a"}, {"id": "a"}]}, ("nodes",), "nodes[1].id: duplicate node id 'a'"),
    ({"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"a": "a", "b": "b", "profile": "lan", "mtbf_s": 5}]},
     ("links", 0), "need both mtbf_s and mttr_s"),
    ({"nodes": [{"id": "a"}], "mqtt": {"brokers": [{"node": "b"}]}}, ("mqtt",), "mqtt.brokers[0].node: unknown node 'b'"),
    ({"nodes": [{"id": "a"}], "modbus_servers": [{"node": "z"}]}, ("modbus_servers",), "unknown node 'z'"),
    ({"nodes": [{"id": "a"}], "mqtt": {"topic_schemas": [{"filter": "a/#/b", "schema": {}}]}},
     ("mqtt", "topic_schemas", 0, "filter"), "'#' must be a whole last level"),
    ({"nodes": [{"id": "a"}], "mqtt": {"topic_schemas": [{"filter": "a", "schema": {"type": 5}}]}},
     ("mqtt", "topic_schemas", 0, "schema"), "not a valid JSON Schema"),
    ({"nodes": [{"id": "a"}], "routers": []}, ("routers",), "Extra inputs are not permitted"),
])
def test_errors_name_their_field(section, where, words):
    with pytest.raises(ValidationError) as info:
        CommConfig.model_validate(section)
    errors = info.value.errors()
    assert any(e["loc"][: len(where)] == where and words in e["msg"] for e in errors), errors


def trace_digest(seed: int, tmp_path) -> str:
    out = tmp_path / f"run{seed}-{len(list(tmp_path.iterdir()))}"
    world = World(seed, out_dir=out)
    config = CommConfig.model_validate(yaml.safe_load(EXAMPLE)["comm"])
    network = build_network(world, config)
    network.modbus_server("rtu1").add_unit(1, ArrayRegisterBank(holding_registers=8))
    master = network.modbus_client("meter1", "rtu1", timeout_s=2.0, retries=3)

    def poll():
        for _ in range(100):
            try:
                yield from master.read_holding_registers(1, 0, 8)
            except Exception:
                pass
            yield world.timeout(1.0)

    run_process(world, poll())
    network.finish()
    world.recorder.close()
    return hashlib.sha256((out / "messages.csv").read_bytes() + (out / "link_stats.csv").read_bytes()).hexdigest()


def test_same_seed_same_trace(tmp_path):
    assert trace_digest(5, tmp_path) == trace_digest(5, tmp_path)
    assert trace_digest(5, tmp_path) != trace_digest(6, tmp_path)


def test_node_groups_build_many_linked_nodes():
    config = CommConfig.model_validate({
        "nodes": [{"id": "headend"}, {"id": "c0"}, {"id": "c1"}],
        "node_groups": [{"id_format": "meter{index:03d}", "count": 10, "actor": "customer/premises",
                         "link_to": ["c0", "c1"], "link": {"profile": "ami_rf_mesh", "loss": 0.0}}],
        "links": [{"a": "c0", "b": "headend", "profile": "lte"}, {"a": "c1", "b": "headend", "profile": "lte"},
                  {"a": "meter009", "b": "c0", "profile": "plc"}],  # links may name group members
    })
    network = build_network(World(1), config)
    assert network.route("meter000", "headend") == ["meter000", "c0", "headend"]
    assert network.route("meter007", "headend") == ["meter007", "c1", "headend"]
    assert network.links["meter004--c0"].loss == 0.0 and network.nodes["meter004"].actor == "customer/premises"


@pytest.mark.parametrize("group, words", [
    ({"id_format": "meter", "count": 2, "link_to": ["c"], "link": {"profile": "lan"}}, "must contain {index}"),
    ({"id_format": "m{i}", "count": 2, "link_to": ["c"], "link": {"profile": "lan"}}, "must use only {index}"),
    ({"id_format": "m{index}", "count": 2, "link_to": ["x"], "link": {"profile": "lan"}},
     "node_groups[0].link_to[0]: unknown node 'x'"),
    ({"id_format": "{index}c", "count": 2, "link_to": ["c"], "link": {"profile": "lan"}}, "id '0c' is already a node"),
    ({"id_format": "m{index}", "count": 2, "link_to": ["c"], "link": {}}, "needs latency_s and bandwidth_bps"),
])
def test_node_group_errors(group, words):
    with pytest.raises(ValidationError) as info:
        CommConfig.model_validate({"nodes": [{"id": "c"}, {"id": "0c"}], "node_groups": [group]})
    assert any(words in e["msg"] for e in info.value.errors()), info.value.errors()
