"""Protective relay (multifunction: 50/51, 50N/51N, 50G/51G, 50Q/51Q, directional 67/67N/67Q) tripping one breaker.

Settings come from the relay's holding registers (set from the scenario's
``params``; writable by a master only with ``allow_protection_writes``) and
the elements are rebuilt after every settings write. Each wake the relay
reads :meth:`~cosim.grid.GridMeasurements.switch_phasors` (phase currents
through its breaker and the voltages at its bus, from the balanced grid's
fault study or a three-phase feeder's solution alike) and steps
:class:`~devices.protection.multifunction.MultifunctionRelay`; the device
wakes at the earliest element's predicted trip instant, so the recorded
trip time is the curve time (IEEE C37.112-2018 operating-time integral),
not a multiple of a sample period.

Breaker operating time (``breaker_time_s``): the trip decision is logged
(``relay_trip``) when an element operates; the breaker interrupts the
current ``breaker_time_s`` later (``relay_breaker_opened``), and until then
the fault current keeps flowing through everything upstream. A master's
trip command goes through the same breaker.
"""

from __future__ import annotations

import math
from typing import Any

from cosim.grid import Action, GridMeasurements
from cosim.comm.modbus.datamodel import ModbusTable
from devices.field.base import Effects, FieldDevice, switch_bus
from devices.intents import CloseBreaker, Intent, TripBreaker
from devices.protection.directional import Direction, DirectionalSettings, looking
from devices.protection.multifunction import Measurands, MultifunctionRelay, Quantity
from devices.registermap import RegisterMap, Value
from devices.registermaps import DeviceKind, standard_map
from devices.settingsbinding import relay_elements, settings_check
from devices.soe import SoeBuffer, SoeEvent

SETTINGS = tuple(p.name for p in standard_map(DeviceKind.PROTECTIVE_RELAY).points
                 if p.protection_setting and p.table is ModbusTable.HOLDING_REGISTERS)
"""Every holding register the elements are built from: a write to any rebuilds them."""


