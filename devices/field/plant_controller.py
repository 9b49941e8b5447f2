"""Plant controller: the one thing that moves a dispatchable generating unit (``plant_controller``).

The ISO writes the unit's basepoint and regulation signal into the holding
registers (``docs/devices/plant_controller.md``); the controller ramps the
unit's set-point toward ``basepoint + regulation`` within its limits and ramp
rate (:class:`devices.plantcontrol.UnitRamp`) and applies it to the grid
generator as a :class:`devices.intents.DispatchUnit` through the device grid
binding. The input registers report the measured output, so the ISO's AGC
works on telemetry, not on the grid.

A renewable plant's controller (bound to a grid DER: a wind or solar park
controller) gets its available power written into ``available_mw`` by the
plant's turbines or inverters (their SCADA, over the plant network) and
passes it to the grid as a :class:`devices.intents.SetAvailablePower`; its set-point caps the output
(:class:`devices.intents.CapPlantOutput`), no cap while at ``p_max_mw``.

The set-point is re-computed at once when an order is written and every
``control_period_s`` while the unit is ramping; it is applied only when it
moved. On the grid's slack unit the applied set-point is the unit's schedule,
but the power flow decides its output (it carries losses and the imbalance
until the AGC moves the regulating units); the controller measures and
reports that output like any other.
"""

from __future__ import annotations

import math
from typing import Any

from cosim.grid import GridMeasurements
from devices.field.base import Effects, FieldDevice, bus_name
from devices.intents import (
    CapPlantOutput,
    DispatchUnit,
    Intent,
    SetAvailablePower,
    SetUnitOnline,
)
from devices.plantcontrol import UnitOrders, UnitRamp
from devices.registermap import RegisterMap
from devices.registermaps.plant_controller import plant_controller_map

ORDER_POINTS = ("basepoint_mw", "regulation_mw", "ramp_rate_mw_per_min", "p_min_mw", "p_max_mw", "agc_enabled")


class PlantControllerDevice(FieldDevice):
    kind = "plant_controller"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        assert self.store is not None
        self.generator: str | None = self.config.generator  # type: ignore[attr-defined]
        self.der: str | None = self.config.der  # type: ignore[attr-defined]
        self.p_max_mw = float(self.config.params.p_max_mw)  # type: ignore[attr-defined]
        self.control_period_s = float(self.config.params.control_period_s)  # type: ignore[attr-defined]
        self.ramp: UnitRamp | None = None
        self._applied_mw = math.nan
        self._orders_changed = True
        self._next_control_s = 0.0
        for name in ORDER_POINTS:
            self.store.on_write(name, lambda _p, _v: self.queue(self._new_orders))
        if self.der is not None:
            der = self.der
            self.store.on_write("available_mw", lambda _p, value: self.queue(
                lambda now: [SetAvailablePower(der, max(0.0, float(value)))]))  # type: ignore[arg-type]
        if self.generator is not None:
            generator = self.generator
            self.store.on_write("unit_online", lambda _p, value: self.queue(
                lambda now: [SetUnitOnline(generator, bool(value))]))

    def register_map(self) -> RegisterMap:
        return plant_controller_map()

    def _new_orders(self, now: float) -> Effects:
        self._orders_changed = True
        return []

    def orders(self) -> UnitOrders:
        """The orders in the holding registers and coils now."""
        assert self.store is not None
        get = self.store.get
        return UnitOrders(float(get("basepoint_mw")), float(get("regulation_mw")),  # type: ignore[arg-type]
                          float(get("p_min_mw")), float(get("p_max_mw")),  # type: ignore[arg-type]
                          float(get("ramp_rate_mw_per_min")), bool(get("agc_enabled")))  # type: ignore[arg-type]

    def next_event_time_s(self) -> float:
        return self._next_control_s if self.ramp is not None and self.ramp.ramping else math.inf

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        assert self.store is not None
        table: Any
        if self.generator is not None:
            table, name = m.network.generators, self.generator
            reading = m.generator(name)
        else:
            assert self.der is not None
            table, name = m.network.ders, self.der
            reading = m.der(name)
        index = table.index(name)
        if self.ramp is None:
            # A unit starts where the scenario's grid has it, a renewable plant uncapped;
            # an unset basepoint means "stay there".
            start = float(table.p_mw[index]) if self.generator is not None else self.p_max_mw
            if self.config.params.basepoint_mw is None:  # type: ignore[attr-defined]
                self.store.set("basepoint_mw", start)
            self.ramp = UnitRamp(start, now)
            self._applied_mw = start
        actions: list[Intent] = []
        if self._orders_changed or (self.ramp.ramping and now >= self._next_control_s):
            orders = self.orders()
            setpoint = self.ramp.step(now, orders)
            self._orders_changed = False
            self._next_control_s = now + self.control_period_s
            self.store.set("desired_mw", orders.desired_mw())
            self.store.set("at_limit", orders.at_limit())
            if setpoint != self._applied_mw:
                self._applied_mw = setpoint
                if self.generator is not None:
                    actions.append(DispatchUnit(self.generator, setpoint))
                else:
                    assert self.der is not None
                    actions.append(CapPlantOutput(self.der, setpoint if setpoint < self.p_max_mw else None))
        online = bool(table.in_service[index]) and m.bus_voltage(bus_name(m, table.bus[index])).energised
        p_mw = self.measured(reading.p_mw) if online else 0.0
        self.set_points({
            "output_mw": p_mw, "output_mvar": self.measured(reading.q_mvar) if online else 0.0,
            "setpoint_mw": self.ramp.setpoint_mw, "online": online, "ramping": self.ramp.ramping,
        })
        if sample:
            self.world.record(self.entity, "p", p_mw, "MW")
            self.world.record(self.entity, "setpoint", self.ramp.setpoint_mw, "MW")
            self.world.record(self.entity, "basepoint", float(self.store.get("basepoint_mw")), "MW")  # type: ignore[arg-type]
        return actions
