"""The Modbus plug-in's endpoint: the device's register store as a unit of its node's Modbus server.

The register map is the Modbus view of the point model (tables and
addresses); the server answers reads and writes from the store, so nothing
needs scanning after a step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.field.base import FieldDevice


def attach(device: FieldDevice, settings: Any) -> None:
    """Add the device's store as unit ``unit_id`` on its node (nothing without a store, node or network)."""
    if device.store is not None and device.config.node is not None and device.layer.comm is not None:
        device.layer.comm.modbus_server(device.config.node).add_unit(device.config.unit_id, device.store)
