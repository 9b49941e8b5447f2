"""Sectionalizer: counts upstream interruptions and opens in the dead time after N (IEEE C37.63).

Fed the measured current at its switch; a count is fault current followed by
a dead line, so it needs the upstream recloser to trip. Commands over Modbus:
``open_command`` (a load-break open, at once) and ``close_command`` (close and
clear the count). A crew closing the switch by hand clears the count too.
Every reset of a non-zero count is logged as ``sectionalizer_count_reset``
with the count it cleared and why (memory time, closed by hand, remote close,
settings change).
"""

from __future__ import annotations

from typing import Any

from cosim.grid import Action, GridMeasurements
from devices.field.base import Effects, FieldDevice
from devices.intents import Intent, OpenSwitch
from devices.protection.sectionalizer import Sectionalizer
from devices.registermap import RegisterMap
from devices.registermaps import DeviceKind, standard_map
from devices.settingsbinding import sectionalizer_settings, settings_check


class SectionalizerDevice(FieldDevice):
    kind = "sectionalizer"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        assert self.store is not None
        self.switch: str = self.config.switch  # type: ignore[attr-defined]
        self.logic = Sectionalizer(self.switch, sectionalizer_settings(self.store.get))
        self.operations = 0
        store = self.store
        store.add_write_check(settings_check(store, sectionalizer_settings))
        for name in ("counts_to_open", "actuating_current_a", "reset_time_s"):
            store.on_write(name, lambda _p, _v: self.queue(self._rebuild))
        self.command("open_command", self._open)
        self.command("close_command", self._close)

    def register_map(self) -> RegisterMap:
        return standard_map(DeviceKind.SECTIONALIZER)

    def _fresh(self) -> Sectionalizer:
        assert self.store is not None
        return Sectionalizer(self.switch, sectionalizer_settings(self.store.get))

    def _log_reset(self, count: int, reason: str) -> None:
        if count:
            self.world.log("sectionalizer_count_reset", device=self.device_id, switch=self.switch,
                           cleared_count=count, reason=reason)

    def _rebuild(self, now: float) -> Effects:
        was_open = self.logic.is_open
        self._log_reset(self.logic.count, "settings_changed")
        self.logic = self._fresh()
        self.logic.is_open = was_open
        return []

    def _close(self, now: float, _value: object) -> Effects:
        if self.logic.is_open:  # closing an open sectionalizer clears its count
            self._log_reset(self.logic.count, "remote_close")
        return self.logic.remote_close(now)

    def _open(self, now: float, _value: object) -> Effects:
        self.logic.is_open = True
        self.logic.open_time_s = now
        return [OpenSwitch(self.switch)]

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        closed = m.switch_closed(self.switch)
        if closed and self.logic.is_open:
            self._log_reset(self.logic.count, "closed_by_hand")
            self.logic = self._fresh()  # closed by hand: the count starts again
        current = abs(self.measured(m.switch(self.switch).i_a))
        count_before = self.logic.count
        intents: list[Intent | Action] = list(self.logic.step(now, current))
        if self.logic.count > count_before:
            self.world.log("sectionalizer_count", device=self.device_id, count=self.logic.count)
        elif self.logic.count < count_before:
            self._log_reset(count_before, "memory_time")
        if intents:
            self.operations += 1
            self.world.log("sectionalizer_open", device=self.device_id, switch=self.switch,
                           count=self.logic.count, time_s=now)
            self.world.record(self.entity, "operations", self.operations, "count")
        self.set_points({"current_a": current, "count": self.logic.count,
                         "closed": closed and not intents, "fault_current_seen": self.logic.armed})
        if sample or intents:
            self.world.record(self.entity, "current", current, "A")
            self.world.record(self.entity, "count", self.logic.count, "count")
        return intents

    def next_event_time_s(self) -> float:
        return self.logic.next_event_time_s()
