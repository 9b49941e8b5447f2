"""Phasor measurement unit: positive-sequence voltage (and current) phasors, frequency, at a reporting rate.

Every ``1 / reporting_rate_fps`` seconds the PMU reads the bus voltage phasor
(and the current into ``branch`` at its from end), stamps the frame with
SOC/FRACSEC (IEEE C37.118.2-2011, §6.2.2: SOC seconds since 1970-01-01 UTC,
FRACSEC a count of TIME_BASE = 1,000,000 parts of a second, so always below
1,000,000) from the devices' UTC clock (the scenario's ``run.start_utc`` at
simulated time 0), updates its registers and publishes the frame as JSON on
``<topic>/frame`` (default topic ``pmu/<id>``). Frequency and ROCOF come from
the grid's area frequency model (``grid.frequency_response``) when the
scenario has one, else nominal and 0; STAT bit 15 (data invalid) is set
while the bus is dead.
"""

from __future__ import annotations

import math
from typing import Any

from cosim.grid import GridMeasurements
from devices.field.base import SQRT3, Effects, FieldDevice
from devices.protocols import c37118_pmu
from devices.protocols.c37118_endpoint import C37118Endpoint, PmuStream
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
        self.c37118: PmuStream | None = None
        self._c37118_endpoint: C37118Endpoint | None = None
        assert self.store is not None
        self.store.on_write("reporting_rate_fps", lambda _p, value: setattr(self, "sample_period_s", 1.0 / float(value)))  # type: ignore[arg-type]

    def register_map(self) -> RegisterMap:
        return standard_map(DeviceKind.PMU)

    def start(self) -> None:
        super().start()
        settings = self.config.params.c37118  # type: ignore[attr-defined]
        if settings is None or self.layer.comm is None or self.config.node is None:
            return
        store = self.store
        assert store is not None
        station = settings.station or self.device_id
        nominal = self.layer.grid.network.frequency_hz if self.layer.grid is not None else 60.0

        def config() -> bytes:
            soc, fracsec = divmod(self.layer.utc_us(self.world.now), c37118_pmu.TIME_BASE)
            rate = int(store.get("reporting_rate_fps"))
            return c37118_pmu.config_frame(station, settings.idcode, nominal, rate, soc, fracsec).encode()

        layout = c37118_pmu.config_frame(station, settings.idcode, nominal, 1, 0, 0)  # the data frames' layout, built once

        def data() -> bytes:
            return c37118_pmu.data_frame(settings.idcode, store.get).encode(layout)

        self.c37118 = PmuStream(settings.idcode, config, f"gridcosim PMU {self.device_id} at bus {self.bus}", data)
        self._c37118_endpoint = C37118Endpoint.of(self.layer.comm, self.config.node, self.world.log)
        self._c37118_endpoint.add(self.c37118)

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
        if self._c37118_endpoint is not None and self.c37118 is not None:
            self._c37118_endpoint.publish(self.c37118)
        if self.mqtt is not None:
            self.mqtt.publish(self.topic, {
                "id": self.device_id, "soc": soc, "fracsec": fracsec, "vm_v": v_mag, "va_deg": v_ang,
                "im_a": i_mag, "ia_deg": i_ang, "freq_hz": frequency, "rocof_hz_s": rocof, "stat": stat,
            }, qos=self.qos)
        return []