class RelayDevice(FieldDevice):
    kind = "protective_relay"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        assert self.store is not None
        self.switch: str = self.config.switch  # type: ignore[attr-defined]
        self.logic = self._build_logic()
        self.trip_count = 0
        self._currents = (0.0, 0.0, 0.0, 0.0)  # last measured Ia, Ib, Ic, 3I0 (for the SOE of a remote trip)
        self._v_pu = 0.0
        self._open_due_s = math.inf  # the breaker interrupts at this instant (a trip within its operating time)
        self._decision_s = math.inf  # ... decided at this one
        self.soe = SoeBuffer()
        store = self.store
        store.add_write_check(settings_check(store, relay_elements))
        for name in SETTINGS:
            store.on_write(name, lambda _p, _v: self.queue(self._rebuild))
        self.command("trip_command", self._remote_trip)
        self.command("close_command", self._remote_close)

    def register_map(self) -> RegisterMap:
        return standard_map(DeviceKind.PROTECTIVE_RELAY)

    def _build_logic(self) -> MultifunctionRelay:
        assert self.store is not None
        return MultifunctionRelay(self.switch, relay_elements(self.store.get))

    @property
    def breaker_time_s(self) -> float:
        assert self.store is not None
        return float(self.store.get("breaker_time_s"))

    def _rebuild(self, now: float) -> Effects:
        self.logic = self._build_logic()
        self.world.log("relay_settings_changed", device=self.device_id)
        return []

    def _remote_trip(self, now: float, _value: object) -> Effects:
        """A master's trip command: the breaker opens and the trip counts like a protection trip."""
        self._count_trip(now, now, "remote", kind="relay_remote_trip")
        return self._open_breaker(now, now)

    def _remote_close(self, now: float, _value: object) -> Effects:
        self._soe(now, SoeEvent.CLOSE, "remote")
        # Trip-free: a close given while a trip is under way does not cancel the opening.
        return [CloseBreaker(self.switch)]

    def _open_breaker(self, now: float, decision_s: float) -> list[Intent | Action]:
        """The breaker interrupts ``breaker_time_s`` after the decision: now if that is past, else at its wake then."""
        due = decision_s + self.breaker_time_s
        if due > now:
            if due < self._open_due_s:
                self._open_due_s, self._decision_s = due, decision_s
            return []
        return self._interrupt(due, decision_s)

    def _interrupt(self, due: float, decision_s: float) -> list[Intent | Action]:
        self._open_due_s = math.inf
        if self.breaker_time_s > 0:
            self.world.log("relay_breaker_opened", device=self.device_id, switch=self.switch, open_time_s=due,
                           decision_time_s=decision_s)
        return [TripBreaker(self.switch)]

    def _soe(self, time_s: float, event: SoeEvent, element: str) -> None:
        self.soe.add(self.layer.utc_us(time_s), event, element, self._currents, self._v_pu)
        self.set_points(self.soe.register_values())

    def _count_trip(self, now: float, trip_time_s: float, element: str, kind: str = "relay_trip") -> None:
        """Count a trip in the registers and log it (``relay_trip``: protection; ``relay_remote_trip``: a master's command)."""
        self.trip_count += 1
        current_a = max(self._currents[:3])
        self._soe(trip_time_s, SoeEvent.REMOTE_TRIP if kind == "relay_remote_trip" else SoeEvent.PROTECTION_TRIP,
                  element)
        self.set_points({"trip_count": self.trip_count, "last_fault_current_a": current_a,
                         "last_trip_time_s": trip_time_s})
        self.world.log(kind, device=self.device_id, switch=self.switch, element=element,
                       trip_time_s=trip_time_s, current_a=current_a, residual_a=self._currents[3])
        self.world.record(self.entity, "trips", self.trip_count, "count")

    def _measurands(self, m: GridMeasurements) -> tuple[Measurands, tuple[float, float, float]]:
        """The sample the elements take, and the phase current magnitudes: one noise draw on the largest
        phase current scales every current (a relay's CTs share its error)."""
        reading = m.switch_phasors(self.switch)
        cur, volt = reading.currents, reading.voltages
        true_max = max(cur.magnitudes)
        phase_max = abs(self.measured(m.switch(self.switch).i_a))
        scale = phase_max / true_max if true_max > 0 else 1.0
        sample = Measurands(phase_max, cur.zero * scale, cur.positive * scale, cur.negative * scale,
                            volt.zero, volt.positive, volt.negative)
        ia, ib, ic = (x * scale for x in cur.magnitudes)
        return sample, (ia, ib, ic)

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        assert self.store is not None
        measurands, (ia, ib, ic) = self._measurands(m)
        residual = abs(3 * measurands.i0)
        self._currents = (ia, ib, ic, residual)
        bus_voltage = m.bus_voltage(switch_bus(m, self.switch))
        self._v_pu = bus_voltage.vm_pu
        voltage = self.measured(bus_voltage.v_kv * 1000.0)
        intents: list[Intent | Action] = []
        if self._open_due_s <= now:
            intents += self._interrupt(self._open_due_s, self._decision_s)
        tripped: list[Intent] = []
        if self.store.get("protection_enabled"):
            tripped = self.logic.step(now, measurands)
        if tripped:
            trip_time = self.logic.trip_time_s if self.logic.trip_time_s is not None else now
            element = self.logic.tripped_elements[0] if self.logic.tripped_elements else "51"
            self._count_trip(now, trip_time, element)
            intents += self._open_breaker(now, trip_time)
        ground = DirectionalSettings(Direction.FORWARD, float(self.store.get("mta_ground_deg")),
                                     float(self.store.get("min_polarising_v")))
        _, i_op, v_pol = measurands.operating(Quantity.RESIDUAL)
        seen = looking(i_op, v_pol, ground)
        picked = self.logic.picked_up
        self.set_points({
            "current_a_a": ia, "current_b_a": ib, "current_c_a": ic, "current_n_a": residual,
            "current_q_a": abs(3 * measurands.i2), "voltage_0_v": abs(3 * measurands.v0),
            "voltage_ab_v": voltage, "breaker_closed": m.switch_closed(self.switch),
            "trip_output": self.logic.tripped, "pickup_51": "51" in picked, "pickup_50": "50" in picked,
            "pickup_ground": bool(picked & {"50N", "51N", "50G", "51G"}),
            "pickup_negative": bool(picked & {"50Q", "51Q"}),
            "forward_ground": seen is Direction.FORWARD, "reverse_ground": seen is Direction.REVERSE,
            "breaker_opening": math.isfinite(self._open_due_s),
        })
        if sample or intents or tripped:
            self.world.record(self.entity, "current", measurands.phase_max_a, "A")
            # The residual 3I0 the ground elements time on: an earth fault (and the load unbalance a 51N
            # pickup must sit above) shows in the results, not only in input register 3.
            self.world.record(self.entity, "current_n", residual, "A")
        return intents

    def next_event_time_s(self) -> float:
        return min(self.logic.next_event_time_s(), self._open_due_s)


__all__ = ["RelayDevice", "Value"]
