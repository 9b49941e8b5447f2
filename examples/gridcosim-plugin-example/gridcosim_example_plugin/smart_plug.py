"""``smart_plug``: a plug that meters one load and switches it on and off from its relay coil.

The register map is the plug's own (not one of gridcosim's standard maps):
input registers for power and voltage, coil 0 for the relay.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from cosim.grid import GridMeasurements, SetLoadInService
from devices.config import CommonParams, DeviceConfig
from devices.field.base import Effects, FieldDevice, bus_name
from devices.plugins import register_device_kind
from devices.registermap import Access, DataType, Point, RegisterMap
from cosim.comm import ModbusTable

PLUG_MAP = RegisterMap("smart_plug", (
    Point("power_w", ModbusTable.INPUT_REGISTERS, 0, DataType.U32, 0.1, "W", description="Active power through the plug"),
    Point("voltage_v", ModbusTable.INPUT_REGISTERS, 2, DataType.U16, 0.1, "V", description="Line-to-neutral voltage"),
    Point("relay_on", ModbusTable.COILS, 0, DataType.BOOL, access=Access.READ_WRITE, default=True, description="Relay: 1 = load supplied"),
), description="Example smart plug")


class SmartPlugParams(CommonParams):
    nominal_v: float = Field(230.0, gt=0, description="voltage shown at 1 pu")


class SmartPlugConfig(DeviceConfig):
    """Smart plug: meters one load and switches it from a Modbus coil."""

    kind: Literal["smart_plug"]
    load: str | None = None
    params: SmartPlugParams = Field(default_factory=lambda: SmartPlugParams.model_validate({}))
    refs: ClassVar[dict[str, str]] = {"load": "load"}
    required_refs: ClassVar[tuple[str, ...]] = ("load",)


class SmartPlugDevice(FieldDevice):
    kind = "smart_plug"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.load: str = self.config.load  # type: ignore[attr-defined]
        self.command("relay_on", self._relay, momentary=False)

    def register_map(self) -> RegisterMap:
        return PLUG_MAP

    def _relay(self, now: float, value: object) -> Effects:
        self.world.log("smart_plug_relay", device=self.device_id, on=bool(value))
        return [SetLoadInService(self.load, bool(value))]

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        load = m.load(self.load)
        voltage = m.bus_voltage(bus_name(m, m.network.loads.bus[m.network.loads.index(self.load)]))
        self.set_points({"power_w": max(0.0, load.p_mw * 1e6),
                         "voltage_v": voltage.vm_pu * self.config.params.nominal_v})  # type: ignore[attr-defined]
        self.world.record(self.entity, "p", load.p_mw * 1000.0, "kW")
        return []


register_device_kind(SmartPlugConfig, SmartPlugDevice)
