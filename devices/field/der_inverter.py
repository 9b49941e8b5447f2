"""DER inverter with a SunSpec map: measurements, curtailment, Q control, volt-var, IEEE 1547-2018 ride-through.

Controls (model 123, written by a master) act on the grid DER:

* ``Conn`` 0/1 -> the DER out of / into service;
* ``WMaxLimPct`` with ``WMaxLim_Ena`` = 1 -> curtailment cap ``WMaxLimPct % x WMax`` (0 lifts it);
* ``VArWMaxPct`` with ``VArPct_Ena`` = 1 -> fixed reactive power in percent of WMax;
* ``OutPFSet`` with ``OutPFSet_Ena`` = 1 -> fixed power factor (negative: absorbing);
* otherwise, with ``params.volt_var.enabled``, Q follows the volt-var curve of
  the measured voltage (IEEE 1547-2018, 5.3.3 and Table 8), in percent of the
  nameplate apparent power ``rated_kva``, through a first-order lag whose
  90 % time is the category's open-loop response time (A 10 s, B 5 s); it is
  re-commanded only when it moves by more than the deadband.

Abnormal voltage and frequency (``params.ieee1547``, on by default, Category
II): :class:`devices.ieee1547.AbnormalResponse` trips the DER on the
category's shall-trip settings, makes it cease to energise in the
ride-through bands that require it (no active or reactive power) and restore
output when the voltage comes back, and after a trip reconnects only once
voltage and frequency have been within the enter-service criteria for the
enter-service delay (default 300 s), ramping active power up over the
enter-service period. A trip sets Evt1 bits (SunSpec model 103: 4 grid
disconnect, 8/9 over/under frequency, 10/11 over/under voltage).

WMax is ``params.rated_kw`` or the DER's ``p_max_mw``. Available active power
is what the array behind the inverter gives: the physical world hands it in
with :meth:`DerInverterDevice.set_available_power` (the sun on a customer's
panels, :mod:`cosim.physical.premises`), and the inverter passes it to the
grid DER's ``p_mw``, clipped at WMax as an inverter clips DC power above its
AC rating; without an array model the grid DER's ``p_mw`` stands as it is.
Curtailment, connection and the 1547 response then act on that, so a
customer's PV reaches the grid only through its inverter.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cosim.grid import Action, CurtailDer, GridMeasurements, SetDerOutput
from devices.pointstore import Refusal, WriteRefused
from devices.field.base import SQRT3, Effects, FieldDevice, bus_name
from devices.ieee1547 import AbnormalCategory, AbnormalResponse, Settings, State
from collections.abc import Mapping

from devices.registermap import RegisterMap, Value
from devices.registermaps.der_inverter import (
    CURVE_POINTS,
    EXAMPLE_RATING,
    SunSpecRating,
    der_inverter_map,
    representable,
)

CONTROL_POINTS = ("Conn", "WMaxLimPct", "WMaxLim_Ena")
SUNSPEC_STATE = {"off": 1, "starting": 3, "mppt": 4, "throttled": 5, "standby": 8}
# SunSpec model 103 Evt1 bits
EVT_GRID_DISCONNECT, EVT_OVER_FREQUENCY, EVT_UNDER_FREQUENCY, EVT_AC_OVER_VOLT, EVT_AC_UNDER_VOLT = 4, 8, 9, 10, 11
_TRIP_EVENT_BIT = {"OV": EVT_AC_OVER_VOLT, "UV": EVT_AC_UNDER_VOLT, "OF": EVT_OVER_FREQUENCY, "UF": EVT_UNDER_FREQUENCY}
DER_TYPES = {"pv": 4}  # SunSpec model 120 DERTyp of a grid DER kind (others: not implemented)
PT1_95_PER_90 = math.log(20.0) / math.log(10.0)  # model 126 RmpTms is the time to 95 %, IEEE 1547's response time to 90 %
CURVE_SETTINGS = ("volt_var.ModEna", "volt_var.curve1.ActPt", "volt_var.curve1.RmpTms", "settings.VRef",
                  "settings.VArMaxQ1", "settings.VArMaxQ4",
                  *[f"volt_var.curve1.{kind}{k}" for k in range(1, CURVE_POINTS + 1) for kind in ("V", "VAr")])
RAMP_STEPS = 30  # active-power cap updates over the enter-service period
LAG_STEPS = 10  # reactive-power updates per open-loop response time while Q moves


class DerInverterDevice(FieldDevice):
    kind = "der_inverter"
    samples_periodically = True  # its cumulative energy register advances with time, not only with grid changes

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        assert self.store is not None
        params = self.config.params
        self.der: str = self.config.der  # type: ignore[attr-defined]
        self.volt_var = params.volt_var  # type: ignore[attr-defined]
        self.w_max_mw: float | None = params.rated_kw / 1000.0 if params.rated_kw else None  # type: ignore[attr-defined]
        self._rated_kva: float | None = params.rated_kva  # type: ignore[attr-defined]
        self._rating_v_ref = float(self.store.get("settings.VRef"))  # the VRef the curve's percentages were written for
        abnormal = params.ieee1547  # type: ignore[attr-defined]
        self.response: AbnormalResponse | None = None
        self._abnormal_params = abnormal if abnormal.enabled else None
        self.energy_wh = 0.0
        self._p_w = 0.0
        self._last_s = 0.0
        self._q_commanded: float | None = None
        self._q_lag: tuple[float, float] | None = None  # (time, Q in MVAr) of the lagged volt-var output
        self._q_target: float | None = None
        self._in_service: bool | None = None  # what the grid DER is, as last seen or commanded
        self._cap_mw: float | None = None
        self._available_mw: float | None = None  # from the array, set by the physical world
        self._applied_available_mw: float | None = None
        self._events = 0
        for name in CONTROL_POINTS:
            self.store.on_write(f"controls.{name}", lambda _p, _v: self.queue(self._output))
        # Volt-var as configured, then as an operator rewrites it over models 121 and 126.
        self._vv_enabled: bool = self.volt_var.enabled
        self._curve: list[tuple[float, float]] = [(p.v_pu, p.q_pct) for p in self.volt_var.points]
        self._response_s: float = self.volt_var.response_s
        self._write_curve_registers()
        self.store.add_write_check(self._check_curve)
        for name in CURVE_SETTINGS:
            self.store.on_write(name, lambda _p, _v: self._read_curve_registers(self.store.get))  # type: ignore[union-attr]
        self.store.on_write("settings.WMax", lambda _p, value: setattr(self, "w_max_mw", float(value) / 1e6))  # type: ignore[arg-type]
        self.store.on_write("settings.VAMax", lambda _p, value: setattr(self, "_rated_kva", float(value) / 1e3))  # type: ignore[arg-type]

    def register_map(self) -> RegisterMap:
        return der_inverter_map(serial_number=self.config.id[:32], rating=self._rating())

    def _rating(self) -> SunSpecRating:
        """Nameplate and nominal values the SunSpec scale factors are computed from (config, else the grid DER)."""
        params = self.config.params
        grid = self.layer.grid
        der: str = self.config.der  # type: ignore[attr-defined]
        if grid is None:
            return EXAMPLE_RATING
        net = grid.network
        index = net.ders.index(der)
        p_max = float(net.ders.p_max_mw[index])
        w_max_w = params.rated_kw * 1e3 if params.rated_kw else (p_max * 1e6 if math.isfinite(p_max) and p_max > 0 else 1e6)  # type: ignore[attr-defined]
        va_max = params.rated_kva * 1e3 if params.rated_kva else w_max_w  # type: ignore[attr-defined]
        v_ll = float(net.buses.base_kv[int(net.ders.bus[index])]) * 1e3
        return SunSpecRating(w_max_w, va_max, v_ll, float(net.frequency_hz), DER_TYPES.get(net.ders.kind[index]))

    # -- volt-var settings over SunSpec models 121 and 126 ----------------------------------
    def _write_curve_registers(self) -> None:
        assert self.store is not None
        values: dict[str, Value] = {"volt_var.ModEna": int(self._vv_enabled), "volt_var.curve1.ActPt": len(self._curve),
                                    "volt_var.curve1.RmpTms": max(1, round(self._response_s * PT1_95_PER_90))}
        for k, (v_pu, q_pct) in enumerate(self._curve, start=1):
            values[f"volt_var.curve1.V{k}"] = v_pu * 100.0
            values[f"volt_var.curve1.VAr{k}"] = q_pct
        self.set_points(values)

    @staticmethod
    def _curve_from(get: Any) -> list[tuple[float, float]]:
        """The curve (V in pu of VRef's nominal, Q in % of nameplate) the 126 and 121 registers hold; ValueError if invalid."""
        points = int(get("volt_var.curve1.ActPt"))
        curve = [(float(get(f"volt_var.curve1.V{k}")) / 100.0, float(get(f"volt_var.curve1.VAr{k}")))
                 for k in range(1, points + 1)]
        if any(not 0.0 < v < 2.0 or not -100.0 <= q <= 100.0 for v, q in curve):
            raise ValueError("curve points must have 0 < V < 200 % VRef and |VAr| <= 100 % VArMax")
        if any(b[0] <= a[0] for a, b in zip(curve, curve[1:])):
            raise ValueError("curve voltages must increase strictly")
        return curve

    def _check_curve(self, proposed: Mapping[str, Value]) -> None:
        """Refuse (03) a write that would leave model 126 holding an invalid curve."""
        if not any(name.startswith("volt_var.") for name in proposed):
            return
        store = self.store
        assert store is not None

        def get(name: str) -> Value:
            return proposed[name] if name in proposed else store.get(name)

        try:
            self._curve_from(get)
        except ValueError as error:
            raise WriteRefused(Refusal.REFUSED, ", ".join(proposed),
                               f"volt-var curve would be invalid: {error}") from None

    def _read_curve_registers(self, get: Any) -> None:
        assert self.store is not None
        v_scale = float(get("settings.VRef")) / self._rating_v_ref
        q_inject, q_absorb = float(get("settings.VArMaxQ1")), abs(float(get("settings.VArMaxQ4")))
        s_rated_var = self.s_rated_mva * 1e6
        self._curve = [(v * v_scale, q * (q_inject if q >= 0 else q_absorb) / s_rated_var)
                       for v, q in self._curve_from(get)]
        self._vv_enabled = bool(int(get("volt_var.ModEna")) & 1)
        self._response_s = float(get("volt_var.curve1.RmpTms")) / PT1_95_PER_90
        self._q_lag = None if not self._vv_enabled else self._q_lag
        self.world.log("der_volt_var_settings", device=self.device_id, enabled=self._vv_enabled,
                       points=len(self._curve), response_time_s=self._response_s)

    @property
    def s_rated_mva(self) -> float:
        """Nameplate apparent power, MVA: ``rated_kva``, else WMax."""
        assert self.w_max_mw is not None
        return self._rated_kva / 1000.0 if self._rated_kva else self.w_max_mw

    def _get(self, name: str) -> float:
        assert self.store is not None
        return float(self.store.get(f"controls.{name}"))  # type: ignore[arg-type]

    # -- the array's side -------------------------------------------------------------
    def set_available_power(self, p_mw: float) -> None:
        """The DC power the array gives now (MW, simulated time), passed on to the grid DER at once.

        An inverter's MPPT follows its array within milliseconds, far below
        any step of the simulation, so the output changes in the same instant
        as the sunshine (and a grid sample at that instant sees it).
        """
        self._available_mw = max(0.0, float(p_mw))
        self.act(self._available_actions())

    def _available_actions(self) -> list[Action]:
        if self._available_mw is None:
            return []
        available = self._available_mw if self.w_max_mw is None else min(self._available_mw, self.w_max_mw)
        if available == self._applied_available_mw:
            return []
        self._applied_available_mw = available
        return [SetDerOutput(self.der, p_mw=available)]

    # -- output: connection and active-power cap --------------------------------------
    def _output(self, now: float) -> list[Action]:
        """The actions that bring the grid DER to what controls and IEEE 1547 allow (none if already there)."""
        assert self.w_max_mw is not None
        if self._in_service is None:
            return []  # not stepped yet: the first step reads the grid state and calls this
        energise = bool(self._get("Conn")) and (self.response is None or self.response.energises)
        caps = [self._get("WMaxLimPct") / 100.0 * self.w_max_mw] if self._get("WMaxLim_Ena") else []
        if self.response is not None and self.response.state is State.RAMPING:
            caps.append(self.response.power_limit_fraction(now) * self.w_max_mw)
        cap = min(caps) if caps else None
        actions: list[Action] = []
        if energise != self._in_service:
            self._in_service = energise
            actions.append(SetDerOutput(self.der, in_service=energise))
            if not energise:
                self._q_commanded = self._q_lag = None  # no current: the lag restarts from 0 on return
        if cap != self._cap_mw:
            self._cap_mw = cap
            actions.append(CurtailDer(self.der, cap))
        if actions:
            self.world.log("der_controls", device=self.device_id, connected=energise,
                           p_limit_mw=cap if cap is not None else -1.0)
        return actions

    # -- reactive power ----------------------------------------------------------------
    def _q_setpoint_mvar(self, v_pu: float, p_mw: float) -> tuple[float, bool] | None:
        """(Q target, follows the volt-var lag) for the active mode, None if no Q control."""
        assert self.w_max_mw is not None
        if self._get("VArPct_Ena"):
            return self._get("VArWMaxPct") / 100.0 * self.w_max_mw, False
        if self._get("OutPFSet_Ena"):
            pf = self._get("OutPFSet")
            if abs(pf) >= 1.0 or pf == 0.0:
                return 0.0, False
            return math.copysign(abs(p_mw) * math.tan(math.acos(abs(pf))), pf), False
        if self._vv_enabled and v_pu > 0:
            q_pct = float(np.interp(v_pu, [v for v, _ in self._curve], [q for _, q in self._curve]))
            return q_pct / 100.0 * self.s_rated_mva, True
        return None

    def _lagged(self, now: float, target: float) -> float:
        """Volt-var output: first-order lag reaching 90 % of a step in the open-loop response time (Table 8)."""
        tau = self._response_s / math.log(10.0)
        if self._q_lag is None:
            start = 0.0 if self._q_commanded is None else self._q_commanded
            self._q_lag = (now, start)
        t0, q0 = self._q_lag
        previous = self._q_target if self._q_target is not None else target
        q_now = previous + (q0 - previous) * math.exp(-(now - t0) / tau)
        self._q_lag = (now, q_now)
        self._q_target = target
        return q_now

    def _q_actions(self, now: float, v_pu: float, p_mw: float) -> list[Action]:
        setpoint = self._q_setpoint_mvar(v_pu, p_mw)
        if setpoint is None:
            return []
        target, lag = setpoint
        q = self._lagged(now, target) if lag else target
        deadband = self.volt_var.deadband_pct / 100.0 * self.s_rated_mva
        if self._q_commanded is not None and abs(q - self._q_commanded) <= deadband:
            return []
        self._q_commanded = q
        self.world.record(self.entity, "q_command", q * 1000.0, "kvar")
        return [SetDerOutput(self.der, q_mvar=q)]

    # -- the step --------------------------------------------------------------------
    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        ders = m.network.ders
        index = ders.index(self.der)
        if self.w_max_mw is None:
            p_max = float(ders.p_max_mw[index])
            self.w_max_mw = p_max if math.isfinite(p_max) and p_max > 0 else 1.0
        bus = bus_name(m, ders.bus[index])
        if self._in_service is None:
            self._in_service = bool(ders.in_service[index])
            limit = float(ders.p_limit_mw[index])
            self._cap_mw = limit if math.isfinite(limit) else None
            if self._abnormal_params is not None:
                self.response = AbnormalResponse(Settings(
                    AbnormalCategory(self._abnormal_params.category),
                    self._abnormal_params.enter_service_delay_s, self._abnormal_params.enter_service_ramp_s,
                    float(m.network.frequency_hz)))
        self.energy_wh += max(self._p_w, 0.0) * (now - self._last_s) / 3600.0
        self._last_s = now
        reading = m.der(self.der)
        self._p_w = reading.p_mw * 1e6
        voltage = m.bus_voltage(bus)
        frequency = m.frequency_hz(bus)
        actions: list[Action] = []
        if self.response is not None:
            before = (self.response.state, self.response.trips)
            self.response.step(now, voltage.vm_pu if voltage.energised else 0.0, frequency)
            if (self.response.state, self.response.trips) != before:
                self._log_transition(now, before[0], voltage.vm_pu, frequency)
        actions += self._available_actions()
        actions += self._output(now)
        energising = bool(self._in_service)
        if energising and voltage.energised:
            actions += self._q_actions(now, voltage.vm_pu, reading.p_mw)
        self._set_measurements(m, index, reading, voltage, frequency)
        if sample:
            self.world.record(self.entity, "p", self._p_w / 1000.0, "kW")
            self.world.record(self.entity, "q", reading.q_mvar * 1000.0, "kvar")
        return actions

    def _log_transition(self, now: float, before: State, v_pu: float, f_hz: float) -> None:
        assert self.response is not None
        state = self.response.state
        if state is State.TRIPPED and self.response.tripped_by is not None:
            self._events |= 1 << EVT_GRID_DISCONNECT | 1 << _TRIP_EVENT_BIT[self.response.tripped_by[:2]]
        elif before is State.TRIPPED:
            self._events = 0
        self.world.log("der_ieee1547", device=self.device_id, state=state.value, previous=before.value,
                       tripped_by=self.response.tripped_by or "", v_pu=v_pu, f_hz=f_hz,
                       region=self.response.band.region.value)

    def _set_measurements(self, m: GridMeasurements, index: int, reading: Any, voltage: Any, frequency: float) -> None:
        ders = m.network.ders
        v_ln = self.measured(voltage.v_kv * 1000.0 / SQRT3)
        p_w, q_var = self.measured(reading.p_mw * 1e6), self.measured(reading.q_mvar * 1e6)
        s_va = math.hypot(p_w, q_var)
        current = s_va / (3.0 * v_ln) if v_ln > 1.0 else 0.0
        in_service = bool(ders.in_service[index])
        throttled = math.isfinite(float(ders.p_limit_mw[index]))
        if self.response is not None and self.response.state in (State.TRIPPED, State.CEASED):
            state = "standby"
        elif self.response is not None and self.response.state is State.RAMPING:
            state = "starting"
        elif not in_service or not voltage.energised:
            state = "off"
        else:
            state = "throttled" if throttled else "mppt"
        self._set_measured({
            "inverter.A": current, "inverter.AphA": current, "inverter.AphB": current, "inverter.AphC": current,
            "inverter.PhVphA": v_ln, "inverter.PhVphB": v_ln, "inverter.PhVphC": v_ln,
            "inverter.PPVphAB": v_ln * SQRT3, "inverter.PPVphBC": v_ln * SQRT3, "inverter.PPVphCA": v_ln * SQRT3,
            "inverter.W": p_w, "inverter.VAr": q_var, "inverter.VA": s_va,
            "inverter.PF": 100.0 * (abs(p_w) / s_va if s_va > 0 else 1.0),
            "inverter.Hz": frequency, "inverter.WH": int(self.energy_wh), "inverter.St": SUNSPEC_STATE[state],
            "inverter.Evt1": self._events,
        })

    def _set_measured(self, values: dict[str, Value]) -> None:
        """Store measurements, clipped short of the not-implemented value so a reading is never mistaken for NI."""
        assert self.store is not None
        point = self.store.register_map.point
        self.set_points({name: representable(point(name), value) if isinstance(value, float) else value
                         for name, value in values.items()})

    def next_event_time_s(self) -> float:
        times = [math.inf]
        if self.response is not None:
            times.append(self.response.next_event_time_s())
            if self.response.state is State.RAMPING:
                times.append(self._last_s + self.response.settings.enter_service_ramp_s / RAMP_STEPS)
        if self._q_lag is not None and self._q_target is not None and self._q_commanded is not None:
            deadband = self.volt_var.deadband_pct / 100.0 * self.s_rated_mva
            if abs(self._q_target - self._q_commanded) > deadband:
                times.append(self._last_s + self._response_s / LAG_STEPS)
        return min(times)
