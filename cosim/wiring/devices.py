"""The field devices of a scenario inside a World: the ``devices`` service and one process per device.

Runs after the grid and the comm network are attached: devices measure the
``grid`` service, put their register stores on ``comm`` Modbus servers and
publish through ``comm`` MQTT clients.
"""

from __future__ import annotations

from devices.config import DeviceConfig, parse_device
from devices.field import DeviceLayer, build_devices

from ..kernel import World
from ..scenario import Scenario

SERVICE = "devices"


def device_configs(scenario: Scenario) -> dict[str, DeviceConfig]:
    """The scenario's device configurations by id (validated when the scenario was loaded)."""
    configs = (parse_device(raw) for raw in scenario.spec.devices)
    return {config.id: config for config in configs}


def attach_devices(world: World, scenario: Scenario) -> DeviceLayer | None:
    """Build every device of the scenario, start its process and register the layer as ``devices``.

    The entries were validated when the scenario was loaded; parsing them
    again here cannot fail for a loaded scenario.
    """
    if not scenario.spec.devices:
        return None
    configs = list(device_configs(scenario).values())
    grid = world.service("grid") if world.has_service("grid") else None
    comm = world.service("comm") if world.has_service("comm") else None
    layer = build_devices(world, configs, grid, comm)
    world.add_service(SERVICE, layer)
    return layer
