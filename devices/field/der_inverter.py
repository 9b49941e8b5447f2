"""DER inverter with a SunSpec map (models 1, 103, 123): measurements, curtailment, Q control, volt-var.

Controls (model 123, written by a master) act on the grid DER:

* ``Conn`` 0/1 -> the DER out of / into service;
* ``WMaxLimPct`` with ``WMaxLim_Ena`` = 1 -> curtailment cap ``WMaxLimPct % x WMax`` (0 lifts it);
* ``VArWMaxPct`` with ``VArPct_Ena`` = 1 -> fixed reactive power in percent of WMax;
* ``OutPFSet`` with ``OutPFSet_Ena`` = 1 -> fixed power factor (negative: absorbing);
* otherwise, with ``params.volt_var.enabled``, Q follows the volt-var curve of
  the measured voltage (IEEE 1547-2018, 5.3.3; default curve its Category B
  default), re-commanded only when it moves by more than the deadband.

WMax is ``params.rated_kw`` or the DER's ``p_max_mw``. Available active power
is whatever the grid DER's ``p_mw`` is (profiles set it); the inverter only
caps it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cosim.grid import Action, CurtailDer, GridMeasurements, SetDerOutput
from devices.field.base import Effects, FieldDevice, SQRT3, bus_name
from devices.intents import Intent
from devices.registermap import RegisterMap
from devices.registermaps.der_inverter import der_inverter_map

CONTROL_POINTS = ("Conn", "WMaxLimPct", "WMaxLim_Ena")
SUNSPEC_STATE = {"off": 1, "mppt": 4, "throttled": 5}


class DerInverterDevice(FieldDevice):
    kind = "der_inverter"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        assert self.store is not None
        self.der: str = self.config.der  # type: ignore[attr-defined]
        self.volt_var = self.config.params.volt_var  # type: ignore[attr-defined]
        self.w_max_mw: float | None = (self.config.params.rated_kw / 1000.0  # type: ignore[attr-defined]
                                       if self.config.params.rated_kw else None)  # type: ignore[attr-defined]
        self.energy_wh = 0.0
        self._p_w = 0.0
        self._last_s = 0.0
        self._q_commanded: float | None = None
        for name in CONTROL_POINTS:
            self.store.on_write(f"controls.{name}", lambda _p, _v: self.queue(self._limits))

    def register_map(self) -> RegisterMap:
        return der_inverter_map(serial_number=self.config.id[:32])

    def _get(self, name: str) -> float:
        assert self.store is not None
        return float(self.store.get(f"controls.{name}"))  # type: ignore[arg-type]

    def _limits(self, now: float) -> Effects:
        assert self.w_max_mw is not None
        cap = self._get("WMaxLimPct") / 100.0 * self.w_max_mw if self._get("WMaxLim_Ena") else None
        self.world.log("der_controls", device=self.device_id, connected=bool(self._get("Conn")),
                       p_limit_mw=cap if cap is not None else -1.0)
        return [SetDerOutput(self.der, in_service=bool(self._get("Conn"))), CurtailDer(self.der, cap)]

    def _q_target_mvar(self, v_pu: float, p_mw: float) -> float | None:
        assert self.w_max_mw is not None
        if self._get("VArPct_Ena"):
            return self._get("VArWMaxPct") / 100.0 * self.w_max_mw
        if self._get("OutPFSet_Ena"):
            pf = self._get("OutPFSet")
            if abs(pf) >= 1.0 or pf == 0.0:
                return 0.0
            return math.copysign(abs(p_mw) * math.tan(math.acos(abs(pf))), pf)
        if self.volt_var.enabled and v_pu > 0:
            volts = [p.v_pu for p in self.volt_var.curve]
            q_pct = [p.q_pct for p in self.volt_var.curve]
            return float(np.interp(v_pu, volts, q_pct)) / 100.0 * self.w_max_mw
        return None

    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        ders = m.network.ders
        index = ders.index(self.der)
        if self.w_max_mw is None:
            p_max = float(ders.p_max_mw[index])
            self.w_max_mw = p_max if math.isfinite(p_max) and p_max > 0 else 1.0
        self.energy_wh += max(self._p_w, 0.0) * (now - self._last_s) / 3600.0
        self._last_s = now
        reading = m.der(self.der)
        self._p_w = reading.p_mw * 1e6
        voltage = m.bus_voltage(bus_name(m, ders.bus[index]))
        v_ln = self.measured(voltage.v_kv * 1000.0 / SQRT3)
        p_w, q_var = self.measured(reading.p_mw * 1e6), self.measured(reading.q_mvar * 1e6)
        s_va = math.hypot(p_w, q_var)
        current = s_va / (3.0 * v_ln) if v_ln > 1.0 else 0.0
        in_service = bool(ders.in_service[index])
        throttled = math.isfinite(float(ders.p_limit_mw[index]))
        state = "off" if not in_service or not voltage.energised else ("throttled" if throttled else "mppt")
        self.set_points({
            "inverter.A": current, "inverter.AphA": current, "inverter.AphB": current, "inverter.AphC": current,
            "inverter.PhVphA": v_ln, "inverter.PhVphB": v_ln, "inverter.PhVphC": v_ln,
            "inverter.PPVphAB": v_ln * SQRT3, "inverter.PPVphBC": v_ln * SQRT3, "inverter.PPVphCA": v_ln * SQRT3,
            "inverter.W": p_w, "inverter.VAr": q_var, "inverter.VA": s_va,
            "inverter.PF": 100.0 * (abs(p_w) / s_va if s_va > 0 else 1.0),
            "inverter.Hz": m.frequency_hz(bus_name(m, ders.bus[index])),
            "inverter.WH": int(self.energy_wh), "inverter.St": SUNSPEC_STATE[state],
        })
        actions: list[Intent | Action] = []
        target = self._q_target_mvar(voltage.vm_pu, reading.p_mw) if voltage.energised else None
        if target is not None:
            deadband = self.volt_var.deadband_pct / 100.0 * self.w_max_mw
            if self._q_commanded is None or abs(target - self._q_commanded) > deadband:
                self._q_commanded = target
                actions.append(SetDerOutput(self.der, q_mvar=target))
                self.world.record(self.entity, "q_command", target * 1000.0, "kvar")
        if sample:
            self.world.record(self.entity, "p", p_w / 1000.0, "kW")
            self.world.record(self.entity, "q", q_var / 1000.0, "kvar")
        return actions
