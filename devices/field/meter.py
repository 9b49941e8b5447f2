"""Smart meter (AMI): instantaneous V/I/P/Q, cumulative energy, 15-minute interval data, outage events.

Energy registers integrate the true net power of the premises (``load`` minus
a behind-the-meter ``der``) exactly between wakes (power holds between grid
changes), so an interval's kWh do not depend on the sample period. They are
the one meter model of :mod:`devices.metering` (one meter here; the same
register serves the array-backed populations). At each
interval end (multiples of ``interval_s`` of simulated time) the meter
publishes its interval data on ``<topic>/interval``; an outage (its bus
de-energised) and the restoration publish ``<topic>/event`` at once (the
last-gasp and power-up messages of AMI meters). The ``service_connected``
coil is the remote disconnect switch: it takes the load out of service.
Default topic ``smart_meter/<id>``.
"""

from __future__ import annotations

import math
from typing import Any

from cosim.grid import GridMeasurements, SetLoadInService
from devices.field.base import Effects, FieldDevice, SQRT3, bus_name
from devices.meter_messages import MeterEvent, MeterInterval
from devices.metering import ClosedInterval, EnergyRegister
from devices.registermap import RegisterMap
from devices.registermaps import DeviceKind, standard_map


class SmartMeterDevice(FieldDevice):
    kind = "smart_meter"
    samples_periodically = True  # its cumulative energy register advances with time, not only with grid changes

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.load: str = self.config.load  # type: ignore[attr-defined]
        self.der: str | None = self.config.der  # type: ignore[attr-defined]
        self.interval_s = float(self.config.params.interval_s)  # type: ignore[attr-defined]
        self.mqtt = self.node_mqtt()
        self.prefix = self.topic_prefix()
        self.energy = EnergyRegister(1, self.interval_s)     # W -> Wh
        self.reactive = EnergyRegister(1, self.interval_s)   # var -> varh (import counts q > 0)
        self._v_range = [math.inf, -math.inf]
        self.powered: bool | None = None
        self.intervals = 0
        self.command("service_connected", self._service_switch, momentary=False)

    def register_map(self) -> RegisterMap:
        return standard_map(DeviceKind.SMART_METER)

    def _service_switch(self, now: float, value: object) -> Effects:
        self.world.log("meter_service_switch", device=self.device_id, connected=bool(value))
        return [SetLoadInService(self.load, bool(value))]

    @property
    def import_wh(self) -> float:
        return float(self.energy.import_total[0])

    @property
    def export_wh(self) -> float:
        return float(self.energy.export_total[0])

    @property
    def import_varh(self) -> float:
        return float(self.reactive.import_total[0])

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        load = m.load(self.load)
        p_mw, q_mvar = load.p_mw, load.q_mvar
        if self.der is not None:
            der = m.der(self.der)
            p_mw, q_mvar = p_mw - der.p_mw, q_mvar - der.q_mvar
        self._p_w, self._q_var = p_mw * 1e6, q_mvar * 1e6
        self.energy.hold(now, self._p_w)     # the power held since the last wake, then the new one
        self.reactive.hold(now, self._q_var)
        voltage = m.bus_voltage(bus_name(m, m.network.loads.bus[m.network.loads.index(self.load)]))
        v_ln = self.measured(voltage.v_kv * 1000.0 / SQRT3) if voltage.energised else 0.0
        p_w, q_var = self.measured(self._p_w), self.measured(self._q_var)
        s_va = math.hypot(p_w, q_var)
        current = s_va / (3.0 * v_ln) if v_ln > 1.0 else 0.0
        if voltage.energised:
            self._v_range = [min(self._v_range[0], v_ln), max(self._v_range[1], v_ln)]
        self.set_points({
            "voltage_an_v": v_ln, "voltage_bn_v": v_ln, "voltage_cn_v": v_ln,
            "current_a_a": current, "current_b_a": current, "current_c_a": current,
            "active_power_w": p_w, "reactive_power_var": q_var, "apparent_power_va": s_va,
            "power_factor": math.copysign(abs(p_w) / s_va, q_var) if s_va > 0 else 1.0,
            "frequency_hz": m.frequency_hz(bus_name(m, m.network.loads.bus[m.network.loads.index(self.load)])),
            "energy_import_wh": int(self.import_wh), "energy_export_wh": int(self.export_wh),
            "reactive_energy_import_varh": int(self.import_varh), "voltage_present": voltage.energised,
        })
        if self.powered is not None and voltage.energised != self.powered:
            self._event(now, "restoration" if voltage.energised else "outage")
        self.powered = voltage.energised
        self.reactive.take_closed()
        for interval in self.energy.take_closed():
            self._close_interval(interval)
        if sample:
            self.world.record(self.entity, "p", p_w / 1000.0, "kW")
            self.world.record(self.entity, "v", v_ln, "V")
        return []

    def next_event_time_s(self) -> float:
        return self.energy.interval_end_s()

    def _close_interval(self, interval: ClosedInterval) -> None:
        start_s, now = interval.start_s, interval.end_s
        import_kwh, export_kwh = float(interval.import_energy[0]) / 1000.0, float(interval.export_energy[0]) / 1000.0
        average_w = (import_kwh - export_kwh) * 1000.0 * 3600.0 / (now - start_s)
        self.intervals += 1
        assert self.store is not None
        self.store.set("demand_w", average_w)
        self.world.record(self.entity, "interval_import", import_kwh, "kWh")
        self.world.record(self.entity, "energy_import", self.import_wh / 1000.0, "kWh")
        if self.mqtt is not None:
            v_min, v_max = self._v_range
            self.mqtt.publish(f"{self.prefix}/interval", MeterInterval(
                self.device_id, start_s, now, round(import_kwh, 4), round(export_kwh, 4),
                round(self.import_wh / 1000.0, 4), round(average_w / 1000.0, 4),
                round(v_min, 1) if math.isfinite(v_min) else None,
                round(v_max, 1) if math.isfinite(v_max) else None).encode(), qos=self.qos)
        self._v_range = [math.inf, -math.inf]

    def _event(self, now: float, what: str) -> None:
        self.world.log(f"meter_{what}", device=self.device_id, load=self.load)
        self.world.record(self.entity, "powered", float(what == "restoration"), "bool")
        if self.mqtt is not None:
            self.mqtt.publish(f"{self.prefix}/event", MeterEvent(self.device_id, what, now).encode(), qos=self.qos)
