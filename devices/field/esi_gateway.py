"""ESI gateway: the secure boundary of a premises between the utility/aggregator and its EMS.

Outside (MQTT, through the premises' comm node): the gateway subscribes to
``<topic>/price`` and ``<topic>/dr`` (default topic ``esi_gateway/<id>``) and
publishes ``<topic>/dr/response`` (opt-in/opt-out) and, when an event ends,
``<topic>/dr/measured`` (baseline, average demand and reduction measured
from the premises' ``load``). Payloads are JSON::

    price: {"price_per_kwh": 0.31, "tier": 3}
    dr:    {"event_id": 7, "start_s": 64800, "duration_s": 3600, "reduction_pct": 20, "demand_limit_w": 0}

(``start_s`` is simulated time, default: now). A payload that does not parse
is logged (``esi_bad_message``) and dropped; the run goes on.

Inside (the Customer domain's EMS, Python): every accepted message is put on
``gateway.inbox`` (a SimPy Store of :class:`PriceSignal` / :class:`DrEvent`)
and passed to each callback added with ``gateway.listen(fn)``. The EMS answers
an event with ``gateway.respond(event_id, opt_in)``. Modbus mirrors the same
view (price, tier, event registers) and lets a local master start an event
(``dr_event_start``) or opt out (``dr_opt_out``).

Load control: when the premise's demand model hands the gateway its natural
demand (``gateway.set_premise_demand(p_w, q_var)``), the gateway is the
premise's load controller. It applies that demand to the premise's ``load``
and, while an event runs that the EMS has not opted out of, sheds
``reduction_pct`` % of it (and holds it under ``demand_limit_w`` if set), the
rule of :func:`devices.esi_signals.served_demand` that the array-backed
population shares. Without a demand model the gateway only measures.

Measured response: the baseline is the premises demand at the event start
(the simplest "meter before/meter after" baseline; Markets code may compute
better ones from meter data); the average is the energy over the event
divided by its duration. ``premise_energy_import_wh`` integrates the
premise's import exactly between wakes (power holds between grid changes)
and rolls over at 2^32 Wh like a meter's register. ``dr_event_active`` is 1
only while an event runs that the premise takes part in (an opt-out clears
it). ``price_tier`` reads 1, the lowest tier, until the first price signal.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import simpy

from cosim.comm import MqttMessage
from cosim.grid import GridMeasurements, SetLoad
from devices.field.base import Effects, FieldDevice
from devices.esi_signals import DrSignal, PriceMessage, SignalError, served_demand
from devices.metering import EnergyRegister
from devices.registermap import RegisterMap
from devices.registermaps import DeviceKind, standard_map


@dataclasses.dataclass(frozen=True)
class PriceSignal:
    time_s: float
    price_per_kwh: float
    tier: int


@dataclasses.dataclass(frozen=True)
class DrEvent:
    """A demand-response event as the EMS sees it; ``source`` is "mqtt" or "modbus"."""

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
class _Running:
    event: DrEvent
    opt_in: bool | None = None
    baseline_w: float | None = None
    energy_wh: float = 0.0


EsiMessage = PriceSignal | DrEvent


class EsiGatewayDevice(FieldDevice):
    kind = "esi_gateway"
    samples_periodically = True  # its cumulative energy register advances with time, not only with grid changes

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.load: str | None = self.config.load  # type: ignore[attr-defined]
        self.inbox: simpy.Store = simpy.Store(self.world.env)
        self.events: dict[int, _Running] = {}
        self.demand_w = 0.0
        self.energy = EnergyRegister(1, 3600.0)   # the one meter model (W -> Wh)
        self._natural: tuple[float, float] | None = None   # (W, var) from the premise's demand model
        self._taking_part: _Running | None = None   # the event the premise curtails for, as of the last step
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

    def register_map(self) -> RegisterMap:
        return standard_map(DeviceKind.ESI_GATEWAY)

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
        it); the wake then lets the step re-check the DR events at this time.
        """
        self._natural = (p_w, q_var)
        self.act(self._demand_actions(self._taking_part))
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
        now = self.world.now
        try:
            signal = DrSignal.decode(message.payload)
        except SignalError as error:
            self.world.log("esi_bad_message", device=self.device_id, topic=message.topic, reason=str(error))
            return
        start_s, _ = signal.window(now)
        event = DrEvent(signal.event_id, start_s, signal.duration_s, signal.reduction_pct, signal.demand_limit_w, now)
        if message.dup and event.event_id in self.events:
            return  # a QoS 1 retransmission of an event we already hold
        self._start(event)

    def _modbus_event(self, now: float, _value: object) -> Effects:
        assert self.store is not None
        get = self.store.get
        self._start(DrEvent(int(get("dr_event_id")), now, float(get("dr_duration_min")) * 60.0,  # type: ignore[arg-type]
                            float(get("dr_load_reduction_pct")), float(get("demand_limit_w")), now, "modbus"))  # type: ignore[arg-type]
        return []

    def _start(self, event: DrEvent) -> None:
        self.events[event.event_id] = _Running(event)
        self.set_points({"dr_event_id": event.event_id, "dr_duration_min": min(event.duration_s / 60.0, 1440),
                         "dr_load_reduction_pct": event.reduction_pct,
                         "demand_limit_w": min(event.demand_limit_w, 1_000_000)})
        self.world.log("esi_dr_event", device=self.device_id, event_id=event.event_id, start_s=event.start_s,
                       duration_s=event.duration_s, source=event.source)
        self._accept(event)
        self.queue(lambda now: [])  # wake to time the event

    def _current_id(self) -> int:
        assert self.store is not None
        return int(self.store.get("dr_event_id"))  # type: ignore[arg-type]

    def _respond(self, now: float, event_id: int, opt_in: bool) -> Effects:
        running = self.events.get(event_id)
        if running is None:
            self.world.log("esi_unknown_event", device=self.device_id, event_id=event_id)
            return []
        running.opt_in = opt_in
        self.set_points({"dr_opt_out": not opt_in})
        self.world.log("esi_dr_response", device=self.device_id, event_id=event_id, opt_in=opt_in)
        assert self.mqtt is not None
        self.mqtt.publish(f"{self.prefix}/dr/response",
                          {"esi": self.device_id, "event_id": event_id, "opt_in": opt_in, "time_s": now}, qos=self.qos)
        return []

    # -- the process ----------------------------------------------------------------
    def step(self, now: float, m: GridMeasurements, sample: bool) -> Effects:
        hours = (now - self._last_s) / 3600.0
        self._last_s = now
        self.energy.hold(now)
        self.energy.take_closed()
        for running in self.events.values():
            start, end = running.event.start_s, running.event.end_s
            overlap_h = max(0.0, min(now, end) - max(now - hours * 3600.0, start)) / 3600.0
            running.energy_wh += self.demand_w * overlap_h
        measured = self.measured(self._read_demand_w(m))
        self.energy.hold(now, self.demand_w)
        taking_part: _Running | None = None
        for event_id, running in list(self.events.items()):
            event = running.event
            if running.baseline_w is None and now >= event.start_s:
                running.baseline_w = measured
            if now >= event.end_s:
                self._finish(now, running)
                del self.events[event_id]
            elif now >= event.start_s and running.opt_in is not False:
                taking_part = running
        self._taking_part = taking_part
        effects = self._demand_actions(taking_part)
        self.set_points({"premise_demand_w": measured, "dr_event_active": taking_part is not None,
                         "premise_energy_import_wh": int(self.import_wh) % (1 << 32),
                         "grid_connected": self.load is None or m.load(self.load).served})
        if sample:
            self.world.record(self.entity, "demand", measured / 1000.0, "kW")
        return effects

    def _demand_actions(self, taking_part: _Running | None) -> list[SetLoad]:
        """The load the premise draws: its natural demand less the reduction of the event it takes part in."""
        if self._natural is None or self.load is None:
            return []
        p_w, q_var = self._natural
        current = taking_part.event if taking_part is not None else None
        served_w = float(served_demand(p_w, current is not None, current.reduction_pct if current else 0.0,
                                       current.demand_limit_w if current else 0.0))
        if served_w == self._applied_w:
            return []
        self._applied_w = served_w
        scale = served_w / p_w if p_w else 1.0
        return [SetLoad(self.load, served_w / 1e6, q_var * scale / 1e6)]

    @property
    def import_wh(self) -> float:
        return float(self.energy.import_total[0])

    def _read_demand_w(self, m: GridMeasurements) -> float:
        if self.load is not None:
            self.demand_w = m.load(self.load).p_mw * 1e6
        return self.demand_w

    def next_event_time_s(self) -> float:
        times = [t for r in self.events.values() for t in (r.event.start_s, r.event.end_s) if t > self.world.now]
        return min(times, default=math.inf)

    def _finish(self, now: float, running: _Running) -> None:
        event = running.event
        average_w = running.energy_wh * 3600.0 / event.duration_s
        baseline_w = running.baseline_w if running.baseline_w is not None else average_w
        reduction_w = baseline_w - average_w
        self.world.log("esi_dr_measured", device=self.device_id, event_id=event.event_id, baseline_w=baseline_w,
                       average_w=average_w, reduction_w=reduction_w)
        assert self.mqtt is not None
        self.mqtt.publish(f"{self.prefix}/dr/measured", {
            "esi": self.device_id, "event_id": event.event_id, "opt_in": running.opt_in,
            "baseline_w": round(baseline_w, 1), "average_w": round(average_w, 1), "reduction_w": round(reduction_w, 1),
            "reduction_pct": round(100.0 * reduction_w / baseline_w, 2) if baseline_w > 0 else 0.0,
        }, qos=self.qos)
