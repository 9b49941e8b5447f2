"""Step-voltage regulator control as a field device: senses a regulated bus, drives a transformer's taps.

The logic is :class:`devices.regulatorcontrol.RegulatorController`. The
device senses the regulated voltage at ``bus`` through its PT (on a feeder a
phase bus such as ``rg60.1``, the single-phase regulator's winding) and the
line current from the power through ``branch`` at ``end`` (P + jQ over
``params.phases`` phases, divided by the phase voltage), computes the
compensated relay voltage and, after its delays, moves the taps one step by a
typed :class:`~cosim.grid.actions.SetTap` on ``branch``. The tap position
comes from the grid each step (the position indicator), so a tap moved by
anyone else is seen.

Settings are ordinary writable registers (operations retune them without the
protection switch); ``control_mode`` 0 (manual) hands the taps to
``tap_position_command``. In auto mode a write to that register is refused
with exception 01 (wrong state for the request, Modbus Application Protocol
v1.1b3, section 7) and changes nothing.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Mapping
from typing import Any

from cosim.grid import GridMeasurements, SetTap
from devices.pointstore import Refusal, WriteRefused
from devices.field.base import Effects, FieldDevice, SQRT3
from devices.registermap import RegisterMap, Value
from devices.registermaps import DeviceKind, standard_map
from devices.regulatorcontrol import (RegulatorController, RegulatorMode, RegulatorSettings, relay_voltage_v,
                                      tap_step)

SETTINGS = ("control_mode", "band_centre_v", "bandwidth_v", "time_delay_s", "tap_delay_s", "ldc_r_v", "ldc_x_v",
            "pt_ratio", "ct_primary_a")


class VoltageRegulatorDevice(FieldDevice):
    kind = "voltage_regulator"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        assert self.store is not None
        self.branch: str = self.config.branch  # type: ignore[attr-defined]
        self.bus: str = self.config.bus  # type: ignore[attr-defined]
        self.end: str = self.config.end  # type: ignore[attr-defined]
        self.phases = int(self.config.params.phases)  # type: ignore[attr-defined]
        self.logic: RegulatorController | None = None
        self.store.add_write_check(self._manual_only)
        for name in SETTINGS:
            self.store.on_write(name, lambda _p, _v: self.queue(self._rebuild))
        self.command("tap_position_command", self._manual, momentary=False)

    def register_map(self) -> RegisterMap:
        return standard_map(DeviceKind.VOLTAGE_REGULATOR)

    def _settings(self) -> RegulatorSettings:
        assert self.store is not None
        get = self.store.get
        return RegulatorSettings(
            mode=RegulatorMode(int(get("control_mode"))), band_centre_v=float(get("band_centre_v")),
            bandwidth_v=float(get("bandwidth_v")), time_delay_s=float(get("time_delay_s")),
            tap_delay_s=float(get("tap_delay_s")), ldc_r_v=float(get("ldc_r_v")), ldc_x_v=float(get("ldc_x_v")),
            pt_ratio=float(get("pt_ratio")), ct_primary_a=float(get("ct_primary_a")))

    def _rebuild(self, now: float) -> Effects:
        step = self.logic.step_position if self.logic is not None else 0
        operations = self.logic.operations if self.logic is not None else 0
        self.logic = RegulatorController(self._settings(), step)
        self.logic.operations = operations
        return []

    def _manual_only(self, proposed: Mapping[str, Value]) -> None:
        """Refuse a tap command unless the control is in manual mode (0), before anything commits."""
        assert self.store is not None
        if "tap_position_command" not in proposed:
            return
        mode = proposed.get("control_mode", self.store.get("control_mode"))
        if mode != RegulatorMode.MANUAL.value:
            raise WriteRefused(Refusal.WRONG_STATE, "tap_position_command",
                               f"tap_position_command is manual-only; control_mode is {mode}")

    def _manual(self, now: float, value: object) -> Effects:
        if self.logic is None:
            self._rebuild(now)
        assert self.logic is not None
        position = int(value)  # type: ignore[call-overload]
        self.logic.step_position = position
        self.logic.operations += 1
        return [self._tap(now, position)]

    def _tap(self, now: float, position: int) -> SetTap:
        assert self.logic is not None
        self.world.log("regulator_tap", device=self.device_id, branch=self.branch, position=position, time_s=now)
        self.world.record(self.entity, "tap_position", position, "step")
        return SetTap(self.branch, tap_ratio=1.0 + position * self.logic.settings.tap_step_pu)

    def sensed(self, m: GridMeasurements) -> tuple[complex, complex]:
        """(regulated phase-to-neutral voltage, line current toward the load) as phasors, V and A."""
        bv = m.bus_voltage(self.bus)
        v = cmath.rect(bv.v_kv * 1000.0 / SQRT3, math.radians(bv.va_deg))
        reading = m.branch(self.branch, self.end)
        s_phase = complex(reading.p_mw, reading.q_mvar) * 1e6 / self.phases
        if abs(v) <= 0.0 or not math.isfinite(abs(s_phase)):
            return v, 0j
        i_into = (s_phase / v).conjugate()
        return v, -i_into if self.end == "to" else i_into

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        if self.logic is None:
            self._rebuild(now)
        assert self.logic is not None
        self.logic.step_position = tap_step(m.tap_ratio(self.branch), self.logic.settings)
        v, i_line = self.sensed(m)
        settings = self.logic.settings
        v_relay = self.measured(relay_voltage_v(settings, v, i_line))
        effects: Effects = []
        if abs(v) > 0.0:
            change = self.logic.step(now, v_relay)
            if change:
                effects = [self._tap(now, self.logic.step_position)]
        self.set_points({
            "relay_voltage_v": v_relay, "regulated_voltage_v": self.measured(abs(v) / settings.pt_ratio),
            "load_current_a": self.measured(abs(i_line)), "tap_position": self.logic.step_position,
            "tap_operations": self.logic.operations, "in_band": self.logic.in_band(v_relay),
            "tap_change_pending": math.isfinite(self.logic.next_event_time_s()),
        })
        if sample:
            self.world.record(self.entity, "relay_voltage", v_relay, "V")
        return effects

    def next_event_time_s(self) -> float:
        return self.logic.next_event_time_s() if self.logic is not None else math.inf
