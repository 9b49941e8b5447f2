"""The protocol plug-ins: what serves a device's point model on the wire, keyed by the scenario's ``protocols:``.

A device keeps one point model (its register store: named points with type,
unit, scale, access); each protocol is a view of it plus an endpoint. A
plug-in is data, one :class:`ProtocolPlugin` row below:

* ``settings`` -- its section of a device entry's ``protocols:``
  (:mod:`devices.protocols.settings`, validated with the scenario);
* ``endpoint`` -- ``module:function`` called as ``function(device, settings)``
  when the device starts: it puts the device on its node's simulated-time
  endpoint and returns what must look at the point model after every step
  (an :class:`Endpoint` with ``scan``), or None for a passive view (Modbus
  answers reads from the store);
* ``docs`` -- ``module:function`` called as ``function(kind, register_map)``:
  the Markdown of the view on the device page (None: the page's register
  table is the view);
* ``hil`` -- the module that serves the view on real TCP (the bench section
  of the same name), or None.

Modules are named, not imported, so that the device config can validate a
scenario's ``protocols:`` without importing every codec, and so that adding a
protocol adds one row here instead of an import in the device base class.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    from devices.field.base import FieldDevice
    from devices.registermap import RegisterMap
    from devices.registermaps import DeviceKind


class Endpoint(Protocol):
    """A device's protocol endpoint that reports changes of the point model (events, spontaneous data)."""

    def scan(self) -> None:
        """After the device's step: compare the point model with what was reported, and report."""


@dataclass(frozen=True)
class ProtocolPlugin:
    name: str
    endpoint: str
    docs: str | None = None
    hil: str | None = None
    description: str = ""

    def attach(self, device: FieldDevice, settings: Any) -> Endpoint | None:
        attach: Callable[[FieldDevice, Any], Endpoint | None] = _load(self.endpoint)
        return attach(device, settings)

    def markdown(self, kind: DeviceKind, register_map: RegisterMap) -> list[str]:
        if self.docs is None:
            return []
        render: Callable[[DeviceKind, RegisterMap], list[str]] = _load(self.docs)
        return render(kind, register_map)


PLUGINS: dict[str, ProtocolPlugin] = {plugin.name: plugin for plugin in (
    ProtocolPlugin("modbus", "devices.protocols.modbus_unit:attach", None, "cosim.hil.modbus_tcp",
                   "Modbus unit on the node's server (the register map is the view)"),
    ProtocolPlugin("dnp3", "devices.protocols.dnp3_device:dnp3_station", "devices.protocols.dnp3_points:kind_markdown",
                   "cosim.hil.dnp3_tcp", "DNP3 (IEEE 1815) outstation"),
    ProtocolPlugin("iec104", "devices.protocols.iec104_station:attach", "devices.protocols.iec104_rtu:kind_markdown",
                   "cosim.hil.iec104", "IEC 60870-5-104 controlled station"),
    ProtocolPlugin("c37118", "devices.protocols.c37118_device:attach", None, "cosim.hil.c37118_tcp",
                   "IEEE C37.118.2 synchrophasor stream (CFG-2, header, commands, data)"),
)}
"""Protocol name (the key under a device entry's ``protocols:``) -> its plug-in."""


def attach_all(device: FieldDevice) -> dict[str, Endpoint]:
    """Serve ``device`` by every protocol its entry chose; the endpoints that scan, by protocol name."""
    endpoints: dict[str, Endpoint] = {}
    for name, settings in device.config.served_protocols().items():
        endpoint = PLUGINS[name].attach(device, settings)
        if endpoint is not None:
            endpoints[name] = endpoint
    return endpoints


def view_markdown(kind: DeviceKind, register_map: RegisterMap) -> list[str]:
    """Every plug-in's view section of a device page, in registry order."""
    return [line for plugin in PLUGINS.values() for line in plugin.markdown(kind, register_map)]


def _load(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)
