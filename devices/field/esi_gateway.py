from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from cosim.comm import MqttMessage
from cosim.comm.openadr import OadrEvent
from cosim.grid import GridMeasurements, SetLoad
from cosim.markets.messages import EnrolledResource, Enrolment, EsiStatus
from cosim.markets.rules import DrType, ResourceType
from devices.dr_sites_params import EsiEnrolment
from devices.esi_signals import (Call, CallBook, DrMeasured, DrResponse, DrSignal, PriceMessage, SignalError,
                                 served_demand)
from devices.field.base import Effects, FieldDevice
from devices.metering import EnergyRegister
from devices.ven_session import VenSession, call_of, utc_epoch
from devices.registermap import RegisterMap
from devices.registermaps import DeviceKind, standard_map
from devices.site_data import ami_records, committed_kw, history_kwh, history_weekdays, resource_id, segment_of


@dataclasses.dataclass(frozen=True)
class PriceSignal:
    time_s: float
    price_per_kwh: float
    tier: int


@dataclasses.dataclass(frozen=True)
class DrEvent:
    """A demand-response call as the EMS sees it; ``source`` is "mqtt", "modbus" or "openadr"."""

    event_id: int
    start_s: float
    duration_s: float
    reduction_pct: float
    demand_limit_w: float
    time_s: float
    source: str = "mqtt"

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclasses.dataclass
class _Measure:
    """The measured response to one held call (by its key): baseline at its start, energy over its window."""

    start_s: float
    baseline_w: float | None = None
    energy_wh: float = 0.0


@dataclasses.dataclass(frozen=True)
class _Site:
    """The premise as a one-site Load Management resource of its CSP (the enrolment, resolved)."""

    enrolment: EsiEnrolment
    resource: EnrolledResource
    committed_kw: float
    segment: int
    history_kwh: np.ndarray     # (1, days, 24)
    weekdays: np.ndarray


EsiMessage = PriceSignal | DrEvent

_OPTED_OUT = "the premise's EMS opted out of the call (dr_opt_out)"


