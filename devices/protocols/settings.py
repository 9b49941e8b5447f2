"""What a scenario's device entry says under ``protocols:``: which protocols serve the device, and how.

One optional section per protocol plug-in (the plug-ins themselves are in
:mod:`devices.protocols.registry`). An entry without ``protocols:`` is a
Modbus unit on its node, as before the field existed; an entry that lists
protocols gets exactly those (list ``modbus: {}`` to keep Modbus beside
DNP3). Each section is validated here, so a wrong setting is a scenario error
naming file, line and field.

Only the views' kind lists are imported: the device config imports this
module, and the plug-ins (which import the devices) are loaded lazily.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from cosim.scenario.durations import Duration
from devices.protocols.dnp3_points import KINDS as DNP3_KINDS
from devices.protocols.iec104_rtu import KINDS as IEC104_KINDS


class ProtocolSettings(BaseModel):
    """One protocol's section of ``protocols:``; says which kinds have the view and what is unique per node."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: ClassVar[frozenset[str] | None] = None
    """The device kinds that have this protocol's view (None: every kind with a register store)."""
    unique_on_node: ClassVar[str | None] = None
    """The setting that tells the node's stations apart (a link or common address): unique per node."""


class ModbusSettings(ProtocolSettings):
    """The device as a Modbus unit on its node; its unit id is the entry's ``unit_id``."""


class Dnp3Settings(ProtocolSettings):
    """The device as a DNP3 (IEEE 1815) outstation on its node; its points are the kind's DNP3 map (devices/protocols/dnp3_points)."""

    kinds: ClassVar[frozenset[str] | None] = frozenset(kind.value for kind in DNP3_KINDS)
    unique_on_node: ClassVar[str | None] = "address"
    address: int = Field(ge=0, le=65519, description="outstation link address (unique on the node)")
    master_address: int = Field(1, ge=0, le=65519, description="link address of the master it answers and reports to")
    unsolicited: bool = Field(True, description="report events unsolicited once the master enables them")
    confirm_timeout_s: Duration = Field(5.0, gt=0, description="unsolicited response resent after this long without a confirm")
    event_buffer: int = Field(100, ge=1, le=10_000, description="events kept per class (oldest dropped, IIN2.3 set)")
    select_timeout_s: Duration = Field(10.0, gt=0, description="an OPERATE must follow its SELECT within this")


class Iec104Settings(ProtocolSettings):
    """The device as an IEC 60870-5-104 controlled station on its node (devices/protocols/iec104_station)."""

    kinds: ClassVar[frozenset[str] | None] = frozenset(IEC104_KINDS)
    unique_on_node: ClassVar[str | None] = "common_address"
    common_address: int = Field(ge=1, le=65534, description="ASDU common address (unique on the node)")
    deadband_pct: float = Field(1.0, ge=0, le=100, description="a float goes out spontaneously when it moved more than "
                                "this percent of its last reported value (any move from zero)")
    select_timeout_s: Duration = Field(10.0, gt=0, description="an execute must follow its select within this")


class C37118Settings(ProtocolSettings):
    """The PMU as an IEEE C37.118.2 server on its node: a PDC asks for CFG-2 and turns the data stream on."""

    kinds: ClassVar[frozenset[str] | None] = frozenset({"pmu"})
    unique_on_node: ClassVar[str | None] = "idcode"
    idcode: int = Field(ge=1, le=65534, description="stream IDCODE (unique on the node)")
    station: str | None = Field(None, max_length=16, description="STN in CFG-2 (default: the device id, cut to 16)")


class ProtocolsConfig(BaseModel):
    """The ``protocols:`` of a device entry: one section per protocol that serves it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    modbus: ModbusSettings | None = Field(None, description="Modbus unit on the node (unit id: the entry's unit_id)")
    dnp3: Dnp3Settings | None = Field(None, description="DNP3 outstation on the node")
    iec104: Iec104Settings | None = Field(None, description="IEC 60870-5-104 controlled station on the node")
    c37118: C37118Settings | None = Field(None, description="IEEE C37.118.2 synchrophasor stream on the node")

    def chosen(self) -> dict[str, ProtocolSettings]:
        """Protocol name -> its settings, for the protocols listed, in declaration order."""
        return {name: section for name in type(self).model_fields
                if (section := getattr(self, name)) is not None}


DEFAULT = ProtocolsConfig(modbus=ModbusSettings())
"""What an entry without ``protocols:`` gets when its kind has a register store."""
