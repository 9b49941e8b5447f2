"""Capacitor bank controller: voltage or var control with bandwidth, delay and anti-hunting, on a grid shunt.

The logic is :class:`devices.capacitorcontrol.CapacitorController`. Voltage
mode senses the per-unit voltage of ``bus`` (default the shunt's bus); var mode
senses the reactive flow into ``branch`` at its from end, in kvar. Control
settings are ordinary writable registers (retuned by operations without the
protection switch); ``control_mode`` 0 (manual) hands the bank to the
``bank_close_command`` coil. In voltage or var mode a write to that coil is
refused with exception 01 (the server is in the wrong state for the request,
Modbus Application Protocol v1.1b3, section 7) and changes nothing.
"""

from __future__ import annotations

from typing import Any

from collections.abc import Mapping

from cosim.grid import Action, GridMeasurements
from devices.pointstore import Refusal, WriteRefused
from devices.capacitorcontrol import CapacitorController
from devices.field.base import Effects, FieldDevice, bus_name
from devices.intents import Intent, SwitchCapacitor
from devices.registermap import RegisterMap, Value
from devices.registermaps import DeviceKind, standard_map
from devices.settingsbinding import capacitor_settings, settings_check

MANUAL_MODE = 0  # control_mode register: 0 manual, 1 voltage, 2 var

SETTINGS = ("control_mode", "voltage_setpoint_pu", "voltage_bandwidth_pu", "var_setpoint_kvar", "var_bandwidth_kvar",
            "time_delay_s", "min_switching_interval_s")


class CapacitorDevice(FieldDevice):
    kind = "capacitor_bank_controller"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        assert self.store is not None
        self.shunt: str = self.config.shunt  # type: ignore[attr-defined]
        self.branch: str | None = self.config.branch  # type: ignore[attr-defined]
        self.bus: str | None = self.config.bus  # type: ignore[attr-defined]
        self.switching_count = 0
        self.logic: CapacitorController | None = None
        self._closed: bool | None = None
        store = self.store
        store.add_write_check(settings_check(store, capacitor_settings))
        store.add_write_check(self._manual_only)
        for name in SETTINGS:
            store.on_write(name, lambda _p, _v: self.queue(self._rebuild))
        self.command("bank_close_command", self._manual, momentary=False)

    def register_map(self) -> RegisterMap:
        return standard_map(DeviceKind.CAPACITOR_BANK_CONTROLLER)

    def _rebuild(self, now: float) -> Effects:
        assert self.store is not None
        settings = capacitor_settings(self.store.get)
        closed = bool(self._closed)
        self.logic = CapacitorController(self.shunt, settings, closed=closed) if settings else None
        return []

    def _manual_only(self, proposed: Mapping[str, Value]) -> None:
        """Refuse the bank command unless the controller is in manual mode (mode 0), before anything commits."""
        assert self.store is not None
        if "bank_close_command" not in proposed:
            return
        mode = proposed.get("control_mode", self.store.get("control_mode"))
        if mode != MANUAL_MODE:
            raise WriteRefused(Refusal.WRONG_STATE, "bank_close_command",
                               f"bank_close_command is manual-only; control_mode is {mode}")

    def _manual(self, now: float, value: object) -> Effects:
        return [self._switched(now, bool(value))]

    def _switched(self, now: float, closed: bool) -> SwitchCapacitor:
        self.switching_count += 1
        self.world.log("capacitor_switch", device=self.device_id, shunt=self.shunt, closed=closed, time_s=now)
        self.world.record(self.entity, "switching_count", self.switching_count, "count")
        return SwitchCapacitor(self.shunt, closed)

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        sh = m.network.shunts
        index = sh.index(self.shunt)
        closed = bool(sh.step[index] > 0)
        if self._closed is None:
            self._closed = closed
            self._rebuild(now)
        self._closed = closed
        bus = self.bus or bus_name(m, sh.bus[index])
        voltage_pu = self.measured(m.bus_voltage(bus).vm_pu)
        kvar = self.measured(m.branch(self.branch).q_mvar * 1000.0) if self.branch else 0.0
        intents: list[Intent | Action] = []
        if self.logic is not None:
            self.logic.closed = closed
            for intent in self.logic.step(now, voltage_pu if self.logic.settings.mode.value == "voltage" else kvar):
                assert isinstance(intent, SwitchCapacitor)
                intents.append(self._switched(now, intent.closed))
        self.set_points({
            "voltage_pu": voltage_pu, "reactive_power_kvar": kvar, "switching_count": self.switching_count,
            "bank_closed": closed if not intents else intents[-1].closed,  # type: ignore[union-attr]
            "switching_pending": self.logic is not None and self.logic.next_event_time_s() < float("inf"),
        })
        if sample:
            self.world.record(self.entity, "voltage", voltage_pu, "pu")
        return intents

    def next_event_time_s(self) -> float:
        return self.logic.next_event_time_s() if self.logic is not None else float("inf")
