"""The ISO's link to the plants: SCED basepoints out, telemetry in, AGC regulation out, all over Modbus.

Part of the ``iso_market`` application (Markets domain). The ISO knows each
plant by engineering data in the scenario (its controller's comm node and
unit id, its SCED offers, its registered limits and regulation participation),
never by reading a device or the grid:

* after each solved SCED, :meth:`PlantDispatcher.dispatch` writes every plant
  its basepoint (:class:`~cosim.domains.plantlink.BasepointOrder`), one Modbus
  write per plant through the comm network (latency, loss, retries; a write
  that fails is logged ``basepoint_lost`` and the plant keeps its old one);
* every ``agc.interval`` the AGC reads each plant's telemetry
  (:class:`~cosim.domains.plantlink.UnitTelemetry`), takes the area control
  error from the balancing unit's measured output and sends the regulating
  units their share (:class:`~cosim.domains.plantlink.RegulationOrder`) when it
  moved by more than ``agc.deadband_mw`` (:mod:`cosim.markets.agc`).

Recorded: per plant ``<iso>/<plant>`` ``basepoint`` and ``regulation``; the
ISO's ``ace`` and ``regulation`` (total) once per ``agc.record_every``.
Simulated time throughout.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from devices.encoding import EncodingError

from ..comm import ModbusError, ModbusTimeoutError
from ..comm.errors import CommError
from ..kernel import World
from ..markets.agc import (
    RegulatingUnit,
    allocate_regulation,
    area_control_error,
    plant_basepoints,
    regulation_request,
)
from ..scenario.durations import Duration
from .plantlink import BasepointOrder, RegulationOrder, UnitTelemetry

LINK_ERRORS = (ModbusError, ModbusTimeoutError, CommError, EncodingError)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlantLink(_Model):
    plant: str = Field(description="plant id (names its records); usually the Bulk Generation actor")
    node: str = Field(description="comm node of the plant's controller (its Modbus server)")
    unit_id: int = Field(1, ge=1, le=247)
    offers: list[str] = Field(min_length=1, description="the plant's generator offers in the SCED case")
    p_min_mw: float = Field(0.0, description="registered economic minimum")
    p_max_mw: float = Field(gt=0, description="registered maximum capability")
    participation: float = Field(0.0, ge=0, description="AGC participation factor; 0: not a regulating unit")


class AgcParams(_Model):
    balancing: str = Field(description="plant whose unit is the grid's slack: its deviation from its basepoint is the ACE")
    interval: Duration = Field(4.0, gt=0, description="AGC cycle (NERC practice: 2 to 6 s)")
    gain: float = Field(0.5, gt=0, le=1, description="share of the remaining ACE corrected per cycle")
    deadband_mw: float = Field(0.1, ge=0, description="a unit's regulation is re-sent only when it moves more than this")
    record_every: Duration = Field(60.0, gt=0, description="ACE and regulation are recorded at most this often")


class DispatchParams(_Model):
    node: str | None = Field(None, description="comm node of the ISO's Modbus master (default: the market's node)")
    timeout_s: float = Field(1.0, gt=0, description="Modbus response timeout")
    retries: int = Field(1, ge=0, description="Modbus retries per request")
    plants: list[PlantLink] = Field(min_length=1)
    agc: AgcParams | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DispatchParams:
        names = [p.plant for p in self.plants]
        if len(set(names)) != len(names):
            raise ValueError("each plant is listed once")
        offers = [o for p in self.plants for o in p.offers]
        if len(set(offers)) != len(offers):
            raise ValueError("an offer belongs to one plant")
        if self.agc is not None:
            if self.agc.balancing not in names:
                raise ValueError(f"agc.balancing {self.agc.balancing!r} is not one of the plants")
            if not any(p.participation > 0 for p in self.plants if p.plant != self.agc.balancing):
                raise ValueError("AGC needs a regulating unit: a plant other than the balancing one with participation > 0")
        return self


class PlantDispatcher:
    """Sends basepoints and runs the AGC loop for one ISO; owns one Modbus master per plant."""

    def __init__(self, world: World, entity: str, node: str, params: DispatchParams) -> None:
        self.world = world
        self.entity = entity
        self.params = params
        self.plants = {p.plant: p for p in params.plants}
        comm = world.service("comm")
        self._clients = {p.plant: comm.modbus_client(node, p.node, timeout_s=params.timeout_s, retries=params.retries)
                         for p in params.plants}
        self.basepoints: dict[str, float] = {}
        self.regulation: dict[str, float] = {p.plant: 0.0 for p in params.plants}
        self._sent_regulation: dict[str, float] = {p.plant: 0.0 for p in params.plants}
        self._seq = 0
        self._watch: set[str] = set()  # plants whose output may still be moving: read each AGC cycle
        self._telemetry: dict[str, UnitTelemetry] = {}  # last good reading of each plant

    # -- basepoints ---------------------------------------------------------------
    def dispatch(self, generator_mw: Mapping[str, float]) -> None:
        """Send every plant its basepoint of this SCED dispatch (offer name -> MW); returns at once."""
        self._seq += 1
        offers = {p.plant: p.offers for p in self.params.plants}
        for plant, mw in plant_basepoints(generator_mw, offers).items():
            if self.basepoints.get(plant) != mw:
                self._watch.add(plant)
            self.basepoints[plant] = mw
            self.world.record(f"{self.entity}/{plant}", "basepoint", mw, "MW")
            self.world.process(self._write(plant, BasepointOrder(mw, self._seq).encode(), "basepoint_lost"))

    def _write(self, plant: str, block: tuple[int, list[int]], failure: str) -> Generator[Any, Any, bool]:
        link = self.plants[plant]
        address, words = block
        try:
            yield from self._clients[plant].write_registers(link.unit_id, address, words)
        except LINK_ERRORS as error:
            self.world.log(failure, iso=self.entity, plant=plant, error=type(error).__name__)
            return False
        return True

    # -- AGC ----------------------------------------------------------------------
    def run_agc(self) -> Generator[Any, Any, None]:
        """The AGC loop: every ``interval`` read telemetry, update and send regulation (runs forever)."""
        agc = self.params.agc
        assert agc is not None
        start = self.world.now
        cycle = 0
        next_record = start
        total = 0.0
        while True:
            cycle += 1
            yield self.world.timeout(max(0.0, start + cycle * agc.interval - self.world.now))
            if agc.balancing not in self.basepoints:
                continue  # no dispatch yet: nothing to regulate around
            regulating = {p.plant for p in self.params.plants if p.participation > 0}
            telemetry = yield from self._read(sorted({agc.balancing} | regulating | self._watch))
            self._telemetry.update(telemetry)
            # A unit at its desired output stays there until it gets a new order: it needs no reading until then.
            self._watch = {p for p in self._watch if p not in telemetry
                           or abs(telemetry[p].desired_mw - telemetry[p].output_mw) > agc.deadband_mw}
            telemetry = self._telemetry
            if agc.balancing not in telemetry:
                continue  # without the balancing unit's output there is no ACE this cycle
            ace = area_control_error(telemetry[agc.balancing].output_mw, self.basepoints[agc.balancing])
            pending = sum(t.desired_mw - t.output_mw for plant, t in telemetry.items() if plant != agc.balancing)
            units = [RegulatingUnit(p.plant, p.participation, self.basepoints.get(p.plant, 0.0), p.p_min_mw, p.p_max_mw)
                     for p in self.params.plants if p.participation > 0 and p.plant != agc.balancing]
            total = regulation_request(sum(self.regulation[u.plant] for u in units), ace, pending, agc.gain)
            total = min(max(total, -sum(u.down_mw for u in units)), sum(u.up_mw for u in units))
            self.regulation.update(allocate_regulation(total, units))
            for unit in units:
                mw = self.regulation[unit.plant]
                if abs(mw - self._sent_regulation[unit.plant]) > agc.deadband_mw:
                    self._sent_regulation[unit.plant] = mw
                    self.world.record(f"{self.entity}/{unit.plant}", "regulation", mw, "MW")
                    self.world.process(self._write(unit.plant, RegulationOrder(mw).encode(), "regulation_lost"))
            if self.world.now >= next_record:
                self.world.record(self.entity, "ace", ace, "MW")
                self.world.record(self.entity, "regulation", total, "MW")
                next_record = self.world.now + agc.record_every

    def _read(self, plants: list[str]) -> Generator[Any, Any, dict[str, UnitTelemetry]]:
        """Telemetry of ``plants`` (one Modbus read each); a plant that does not answer is left out."""
        address, count = UnitTelemetry.request()
        found: dict[str, UnitTelemetry] = {}
        for link in (self.plants[p] for p in plants):
            try:
                words = yield from self._clients[link.plant].read_input_registers(link.unit_id, address, count)
            except LINK_ERRORS as error:
                self.world.log("plant_telemetry_lost", iso=self.entity, plant=link.plant, error=type(error).__name__)
                continue
            telemetry = UnitTelemetry.decode(words)
            if all(math.isfinite(v) for v in (telemetry.output_mw, telemetry.desired_mw)):
                found[link.plant] = telemetry
        return found
