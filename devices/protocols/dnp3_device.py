"""The DNP3 plug-in's endpoint: a field device's ``protocols.dnp3`` as a DNP3 station over its store, on its comm node."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.protocols.settings import Dnp3Settings

from devices.protocols.dnp3_endpoint import Dnp3Endpoint, Dnp3Station
from devices.protocols.dnp3_outstation import Outstation, OutstationConfig
from devices.protocols.dnp3_points import point_map
from devices.registermaps import DeviceKind

if TYPE_CHECKING:
    from devices.field.base import FieldDevice


def dnp3_station(device: FieldDevice, settings: Dnp3Settings) -> Dnp3Station | None:
    """The device's DNP3 station (None without a store); on the simulated network when the scenario has one."""
    if device.store is None:
        return None
    kind = DeviceKind(device.kind)
    rtu = [p.rtu_point() for p in getattr(device.config.params, "points", ())] if kind is DeviceKind.RTU else []
    layer, world = device.layer, device.world
    config = OutstationConfig(event_buffer=settings.event_buffer, select_timeout_ms=round(settings.select_timeout_s * 1000),
                              unsolicited=settings.unsolicited)
    outstation = Outstation(point_map(kind, rtu), device.store, lambda: layer.utc_us(world.now) // 1000, config)
    station = Dnp3Station(world, outstation, settings.address, settings.master_address, settings.confirm_timeout_s,
                          device.device_id)
    if layer.comm is not None and device.config.node is not None:
        Dnp3Endpoint.of(layer.comm, device.config.node, world.log).add(station)
    return station
