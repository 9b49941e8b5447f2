"""Field devices as SimPy processes: each bridges the grid (measure, act) and comm (Modbus, MQTT).

:func:`build_devices` turns validated :class:`devices.config.DeviceConfig`
entries into device objects inside a :class:`DeviceLayer` (the world's
``"devices"`` service); ``cosim.wiring.devices.attach_devices`` does this for
a scenario.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from devices.config import DeviceConfig
from devices.field.base import DeviceLayer, FieldDevice, NodeMqtt
from devices.field.capacitor import CapacitorDevice
from devices.field.der_inverter import DerInverterDevice
from devices.field.esi_gateway import DrEvent, EsiGatewayDevice, PriceSignal
from devices.field.meter import SmartMeterDevice
from devices.field.dr_population import DrSitePopulation
from devices.field.fuse import FuseDevice
from devices.field.meter_population import MeterPopulation
from devices.field.plant_controller import PlantControllerDevice
from devices.field.pmu import PmuDevice
from devices.field.recloser import RecloserDevice
from devices.field.regulator import VoltageRegulatorDevice
from devices.field.relay import RelayDevice
from devices.field.rtu import RtuDevice
from devices.field.sectionalizer import SectionalizerDevice
from devices.protocols.openadr_ven import OpenAdrVen

if TYPE_CHECKING:
    from cosim.kernel import World

DEVICE_CLASSES: dict[str, type[Any]] = {
    cls.kind: cls
    for cls in (RtuDevice, SmartMeterDevice, RelayDevice, RecloserDevice, SectionalizerDevice, FuseDevice, CapacitorDevice,
                PmuDevice, DerInverterDevice, EsiGatewayDevice, MeterPopulation, DrSitePopulation,
                PlantControllerDevice, VoltageRegulatorDevice, OpenAdrVen)
}
"""Device kind -> class (each takes ``(layer, config)`` and has ``start()``)."""


def build_devices(world: "World", configs: Iterable[DeviceConfig], grid: Any, comm: Any, *,
                  start_utc_us: int = 0) -> DeviceLayer:
    """A DeviceLayer holding one device per config, each started (Modbus unit added, process running).

    ``start_utc_us``: the devices' UTC clock at simulated time 0, µs since 1970-01-01 UTC.
    """
    layer = DeviceLayer(world, grid, comm, start_utc_us=start_utc_us)
    for config in configs:
        device = DEVICE_CLASSES[config.kind](layer, config)
        layer.add(device)
    for device in layer.devices.values():
        device.start()
    return layer


__all__ = ["DEVICE_CLASSES", "DeviceLayer", "DrEvent", "EsiGatewayDevice", "FieldDevice", "MeterPopulation",
           "NodeMqtt", "PriceSignal", "build_devices"]
