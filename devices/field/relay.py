"""Protective relay (ANSI 50/51) tripping one breaker, with remote trip/close over Modbus.

Settings come from the relay's holding registers (set from the scenario's
``params``; writable by a master only with ``allow_protection_writes``) and
are rebuilt after every settings write. The 51 element is stepped on the
measured breaker current; the device wakes at the element's predicted trip
instant, so the recorded trip time is the curve time (IEEE C37.112-2018
operating-time integral), not a multiple of the sample period.
"""

from __future__ import annotations

from typing import Any

from cosim.grid import Action, GridMeasurements
from devices.field.base import Effects, FieldDevice, switch_bus
from devices.intents import CloseBreaker, Intent, TripBreaker
from devices.protection.overcurrent import OvercurrentRelay
from devices.registermap import RegisterMap, Value
from devices.registermaps import DeviceKind, standard_map
from devices.settingsbinding import relay_settings, settings_check
from devices.soe import SoeBuffer, SoeEvent

SETTINGS = ("pickup_51_a", "curve_51", "time_dial_51", "reset_mode_51", "pickup_50_a", "delay_50_s")


class RelayDevice(FieldDevice):
    kind = "protective_relay"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        assert self.store is not None
        self.switch: str = self.config.switch  # type: ignore[attr-defined]
        self.logic = self._build_logic()
        self.trip_count = 0
        self._current_a = 0.0  # last measured breaker current, for the record of a remote trip
        self._v_pu = 0.0
        self.soe = SoeBuffer()
        store = self.store
        store.add_write_check(settings_check(store, relay_settings))
        for name in SETTINGS:
            store.on_write(name, lambda _p, _v: self.queue(self._rebuild))
        self.command("trip_command", self._remote_trip)
        self.command("close_command", self._remote_close)

    def register_map(self) -> RegisterMap:
        return standard_map(DeviceKind.PROTECTIVE_RELAY)

    def _build_logic(self) -> OvercurrentRelay:
        assert self.store is not None
        time_overcurrent, instantaneous = relay_settings(self.store.get)
        return OvercurrentRelay(self.switch, time_overcurrent, instantaneous)

    def _rebuild(self, now: float) -> Effects:
        self.logic = self._build_logic()
        self.world.log("relay_settings_changed", device=self.device_id)
        return []

    def _remote_trip(self, now: float, _value: object) -> Effects:
        """A master's trip command: the breaker opens and the trip counts like a protection trip."""
        self._count_trip(now, now, "remote", self._current_a, kind="relay_remote_trip")
        return [TripBreaker(self.switch)]

    def _remote_close(self, now: float, _value: object) -> Effects:
        self._soe(now, SoeEvent.CLOSE, "remote", self._current_a)
        return [CloseBreaker(self.switch)]

    def _soe(self, time_s: float, event: SoeEvent, element: str, current_a: float) -> None:
        self.soe.add(self.layer.utc_us(time_s), event, element, (current_a, current_a, current_a, 0.0), self._v_pu)
        self.set_points(self.soe.register_values())

    def _count_trip(self, now: float, trip_time_s: float, element: str, current_a: float,
                    kind: str = "relay_trip") -> None:
        """Count a trip in the registers and log it (``relay_trip``: protection; ``relay_remote_trip``: a master's command)."""
        self.trip_count += 1
        self._soe(trip_time_s, SoeEvent.REMOTE_TRIP if kind == "relay_remote_trip" else SoeEvent.PROTECTION_TRIP,
                  element, current_a)
        self.set_points({"trip_count": self.trip_count, "last_fault_current_a": current_a,
                         "last_trip_time_s": trip_time_s})
        self.world.log(kind, device=self.device_id, switch=self.switch, element=element,
                       trip_time_s=trip_time_s, current_a=current_a)
        self.world.record(self.entity, "trips", self.trip_count, "count")

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        assert self.store is not None
        current = self._current_a = abs(self.measured(m.switch(self.switch).i_a))
        bus_voltage = m.bus_voltage(switch_bus(m, self.switch))
        self._v_pu = bus_voltage.vm_pu
        voltage = self.measured(bus_voltage.v_kv * 1000.0)
        intents: list[Intent | Action] = []
        if self.store.get("protection_enabled"):
            intents += self.logic.step(now, current)
        elements = (self.logic.element_51, self.logic.element_50)
        self.set_points({
            "current_a_a": current, "current_b_a": current, "current_c_a": current, "current_n_a": 0.0,
            "voltage_ab_v": voltage, "breaker_closed": m.switch_closed(self.switch),
            "trip_output": self.logic.tripped,
            "pickup_51": elements[0] is not None and current > elements[0].settings.pickup_a,
            "pickup_50": elements[1] is not None and current > elements[1].settings.pickup_a,
        })
        if intents:
            trip_time = self.logic.trip_time_s if self.logic.trip_time_s is not None else now
            element = "50" if elements[1] is not None and elements[1].tripped else "51"
            self._count_trip(now, trip_time, element, current)
        if sample or intents:
            self.world.record(self.entity, "current", current, "A")
        return intents

    def next_event_time_s(self) -> float:
        return self.logic.next_event_time_s()


__all__ = ["RelayDevice", "Value"]
