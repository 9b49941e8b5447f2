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

Measured response: the baseline is the premises demand at the event start
(the simplest "meter before/meter after" baseline; Markets code may compute
better ones from meter data); the average is the energy over the event
divided by its duration.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Callable

import simpy

from cosim.comm import MqttMessage
from cosim.grid import GridMeasurements
from devices.field.base import Effects, FieldDevice
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

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.load: str | None = self.config.load  # type: ignore[attr-defined]
        self.inbox: simpy.Store = simpy.Store(self.world.env)
        self.events: dict[int, _Running] = {}
        self.demand_w = 0.0
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

    # -- outside --------------------------------------------------------------------
    def _accept(self, message: EsiMessage) -> None:
        self.inbox.put(message)
        for listener in self._listeners:
            listener(message)

    def _on_price(self, message: MqttMessage) -> None:
        try:
            data = json.loads(message.payload)
            signal = PriceSignal(self.world.now, float(data["price_per_kwh"]), int(data.get("tier", 1)))
            if not math.isfinite(signal.price_per_kwh) or signal.price_per_kwh < 0:
                raise ValueError("price_per_kwh must be a finite number >= 0")
        except (ValueError, KeyError, TypeError) as error:
            self.world.log("esi_bad_message", device=self.device_id, topic=message.topic, reason=str(error))
            return
        self.set_points({"price_per_kwh": signal.price_per_kwh, "price_tier": signal.tier})
        self.world.log("esi_price", device=self.device_id, price_per_kwh=signal.price_per_kwh, tier=signal.tier)
        self._accept(signal)

    def _on_dr(self, message: MqttMessage) -> None:
        now = self.world.now
        try:
            data = json.loads(message.payload)
            event = DrEvent(int(data["event_id"]), float(data.get("start_s", now)), float(data["duration_s"]),
                            float(data.get("reduction_pct", 0.0)), float(data.get("demand_limit_w", 0.0)), now)
            if not (0 <= event.event_id <= 65535 and event.duration_s > 0 and 0 <= event.reduction_pct <= 100):
                raise ValueError("event_id 0..65535, duration_s > 0, reduction_pct 0..100")
        except (ValueError, KeyError, TypeError) as error:
            self.world.log("esi_bad_message", device=self.device_id, topic=message.topic, reason=str(error))
            return
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
        for running in self.events.values():
            start, end = running.event.start_s, running.event.end_s
            overlap_h = max(0.0, min(now, end) - max(now - hours * 3600.0, start)) / 3600.0
            running.energy_wh += self.demand_w * overlap_h
        if self.load is not None:
            reading = m.load(self.load)
            self.demand_w = reading.p_mw * 1e6
        measured = self.measured(self.demand_w)
        active = False
        for event_id, running in list(self.events.items()):
            event = running.event
            if running.baseline_w is None and now >= event.start_s:
                running.baseline_w = measured
            if now >= event.end_s:
                self._finish(now, running)
                del self.events[event_id]
            elif now >= event.start_s:
                active = True
        self.set_points({"premise_demand_w": measured, "dr_event_active": active,
                         "grid_connected": self.load is None or m.load(self.load).served})
        if sample:
            self.world.record(self.entity, "demand", measured / 1000.0, "kW")
        return []

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
