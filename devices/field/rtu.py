"""Remote terminal unit: a scenario-defined point list between the grid and a Modbus server.

Each point mirrors or drives one grid quantity, named ``kind/name:quantity``
(``devices.config.RTU_SOURCES`` lists them):

* analog (input registers): the quantity x ``gain``, with the RTU's noise, quantised by the register;
* status (discrete inputs): switch/branch closed, bus energised, load served, DER in service, and a
  switch's fault passage indicator (``fault_indicator``: latched once the current through the switch
  exceeded ``params.fault_indicator_a``; cleared by a ``reset_indicator`` control);
* control (coils, momentary): write 1 to open/close a switch, connect/disconnect a load, put a
  capacitor shunt in/out; the RTU acts at once and clears the coil;
* setpoint (holding registers): DER curtailment cap or Q, shunt step, generator P or voltage,
  transformer tap; the grid value is the register value / ``gain``.

With ``select_before_operate``, each control point has a ``<name>.select`` coil
right after the controls; an operate write is refused with exception 03
unless its select was written within ``select_timeout_s`` (the select-before-operate
discipline of IEC 60870-5-101/104 and DNP3, carried over Modbus as two coils).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from cosim.grid import (Action, CurtailDer, GridMeasurements, SetDerOutput, SetGeneratorSetpoint, SetLoadInService,
                        SetShuntStep, SetSwitch, SetTap)
from devices.pointstore import Refusal, WriteRefused
from devices.config import RtuPointConfig
from devices.field.base import Effects, FieldDevice
from devices.soe import SoeBuffer, SoeEvent
from devices.registermap import RegisterMap, Value


def _read(m: GridMeasurements, element: str, name: str, quantity: str) -> float:
    """One analog or status quantity from the snapshot."""
    if element == "bus":
        if quantity == "frequency_hz":
            return m.frequency_hz(name)
        if quantity == "energised":
            return float(m.bus_voltage(name).energised)
        return float(getattr(m.bus_voltage(name), quantity))
    if element in ("branch", "switch"):
        if quantity == "closed":
            return float(m.switch_closed(name) if element == "switch" else m.branch(name).closed)
        end = "to" if quantity.endswith("_to_a") or "_to_" in quantity else "from"
        reading = m.switch(name) if element == "switch" else m.branch(name, end)
        field = {"p_mw": "p_mw", "q_mvar": "q_mvar", "i_a": "i_a", "p_to_mw": "p_mw", "q_to_mvar": "q_mvar",
                 "i_to_a": "i_a"}[quantity]
        return float(getattr(reading, field))
    if element == "load":
        load = m.load(name)
        return float(load.served) if quantity == "served" else float(getattr(load, quantity))
    if element == "gen":
        return float(getattr(m.generator(name), quantity))
    if element == "der":
        if quantity == "in_service":
            return float(m.network.ders.in_service[m.network.ders.index(name)])
        return float(getattr(m.der(name), quantity))
    if element == "shunt":
        return float(m.network.shunts.step[m.network.shunts.index(name)])
    raise KeyError(f"no quantity {element}/{name}:{quantity}")


def _control(element: str, name: str, quantity: str, m: GridMeasurements | None) -> Action:
    if element == "switch":
        return SetSwitch(name, closed=quantity == "close")
    if element == "load":
        return SetLoadInService(name, in_service=quantity == "connect")
    if element == "shunt":
        step = 0
        if quantity == "in" and m is not None:
            step = int(m.network.shunts.max_step[m.network.shunts.index(name)])
        return SetShuntStep(name, step)
    raise KeyError(f"no control {element}/{name}:{quantity}")


def _setpoint(element: str, name: str, quantity: str, value: float) -> Action:
    if element == "der":
        return CurtailDer(name, value) if quantity == "p_limit_mw" else SetDerOutput(name, q_mvar=value)
    if element == "shunt":
        return SetShuntStep(name, int(round(value)))
    if element == "gen":
        return SetGeneratorSetpoint(name, p_mw=value) if quantity == "p_mw" else SetGeneratorSetpoint(name, vm_pu=value)
    if element == "branch":
        return SetTap(name, tap_ratio=value)
    raise KeyError(f"no setpoint {element}/{name}:{quantity}")


class RtuDevice(FieldDevice):
    kind = "rtu"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        assert self.store is not None
        params = self.config.params
        self.points: list[RtuPointConfig] = list(params.points)  # type: ignore[attr-defined]
        self.sbo = bool(params.select_before_operate)  # type: ignore[attr-defined]
        self.select_timeout_s = float(params.select_timeout_s)  # type: ignore[attr-defined]
        self._selected: dict[str, float] = {}
        self._measurements: GridMeasurements | None = None
        self._setpoints_read = False
        self.fault_indicator_a = float(params.fault_indicator_a)  # type: ignore[attr-defined]
        self.indicators: dict[str, bool] = {}  # switch -> fault passage indicator latched
        self.operations = 0
        self.soe = SoeBuffer()
        self._status: dict[str, bool] = {}  # last status value per point, for status-change events
        for point in self.points:
            element, quantity = point.split_source()
            name = point.reference().partition("/")[2]
            if point.kind == "control":
                self.command(point.name, self._operate(point.name, element, name, quantity))
                if self.sbo:
                    self.command(f"{point.name}.select", self._select(point.name), momentary=False)
            elif point.kind == "setpoint":
                self.command(point.name, self._write_setpoint(point, element, name, quantity), momentary=False)
        if self.sbo:
            self.store.add_write_check(self._check_selected)
        self.follows_frequency = any(p.split_source()[1] == "frequency_hz" for p in self.points)

    def register_map(self) -> RegisterMap:
        return self.config.params.register_map(self.config.id)  # type: ignore[attr-defined,no-any-return]

    # -- commands -------------------------------------------------------------------
    def _check_selected(self, proposed: Mapping[str, Value]) -> None:
        now = self.world.now
        for point in self.points:
            if point.kind == "control" and proposed.get(point.name):
                selected = self._selected.get(point.name)
                if selected is None or now - selected > self.select_timeout_s:
                    raise WriteRefused(Refusal.REFUSED, point.name,
                                       f"{point.name}: operate without a select in the last {self.select_timeout_s:g} s")

    def _select(self, point_name: str) -> Callable[[float, Value], Effects]:
        def select(now: float, value: Value) -> Effects:
            if value:
                self._selected[point_name] = now
            else:
                self._selected.pop(point_name, None)
            return []
        return select

    def _operate(self, point_name: str, element: str, name: str,
                 quantity: str) -> Callable[[float, Value], Effects]:
        def operate(now: float, _value: Value) -> Effects:
            if self.sbo:
                self._selected.pop(point_name, None)
                assert self.store is not None
                self.store.set(f"{point_name}.select", False)
            self.operations += 1
            self._soe(now, SoeEvent.CONTROL, point_name, 0.0)
            self.world.log("rtu_control", device=self.device_id, point=point_name, source=f"{element}/{name}:{quantity}")
            self.world.record(self.entity, "operations", self.operations, "count")
            if quantity == "reset_indicator":
                self.indicators[name] = False
                return []
            return [_control(element, name, quantity, self._measurements)]
        return operate

    def _write_setpoint(self, point: RtuPointConfig, element: str, name: str,
                        quantity: str) -> Callable[[float, Value], Effects]:
        def write(now: float, value: Value) -> Effects:
            self.world.log("rtu_setpoint", device=self.device_id, point=point.name, value=float(value))
            return [_setpoint(element, name, quantity, float(value) / point.gain)]
        return write

    # -- the process ----------------------------------------------------------------
    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        self._measurements = m
        assert self.store is not None
        values: dict[str, Value] = {}
        for point in self.points:
            element, quantity = point.split_source()
            name = point.reference().partition("/")[2]
            if point.kind == "analog":
                value = _read(m, element, name, quantity) * point.gain
                values[point.name] = self.measured(value) if math.isfinite(value) else 0.0
            elif point.kind == "status" and quantity == "fault_indicator":
                if abs(m.switch(name).i_a) > self.fault_indicator_a and not self.indicators.get(name):
                    self.indicators[name] = True
                    self.world.log("rtu_fault_indicator", device=self.device_id, switch=name)
                values[point.name] = self.indicators.get(name, False)
            elif point.kind == "status":
                status = bool(_read(m, element, name, quantity))
                values[point.name] = status
                if self._status.get(point.name, status) != status:
                    through_a = abs(m.switch(name).i_a) if element == "switch" else 0.0
                    self._soe(now, SoeEvent.STATUS_CHANGE, point.name, through_a)
                self._status[point.name] = status
            elif point.kind == "setpoint" and not self._setpoints_read:
                current = _current_setpoint(m, element, name, quantity)
                if current is not None and math.isfinite(current):
                    values[point.name] = current * point.gain
        self._setpoints_read = True
        for point_name, selected in list(self._selected.items()):
            if now - selected > self.select_timeout_s:
                del self._selected[point_name]
                self.store.set(f"{point_name}.select", False)
        self.set_points(values)
        return []

    def _soe(self, time_s: float, event: SoeEvent, point_name: str, current_a: float) -> None:
        """Record an event; the element register holds the point's index in the point list."""
        index = next(i for i, p in enumerate(self.points) if p.name == point_name)
        self.soe.add(self.layer.utc_us(time_s), event, index, (current_a, current_a, current_a, 0.0), 0.0)
        self.set_points(self.soe.register_values())

    def next_event_time_s(self) -> float:
        return min((t + self.select_timeout_s for t in self._selected.values()), default=math.inf)


def _current_setpoint(m: GridMeasurements, element: str, name: str, quantity: str) -> float | None:
    net = m.network
    if element == "der":
        column = net.ders.p_limit_mw if quantity == "p_limit_mw" else net.ders.q_mvar
        return float(column[net.ders.index(name)])
    if element == "shunt":
        return float(net.shunts.step[net.shunts.index(name)])
    if element == "gen":
        column = net.generators.p_mw if quantity == "p_mw" else net.generators.vm_setpoint_pu
        return float(column[net.generators.index(name)])
    if element == "branch":
        return float(net.branches.tap_ratio[net.branches.index(name)])
    return None
