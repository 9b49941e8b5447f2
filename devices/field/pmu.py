"""Phasor measurement unit: positive-sequence voltage (and current) phasors, frequency, at a reporting rate.

Every ``1 / reporting_rate_fps`` seconds the PMU reads the bus voltage phasor
(and the current into ``branch`` at its from end), stamps the frame with
SOC/FRACSEC (IEEE C37.118.2-2011, §6.2.2: SOC seconds since 1970-01-01 UTC,
FRACSEC a count of TIME_BASE = 1,000,000 parts of a second, so always below
1,000,000) from the devices' UTC clock (the scenario's ``run.start_utc`` at
simulated time 0), updates its registers and publishes the frame as JSON on
``<topic>/frame`` (default topic ``pmu/<id>``); with ``protocols.c37118`` the
same registers go out as C37.118.2 data frames (devices/protocols/c37118_device). Frequency and ROCOF come from
the grid's area frequency model (``grid.frequency_response``) when the
scenario has one, else nominal and 0; STAT bit 15 (data invalid) is set
while the bus is dead.
"""

from __future__ import annotations

import math
from typing import Any

from cosim.grid import GridMeasurements
from devices.field.base import SQRT3, Effects, FieldDevice
from devices.registermap import RegisterMap
from devices.registermaps import DeviceKind, standard_map

STAT_DATA_INVALID = 0x8000  # IEEE C37.118.2-2011, STAT bit 15 (with bit 14 "PMU error")
TIME_BASE = 1_000_000  # IEEE C37.118.2-2011, CFG TIME_BASE: FRACSEC counts microseconds


class PmuDevice(FieldDevice):
    kind = "pmu"
    samples_periodically = True  # frames at the reporting rate, whatever the grid does

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        params = self.config.params
        self.bus: str = self.config.bus  # type: ignore[attr-defined]
        self.branch: str | None = self.config.branch  # type: ignore[attr-defined]
        self.sample_period_s = 1.0 / params.reporting_rate_fps  # type: ignore[attr-defined]
        self.topic = f"{self.topic_prefix()}/frame"
        self.mqtt = self.node_mqtt()
        self.frames = 0
        assert self.store is not None
        self.store.on_write("reporting_rate_fps", lambda _p, value: setattr(self, "sample_period_s", 1.0 / float(value)))  # type: ignore[arg-type]

    def register_map(self) -> RegisterMap:
        return standard_map(DeviceKind.PMU)

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        if not sample:
            return []
        voltage = m.bus_voltage(self.bus)
        v_mag = self.measured(voltage.v_kv * 1000.0 / SQRT3)
        v_ang = voltage.va_deg
        i_mag, i_ang = 0.0, 0.0
        if self.branch is not None:
            reading = m.branch(self.branch)
            i_mag = self.measured(reading.i_a)
            if math.isfinite(reading.p_mw) and math.isfinite(reading.q_mvar):
                i_ang = v_ang - math.degrees(math.atan2(reading.q_mvar, reading.p_mw))
        frequency = m.frequency_hz(self.bus)
        rocof = m.rocof_hz_per_s(self.bus)
        soc, fracsec = divmod(self.layer.utc_us(now), TIME_BASE)
        stat = 0 if voltage.energised else STAT_DATA_INVALID
        assert self.store is not None
        self.set_points({
            "voltage_magnitude_v": v_mag, "voltage_angle_deg": v_ang, "current_magnitude_a": i_mag,
            "current_angle_deg": i_ang, "frequency_hz": frequency, "rocof_hz_per_s": rocof,
            "timestamp_soc_s": soc, "timestamp_fracsec_us": fracsec, "stat": stat,
        })
        self.frames += 1
        if self.mqtt is not None:
            self.mqtt.publish(self.topic, {
                "id": self.device_id, "soc": soc, "fracsec": fracsec, "vm_v": v_mag, "va_deg": v_ang,
                "im_a": i_mag, "ia_deg": i_ang, "freq_hz": frequency, "rocof_hz_s": rocof, "stat": stat,
            }, qos=self.qos)
        return []

