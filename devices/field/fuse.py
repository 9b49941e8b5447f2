"""Fuse in a cutout: melts on its K or T curve with heating memory, opens its switch at total clearing.

The melting element is :class:`devices.protection.fuse.Fuse`; this device is
the bridge: it feeds the element the current measured through its switch,
opens the switch (a ``TripBreaker`` intent: the link interrupts fault
current) at the clearing time, and mirrors current, heating memory, I²t and
the melted flag into the fuse register map. A fuse takes no commands: a crew
closing the cutout (a ``close_switch`` event) puts in a new, cold link.
Logs ``fuse_melted`` and ``fuse_cleared`` with their exact times.
"""

from __future__ import annotations

from typing import Any

from cosim.grid import Action, GridMeasurements
from devices.field.base import Effects, FieldDevice
from devices.intents import Intent
from devices.protection.fuse import Fuse
from devices.registermap import RegisterMap
from devices.registermaps import DeviceKind, standard_map


class FuseDevice(FieldDevice):
    kind = "fuse"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.switch: str = self.config.switch  # type: ignore[attr-defined]
        self.logic = Fuse(self.switch, self.config.params.fuse_settings())  # type: ignore[attr-defined]
        self.operations = 0

    def register_map(self) -> RegisterMap:
        return standard_map(DeviceKind.FUSE)

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        closed = m.switch_closed(self.switch)
        if closed and self.logic.blown:
            self.world.log("fuse_replaced", device=self.device_id, switch=self.switch, link=self.logic.settings.name)
            self.logic.replace()
        current = abs(self.measured(m.switch(self.switch).i_a)) if closed else 0.0
        was_melted = self.logic.melted
        intents: list[Intent | Action] = list(self.logic.step(now, current))
        if self.logic.melted and not was_melted:
            self.world.log("fuse_melted", device=self.device_id, switch=self.switch, link=self.logic.settings.name,
                           melt_time_s=self.logic.melt_time_s, current_a=current)
        if intents:
            self.operations += 1
            self.world.log("fuse_cleared", device=self.device_id, switch=self.switch, link=self.logic.settings.name,
                           clear_time_s=self.logic.clear_time_s, i2t_a2s=self.logic.i2t_a2s)
            self.world.record(self.entity, "operations", self.operations, "count")
        settings = self.logic.settings
        self.set_points({
            "current_a": current, "damage_pct": 100.0 * self.logic.damage, "i2t_a2s": min(self.logic.i2t_a2s, 4e9),
            "melt_time_s": self.logic.melt_time_s or 0.0, "clear_time_s": self.logic.clear_time_s or 0.0,
            "operations": self.operations, "closed": closed and not intents, "melted": self.logic.melted,
            "melting": current >= settings.minimum_melting_current_a,
        })
        if sample or intents:
            self.world.record(self.entity, "current", current, "A")
            self.world.record(self.entity, "damage", self.logic.damage, "pu")
        return intents

    def next_event_time_s(self) -> float:
        return self.logic.next_event_time_s()
