"""Register maps per device kind, as module-level data tables.

``standard_map(kind)`` returns the map of a fixed-layout kind; the RTU map is
built from the scenario's point list with :func:`devices.registermaps.rtu.rtu_map`.
``python -m devices.docs`` writes ``docs/devices/<kind>.md`` from these tables.
"""

from __future__ import annotations

import enum
import functools
from typing import Callable

from devices.registermap import RegisterMap
from devices.registermaps.capacitor import capacitor_map
from devices.registermaps.der_inverter import der_inverter_map
from devices.registermaps.esi_gateway import esi_gateway_map
from devices.registermaps.fuse import fuse_map
from devices.registermaps.meter import meter_map
from devices.registermaps.plant_controller import plant_controller_map
from devices.registermaps.pmu import pmu_map
from devices.registermaps.recloser import recloser_map
from devices.registermaps.relay import relay_map
from devices.registermaps.rtu import EXAMPLE_POINTS, RtuPoint, RtuPointKind, rtu_map
from devices.registermaps.sectionalizer import sectionalizer_map
from devices.registermaps.voltage_regulator import voltage_regulator_map


class DeviceKind(enum.Enum):
    RTU = "rtu"
    SMART_METER = "smart_meter"
    PROTECTIVE_RELAY = "protective_relay"
    RECLOSER = "recloser"
    SECTIONALIZER = "sectionalizer"
    CAPACITOR_BANK_CONTROLLER = "capacitor_bank_controller"
    PMU = "pmu"
    DER_INVERTER = "der_inverter"
    ESI_GATEWAY = "esi_gateway"
    PLANT_CONTROLLER = "plant_controller"
    FUSE = "fuse"
    VOLTAGE_REGULATOR = "voltage_regulator"


_STANDARD_MAPS: dict[DeviceKind, Callable[[], RegisterMap]] = {
    DeviceKind.SMART_METER: meter_map,
    DeviceKind.PROTECTIVE_RELAY: relay_map,
    DeviceKind.RECLOSER: recloser_map,
    DeviceKind.SECTIONALIZER: sectionalizer_map,
    DeviceKind.CAPACITOR_BANK_CONTROLLER: capacitor_map,
    DeviceKind.PMU: pmu_map,
    DeviceKind.DER_INVERTER: der_inverter_map,
    DeviceKind.ESI_GATEWAY: esi_gateway_map,
    DeviceKind.PLANT_CONTROLLER: plant_controller_map,
    DeviceKind.FUSE: fuse_map,
    DeviceKind.VOLTAGE_REGULATOR: voltage_regulator_map,
}


def standard_map(kind: DeviceKind) -> RegisterMap:
    """The fixed register map of ``kind``; raises ValueError for the RTU (its map comes from a point list).

    Built and validated once per process: a map is immutable, and building it
    is most of what constructing a device costs.
    """
    if kind is DeviceKind.RTU:
        raise ValueError("an RTU's map is built from its point list: use rtu_map(points)")
    return _built_map(kind)


@functools.cache
def _built_map(kind: DeviceKind) -> RegisterMap:
    return _STANDARD_MAPS[kind]()


def documented_map(kind: DeviceKind) -> RegisterMap:
    """The map shown in the docs: the standard map, or the RTU map of the example point list."""
    return rtu_map(EXAMPLE_POINTS) if kind is DeviceKind.RTU else standard_map(kind)


__all__ = ["DeviceKind", "RtuPoint", "RtuPointKind", "documented_map", "rtu_map", "standard_map"]
