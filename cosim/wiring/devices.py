"""The field devices of a scenario inside a World: the ``devices`` service and one process per device.

Runs after the grid and the comm network are attached: devices measure the
``grid`` service, put their register stores on ``comm`` Modbus servers and
publish through ``comm`` MQTT clients.
"""

from __future__ import annotations

from datetime import datetime, timezone

from devices.config import DeviceConfig, parse_device
from devices.field import DeviceLayer, build_devices

from ..kernel import World
from ..scenario import Scenario
from ..scenario.schema import DEFAULT_START_UTC

SERVICE = "devices"


def device_configs(scenario: Scenario) -> dict[str, DeviceConfig]:
    """The scenario's device configurations by id (validated when the scenario was loaded)."""
    configs = (parse_device(raw) for raw in scenario.spec.devices)
    return {config.id: config for config in configs}


def start_utc_us(start: datetime | str | None, mode: str = "batch") -> int:
    """Microseconds since 1970-01-01 UTC of the run's ``start_utc`` (``now``: the wall clock, read once).

    Unset: a fixed instant in batch mode, so runs stay reproducible; the wall clock in realtime mode.
    """
    if start is None:
        start = "now" if mode == "realtime" else DEFAULT_START_UTC
    instant = datetime.now(timezone.utc) if start == "now" else start
    assert isinstance(instant, datetime)
    delta = instant - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def attach_devices(world: World, scenario: Scenario, utc_us: int | None = None) -> DeviceLayer | None:
    """Build every device of the scenario, start its process and register the layer as ``devices``.

    The entries were validated when the scenario was loaded; parsing them
    again here cannot fail for a loaded scenario. ``utc_us``: the run's UTC
    at simulated time 0 when the caller read it already (one reading of
    ``now`` for the whole run).
    """
    if not scenario.spec.devices:
        return None
    configs = list(device_configs(scenario).values())
    grid = world.service("grid") if world.has_service("grid") else None
    comm = world.service("comm") if world.has_service("comm") else None
    layer = build_devices(world, configs, grid, comm, start_utc_us=utc_us if utc_us is not None
                           else start_utc_us(scenario.spec.run.start_utc, scenario.spec.run.mode))
    world.add_service(SERVICE, layer)
    return layer