class EsiGatewayDevice(FieldDevice):
    kind = "esi_gateway"
    samples_periodically = True  # its cumulative energy register advances with time, not only with grid changes

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.load: str | None = self.config.load  # type: ignore[attr-defined]
        self.inbox: simpy.Store = simpy.Store(self.world.env)
        self.book = CallBook()                     # the one ESI model's calls, as a population's site group holds them
        self._measures: dict[str, _Measure] = {}   # call key -> its measured response
        self.demand_w = 0.0
        self.energy = EnergyRegister(1, 3600.0)   # the one meter model (W -> Wh), hourly intervals
        self._natural: tuple[float, float] | None = None   # (W, var) from the premise's demand model
        self._in_force: Call | None = None   # the call the premise curtails for, as of the last step
        self._applied_w: float | None = None
        self._last_s = 0.0
        self._listeners: list[Callable[[EsiMessage], None]] = []
        self.mqtt = self.node_mqtt()
        self.prefix = self.topic_prefix()
        assert self.mqtt is not None
        self.mqtt.subscribe(f"{self.prefix}/price", 1, self._on_price)
        self.mqtt.subscribe(f"{self.prefix}/dr", 1, self._on_dr)
        self.command("dr_event_start", self._modbus_event)
        self.command("dr_opt_out", lambda now, value: self._respond(now, self._current_id(), not value),
                     momentary=False)
        enrolment: EsiEnrolment | None = self.config.params.enrolment  # type: ignore[attr-defined]
        self.site = self._resolve(enrolment) if enrolment is not None else None
        self.curtail = enrolment.curtail if enrolment is not None else 1.0
        self._event_kwh = np.zeros((24, 1))     # the event day's hourly kWh (hour-major, as a population's)
        self._next_status_s = 0.0
        self._read = False
        self.ven: VenSession | None = None      # enrolled over OpenADR: the gateway is its CSP's VEN
        self._oadr: dict[str, OadrEvent] = {}   # call key -> the OpenADR event that set it (to answer a change of mind)
        if self.site is not None and self.site.enrolment.protocol == "openadr":
            self.ven = VenSession(self.world, self.site.enrolment.ven_id or self.device_id,
                                  utc_epoch(self.layer.start_utc_us), self._oadr_event)
        elif self.site is not None:
            self.mqtt.subscribe(f"esi/{self.site.resource.csp}/{self.site.resource.resource_id}", 1, self._on_dr)

    def _resolve(self, enrolment: EsiEnrolment) -> _Site:
        """The premise's resource, committed kW and meter history, by the code a population's sites use."""
        peak = np.array([enrolment.peak_kw])
        segment = segment_of(peak)
        step_s = float(enrolment.step)
        premise = enrolment.premise or self.device_id
        resource = EnrolledResource(
            resource_id(enrolment.csp, enrolment.zone, enrolment.zip, int(enrolment.lead_time), enrolment.emergency),
            enrolment.csp, enrolment.zone, enrolment.zip, int(enrolment.lead_time),
            (DrType.EMERGENCY if enrolment.emergency else DrType.PRE_EMERGENCY).value, ResourceType.ANNUAL.value)
        committed = committed_kw(peak, np.array([enrolment.curtail]), segment, enrolment.commit_factor, step_s)
        history = history_kwh(peak, segment, enrolment, self.world.rng(f"customer/{premise}/history"), step_s)
        return _Site(enrolment, resource, float(committed[0]), int(segment[0]), history, history_weekdays(enrolment))

    def register_map(self) -> RegisterMap:
        return standard_map(DeviceKind.ESI_GATEWAY)

    def start(self) -> None:
        super().start()
        if self.site is not None:   # queued behind the subscriptions, as a population enrols
            assert self.mqtt is not None
            self.mqtt.publish(f"pjm/enrol/{self.site.resource.csp}", Enrolment(
                self.device_id, self.site.resource.csp, (self.site.resource,), np.zeros(1, dtype=np.int64),
                np.zeros(1, dtype=np.int32), np.array([self.site.committed_kw])).encode())
        if self.ven is not None:
            assert self.site is not None and self.site.enrolment.vtn is not None and self.config.node is not None
            if self.layer.comm is None:
                raise ValueError(f"{self.device_id}: an ESI gateway enrolled over OpenADR needs a comm section")
            self.ven.connect(self.layer.comm, self.config.node, self.site.enrolment.vtn)
            self.world.process(self._register_ven())

    def _register_ven(self) -> Generator[Any, Any, None]:
        """Offer the premise's metered power to the VTN once the run starts (in HIL, to the external VTN the
        bench points the VEN at after the devices are built)."""
        yield self.world.timeout(0)
        assert self.ven is not None and self.site is not None
        self.ven.register((self.site.resource.resource_id,))

    # -- the EMS side ---------------------------------------------------------------
    def listen(self, callback: Callable[[EsiMessage], None]) -> None:
        """Call ``callback(message)`` for every accepted price or DR message (at delivery time)."""
        self._listeners.append(callback)

    def respond(self, event_id: int, opt_in: bool) -> None:
        """The EMS opts in to (or out of) event ``event_id``; published on ``<topic>/dr/response``."""
        self.queue(lambda now: self._respond(now, event_id, opt_in))

    def set_premise_demand(self, p_w: float, q_var: float) -> None:
        """The premise's natural demand now (W, var); the gateway applies it at once, less any DR reduction.

        At once, as the appliances draw it (a grid sample at this instant sees
        it); the wake then lets the step re-check the calls at this time.
        """
        self._natural = (p_w, q_var)
        self.act(self._demand_actions(self._in_force))
        self.queue(lambda now: [])

    # -- outside --------------------------------------------------------------------
    def _accept(self, message: EsiMessage) -> None:
        self.inbox.put(message)
        for listener in self._listeners:
            listener(message)

    def _on_price(self, message: MqttMessage) -> None:
        try:
            price = PriceMessage.decode(message.payload)
        except SignalError as error:
            self.world.log("esi_bad_message", device=self.device_id, topic=message.topic, reason=str(error))
            return
        signal = PriceSignal(self.world.now, price.price_per_kwh, price.tier)
        self.set_points({"price_per_kwh": signal.price_per_kwh, "price_tier": signal.tier})
        self.world.log("esi_price", device=self.device_id, price_per_kwh=signal.price_per_kwh, tier=signal.tier)
        self._accept(signal)

    def _on_dr(self, message: MqttMessage) -> None:
        try:
            signal = DrSignal.decode(message.payload)
        except SignalError as error:
            self.world.log("esi_bad_message", device=self.device_id, topic=message.topic, reason=str(error))
            return
        self._receive(signal, self.world.now, "mqtt")

    def _oadr_event(self, event: OadrEvent) -> str:
        """A new version of an OpenADR event from the CSP's VTN: held as the call it makes; the opt-out reason or "".

        The answer is the EMS's answer to the call so far: a call that
        replaces one the EMS opted out of stays opted out; a later answer
        (:meth:`respond`, the ``dr_opt_out`` point) goes to the VTN as
        another oadrCreatedEvent.
        """
        assert self.ven is not None
        signal = call_of(event, self.world.now, self.ven.next_id())
        self._receive(signal, self.world.now, "openadr")
        self._oadr[signal.key] = event
        call = self.book.calls.get(signal.key)
        return _OPTED_OUT if call is not None and call.opt_in is False else ""

    def _modbus_event(self, now: float, _value: object) -> Effects:
        assert self.store is not None
        get = self.store.get
        signal = DrSignal(int(get("dr_event_id")), float(get("dr_duration_min")) * 60.0,  # type: ignore[arg-type]
                          None, float(get("dr_load_reduction_pct")), float(get("demand_limit_w")))  # type: ignore[arg-type]
        self._receive(signal, now, "modbus")
        return []

    def _receive(self, signal: DrSignal, now: float, source: str) -> None:
        """Hold the call ``signal`` makes (the call book decides whether it replaces the one held) and tell the EMS."""
        call = self.book.receive(signal, now)
        if call is None:
            return   # a retransmission of, or older than, the instruction the premise holds
        measure = self._measures.get(call.key)
        if measure is None or measure.start_s != call.start_s:
            self._measures[call.key] = _Measure(call.start_s)
        self.set_points({"dr_event_id": call.event_id, "dr_duration_min": min(signal.duration_s / 60.0, 1440),
                         "dr_load_reduction_pct": call.reduction_pct,
                         "demand_limit_w": min(call.demand_limit_w, 1_000_000)})
        self.world.log("esi_dr_event", device=self.device_id, event_id=call.event_id, label=call.key,
                       start_s=call.start_s, duration_s=signal.duration_s, source=source)
        self._accept(DrEvent(call.event_id, call.start_s, signal.duration_s, call.reduction_pct, call.demand_limit_w,
                             now, source))
        self.queue(lambda now: [])  # wake to time the call

    def _current_id(self) -> int:
        assert self.store is not None
        return int(self.store.get("dr_event_id"))  # type: ignore[arg-type]

    def _respond(self, now: float, event_id: int, opt_in: bool) -> Effects:
        call = self.book.respond(event_id, opt_in)
        if call is None:
            self.world.log("esi_unknown_event", device=self.device_id, event_id=event_id)
            return []
        self.set_points({"dr_opt_out": not opt_in})
        self.world.log("esi_dr_response", device=self.device_id, event_id=event_id, opt_in=opt_in)
        assert self.mqtt is not None
        self.mqtt.publish(f"{self.prefix}/dr/response", DrResponse(self.device_id, event_id, opt_in, now).encode(),
                          qos=self.qos)
        event = self._oadr.get(call.key)
        if self.ven is not None and event is not None:
            self.ven.answer(event, "" if opt_in else _OPTED_OUT)
        return []

    # -- the process ----------------------------------------------------------------
    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        since = self._last_s
        self._last_s = now
        self._meter(now)
        for key, measure in self._measures.items():   # the demand held since the last step, inside each call
            call = self.book.calls.get(key)
            if call is not None:
                overlap_h = max(0.0, min(now, call.end_s) - max(since, call.start_s)) / 3600.0
                measure.energy_wh += self.demand_w * overlap_h
        measured = self.measured(self._read_demand_w(m))
        self.energy.hold(now, self.demand_w)
        for key, call in self.book.calls.items():
            measure = self._measures[key]
            if measure.baseline_w is None and now >= call.start_s:
                measure.baseline_w = measured
        for call in self.book.expire(now):
            self._finish(call, self._measures.pop(call.key))
            self._oadr.pop(call.key, None)
        self._in_force = self.book.in_force(now)
        effects = self._demand_actions(self._in_force)
        self.set_points({"premise_demand_w": measured, "dr_event_active": self._in_force is not None,
                         "premise_energy_import_wh": int(self.import_wh) % (1 << 32),
                         "grid_connected": self.load is None or m.load(self.load).served})
        if sample:
            self.world.record(self.entity, "demand", measured / 1000.0, "kW")
        if self.site is not None:
            self._report(now)
        return effects

    def _meter(self, now: float) -> None:
        """Integrate the premise's import up to ``now``; the closed hours of the first day are the event day's data."""
        self.energy.hold(now)
        for interval in self.energy.take_closed():
            hour = int(interval.start_s // 3600)
            if 0 <= hour < 24:
                self._event_kwh[hour] = interval.import_energy / 1000.0

    def _report(self, now: float) -> None:
        """The enrolled premise's status and interval data to its CSP, as a one-site population sends them."""
        site = self.site
        assert site is not None and self.mqtt is not None
        csp, me = site.resource.csp, self.device_id
        # What the premise can shed is a share of its natural demand: reported once the demand model has given
        # it (at the start the gateway may step before the appliances' first demand of the same instant).
        if now >= self._next_status_s and self._natural is not None:
            curtailing = self._in_force is not None and self._in_force.reduction_pct > 0
            available = 0.0 if curtailing else self._natural[0] / 1000.0 * self.curtail   # nothing more while curtailing
            self.mqtt.publish(f"esi/status/{csp}", EsiStatus(me, csp, float(now), (site.resource.resource_id,),
                                                             np.array([available]),
                                                             np.array([self._drawn_w() / 1000.0])).encode())
            self._next_status_s = now + float(site.enrolment.status_interval)
            if self.ven is not None:   # the same metered kW as OpenADR telemetry while an event is active
                self.ven.measured([(site.resource.resource_id, now, self._drawn_w() / 1000.0)])
        if not self._read and now >= site.enrolment.meter_read_at:
            self._read = True
            if self.energy.interval_index < 24:   # a read inside the day: the open hour so far
                self._event_kwh[self.energy.interval_index] = self.energy.open_import() / 1000.0
            for record in ami_records(me, csp, site.weekdays, (site.enrolment.bus,), np.zeros(1, dtype=np.int64),
                                      site.history_kwh, self._event_kwh, np.array([site.segment]),
                                      np.zeros(1, dtype=np.int64), 1):
                self.mqtt.publish(f"ami/{me}/{csp}", record.encode())

    def _demand_actions(self, call: Call | None) -> list[SetLoad]:
        """The load the premise draws: its natural demand less the reduction of the call in force.

        The EMS sheds the call's share, at most the premise's curtailable
        share: the limit a population's site has.
        """
        if self._natural is None or self.load is None:
            return []
        p_w, q_var = self._natural
        reduction = min(call.reduction_pct, 100.0 * self.curtail) if call is not None else 0.0
        served_w = float(served_demand(p_w, call is not None, reduction, call.demand_limit_w if call else 0.0))
        if served_w == self._applied_w:
            return []
        self._applied_w = served_w
        scale = served_w / p_w if p_w else 1.0
        return [SetLoad(self.load, served_w / 1e6, q_var * scale / 1e6)]

    def _drawn_w(self) -> float:
        """What the premise's meter holds from this instant: the demand this step's action sets, if any
        (a population's meters also hold the demand after the step's curtailment)."""
        return self.demand_w if self._applied_w is None else self._applied_w

    @property
    def import_wh(self) -> float:
        return float(self.energy.import_total[0])

    def _read_demand_w(self, m: GridMeasurements) -> float:
        if self.load is not None:
            self.demand_w = m.load(self.load).p_mw * 1e6
        return self.demand_w

    def next_event_time_s(self) -> float:
        times = [self.book.next_change_s(self.world.now)]
        if self.site is not None:
            if self._natural is not None:
                times.append(self._next_status_s)
            if not self._read:
                times.append(float(self.site.enrolment.meter_read_at))
        return min(times)

    def _finish(self, call: Call, measure: _Measure) -> None:
        duration_s = call.end_s - call.start_s
        average_w = measure.energy_wh * 3600.0 / duration_s if duration_s > 0 else self.demand_w
        baseline_w = measure.baseline_w if measure.baseline_w is not None else average_w
        reduction_w = baseline_w - average_w
        self.world.log("esi_dr_measured", device=self.device_id, event_id=call.event_id, baseline_w=baseline_w,
                       average_w=average_w, reduction_w=reduction_w)
        assert self.mqtt is not None
        self.mqtt.publish(f"{self.prefix}/dr/measured", DrMeasured(
            self.device_id, call.event_id, call.opt_in, round(baseline_w, 1), round(average_w, 1), round(reduction_w, 1),
            round(100.0 * reduction_w / baseline_w, 2) if baseline_w > 0 else 0.0).encode(), qos=self.qos)
