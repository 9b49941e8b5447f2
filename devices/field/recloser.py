"""Recloser control: fast and delayed shots, reclose intervals, lockout, remote reset over Modbus.

The sequencer is :class:`devices.protection.recloser.Recloser`; this device
feeds it the measured current at its interrupter, mirrors the sequence into
the recloser register map (``locked_out``, ``operations_in_sequence``,
``trip_count``...) and takes the command coils: ``trip_command``,
``close_command``, ``reset_lockout_command``. A crew closing the interrupter
by hand (a ``close_switch`` event) starts a fresh sequence.
"""

from __future__ import annotations

from typing import Any

from cosim.grid import Action, GridMeasurements
from devices.field.base import Effects, FieldDevice, switch_bus
from devices.intents import CloseBreaker, Intent, TripBreaker
from devices.protection.recloser import Recloser, RecloserState
from devices.registermap import RegisterMap
from devices.registermaps import DeviceKind, standard_map
from devices.settingsbinding import recloser_settings, settings_check
from devices.soe import SoeBuffer, SoeEvent

SETTINGS = ("pickup_a", "fast_curve", "fast_time_dial", "delayed_curve", "delayed_time_dial", "fast_operations",
            "delayed_operations", "reclose_interval_1_s", "reclose_interval_2_s", "reclose_interval_3_s",
            "reset_time_s", "reclosing_enabled")


class RecloserDevice(FieldDevice):
    kind = "recloser"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        assert self.store is not None
        self.switch: str = self.config.switch  # type: ignore[attr-defined]
        self.logic = Recloser(self.switch, recloser_settings(self.store.get))
        self.trip_count = 0
        self.lockouts = 0
        self.soe = SoeBuffer()
        self._current_a = 0.0
        self._phases = (0.0, 0.0, 0.0, 0.0)  # last Ia, Ib, Ic, 3I0 (A) for the registers and the SOE
        self._v_pu = 0.0
        store = self.store
        store.add_write_check(settings_check(store, recloser_settings))
        for name in SETTINGS:
            store.on_write(name, lambda _p, _v: self.queue(self._rebuild))
        self.command("trip_command", self._remote_trip)
        self.command("close_command", self._remote_close)
        self.command("reset_lockout_command", self._reset_lockout)

    def register_map(self) -> RegisterMap:
        return standard_map(DeviceKind.RECLOSER)

    def _rebuild(self, now: float) -> Effects:
        assert self.store is not None
        state = self.logic.state
        self.logic = Recloser(self.switch, recloser_settings(self.store.get))
        self.logic.state = state if state is not RecloserState.RECLOSING else RecloserState.OPEN
        self.world.log("recloser_settings_changed", device=self.device_id)
        return []

    def _soe(self, time_s: float, event: SoeEvent, element: str, current_a: float) -> None:
        phases = self._phases if max(self._phases[:3]) == current_a else (current_a, current_a, current_a, 0.0)
        self.soe.add(self.layer.utc_us(time_s), event, element, phases, self._v_pu)
        self.set_points(self.soe.register_values())

    def _remote_trip(self, now: float, _value: object) -> Effects:
        intents = list(self.logic.remote_trip(now))
        if intents:
            self._soe(now, SoeEvent.REMOTE_TRIP, "remote", self._current_a)
        return intents

    def _remote_close(self, now: float, _value: object) -> Effects:
        intents = list(self.logic.remote_close(now))
        if intents:
            self._soe(now, SoeEvent.CLOSE, "remote", self._current_a)
        return intents

    def _reset_lockout(self, now: float, _value: object) -> Effects:
        if self.logic.locked_out:
            self.world.log("recloser_lockout_reset", device=self.device_id)
        return list(self.logic.reset_lockout(now))

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        assert self.store is not None
        closed = m.switch_closed(self.switch)
        if closed and self.logic.state in (RecloserState.OPEN, RecloserState.LOCKED_OUT):
            # Closed by hand or by another master: the control follows, with a fresh sequence.
            self.logic = Recloser(self.switch, recloser_settings(self.store.get))
            self.logic.step(now, 0.0)
        elif not closed and self.logic.state is RecloserState.CLOSED:
            self.logic.remote_trip(now)  # opened by someone else: no reclosing
        current = self._current_a = abs(self.measured(m.switch(self.switch).i_a))
        # Per-phase and residual currents for the registers, with the same CT error as the largest phase.
        phasors = m.switch_phasors(self.switch).currents
        true_max = max(phasors.magnitudes)
        scale = current / true_max if true_max > 0 else 0.0
        ia, ib, ic = (x * scale for x in phasors.magnitudes)
        residual = abs(phasors.residual) * scale
        self._phases = (ia, ib, ic, residual)
        self._v_pu = m.bus_voltage(switch_bus(m, self.switch)).vm_pu
        operations_before = self.logic.operations
        intents: list[Intent | Action] = list(self.logic.step(now, current))
        for intent in intents:
            if isinstance(intent, TripBreaker):
                self._log_trip(now, current)
            elif isinstance(intent, CloseBreaker):
                self._soe(now, SoeEvent.RECLOSE, "79", current)
                self.world.log("recloser_reclose", device=self.device_id, switch=self.switch,
                               after_trips=self.logic.operations, time_s=now)
        if operations_before and not self.logic.operations and self.logic.state is RecloserState.CLOSED:
            self.world.log("recloser_sequence_reset", device=self.device_id)
        voltage = self.measured(m.bus_voltage(switch_bus(m, self.switch)).v_kv * 1000.0)
        state = self.logic.state
        self.set_points({
            "current_a_a": ia, "current_b_a": ib, "current_c_a": ic, "current_n_a": residual,
            "source_voltage_v": voltage, "operations_in_sequence": self.logic.operations,
            "trip_count": self.trip_count,
            "closed": closed if not intents else state is RecloserState.CLOSED,
            "locked_out": self.logic.locked_out,
            "picked_up": current > self.logic.settings.fast.pickup_a and state is RecloserState.CLOSED,
            "reclosing_in_progress": state is RecloserState.RECLOSING,
        })
        if sample or intents:
            self.world.record(self.entity, "current", current, "A")
            self.world.record(self.entity, "current_n", residual, "A")  # residual 3I0, as register current_n_a
            self.world.record(self.entity, "locked_out", float(self.logic.locked_out), "bool")
        return intents

    def _log_trip(self, now: float, current: float) -> None:
        assert self.store is not None
        self.trip_count += 1
        shot = self.logic.operations
        curve = "fast" if shot <= self.logic.settings.fast_operations else "delayed"
        trip_time = self.logic.last_trip_time_s if self.logic.last_trip_time_s is not None else now
        self.set_points({"last_fault_current_a": current})
        self._soe(trip_time, SoeEvent.PROTECTION_TRIP, "51", current)
        self.world.log("recloser_trip", device=self.device_id, switch=self.switch, shot=shot, curve=curve,
                       trip_time_s=trip_time, current_a=current)
        self.world.record(self.entity, "trips", self.trip_count, "count")
        self.world.record(self.entity, "shots", shot, "count")
        if self.logic.locked_out:
            self.lockouts += 1
            self._soe(trip_time, SoeEvent.LOCKOUT, "79", current)
            self.world.log("recloser_lockout", device=self.device_id, switch=self.switch, shots=shot,
                           time_s=trip_time)

    def next_event_time_s(self) -> float:
        return self.logic.next_event_time_s()
