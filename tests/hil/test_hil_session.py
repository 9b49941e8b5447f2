"""The session's view of the device layer: which devices are exposed where, and whose MQTT client is swapped."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cosim.hil.config import MqttBrokerConfig
from cosim.hil.mqtt import PahoMqttClient
from cosim.hil.session import HilError
from devices.registermaps import DeviceKind, standard_map
from devices.registerstore import RegisterStore

from hiltools import ROOT, ServedWorld, free_port, settings

# These tests bring their own (fake) device layer, so the world must have none:
# the early quickstart, before it grew devices (a fixed copy kept for tests).
NO_DEVICES = ROOT / "tests" / "batch" / "small_scenario.yaml"


def device(device_id: str, kind: DeviceKind, expose: object = None, unit_id: int = 1) -> SimpleNamespace:
    store = RegisterStore(standard_map(kind))
    return SimpleNamespace(device_id=device_id, kind=kind.value, store=store,
                           config=SimpleNamespace(expose=expose, unit_id=unit_id))


def test_devices_with_an_expose_hint_are_served_on_the_gateway_or_their_own_port(tmp_path):
    own = free_port()
    layer = {
        "m2": device("m2", DeviceKind.SMART_METER, SimpleNamespace(port=None, host="127.0.0.1")),
        "m1": device("m1", DeviceKind.SMART_METER, SimpleNamespace(port=None, host="127.0.0.1")),
        "pmu": device("pmu", DeviceKind.PMU, SimpleNamespace(port=own, host="127.0.0.1"), unit_id=7),
        "hidden": device("hidden", DeviceKind.SMART_METER),
        "listed": device("listed", DeviceKind.PROTECTIVE_RELAY),
    }
    served = ServedWorld(tmp_path, settings(modbus={"expose": ["listed"]}), scenario_path=NO_DEVICES)
    served.world.add_service("devices", layer)
    assert served.session.expose_devices() == 4
    with served:
        endpoints = {e.device_id: (e.port, e.unit_id) for e in served.session.endpoints}
    gateway = endpoints["m1"][0]
    assert endpoints == {"listed": (gateway, 1), "m1": (gateway, 2), "m2": (gateway, 3), "pmu": (own, 7)}
    assert (tmp_path / "hil_endpoints.csv").read_text().count("\n") == 5


def test_device_unit_ids_that_collide_on_the_gateway_are_refused(tmp_path):
    hint = SimpleNamespace(port=None, host="127.0.0.1")
    served = ServedWorld(tmp_path, settings(modbus={"unit_ids": "device"}), scenario_path=NO_DEVICES)
    served.world.add_service("devices", {"a": device("a", DeviceKind.PMU, hint), "b": device("b", DeviceKind.PMU, hint)})
    served.session.expose_devices()
    with pytest.raises(HilError, match="unit id 1"):
        served.session.start()
    served.session.close()
    served.world.recorder.close()


def test_the_device_layers_node_clients_get_real_broker_clients(tmp_path):
    served = ServedWorld(tmp_path, settings(mqtt=MqttBrokerConfig(port=free_port())), scenario_path=NO_DEVICES)
    simulated = SimpleNamespace(client_id="dev-esi_node")
    holder = SimpleNamespace(client=simulated, broker="broker")
    served.world.add_service("devices", SimpleNamespace(node_mqtt_clients=lambda: {"esi_node": holder}))
    served.world.add_service("comm", SimpleNamespace())
    assert served.session.use_real_broker() == 1
    assert isinstance(holder.client, PahoMqttClient) and holder.client.client_id == "dev-esi_node"
    assert served.world.service("comm").mqtt_client == served.session.mqtt_client
    served.session.close()
    served.world.recorder.close()
