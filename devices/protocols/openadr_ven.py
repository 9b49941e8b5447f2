"""OpenADR 2.0b VEN of a DR site population's node: a CSP's events become the ESIs' DR signals.

``kind: openadr_ven`` sits on the comm node of the ``dr_site_population``
whose site groups it serves (any device there subscribed to
``esi/<csp>/<resource>`` gets the calls; an individual ``esi_gateway``, which
listens on its own ``<topic>/dr``, is not served yet) and
talks OpenADR 2.0b with its CSP's VTN (:mod:`cosim.domains.openadr_vtn`) in
the push model: the VTN POSTs ``oadrDistributeEvent`` to this VEN's
``EiEvent`` service. Served in HIL, the bench may point it at an external VTN
instead (``hil.openadr_vens``, :mod:`cosim.hil.openadr_ven_http`): then
openleadr's VEN client registers and polls over real HTTP and hands each event
to :meth:`OpenAdrVen.take`, the same method the simulated path uses.

* At start it learns its site groups from the population's enrolment with
  the CSP (``pjm/enrol/<csp>``, MQTT, filtered on ``population``) and POSTs an
  ``oadrRegisterReport`` naming each group as a resource (a TELEMETRY_USAGE
  report of real power, kW); the VTN routes that resource's events here from
  then on.
* Each new or modified event becomes exactly the :class:`DrSignal` an MQTT
  CSP would have published, handed to the node's subscribers of
  ``esi/<csp>/<resource>`` through :meth:`NodeMqtt.deliver` -- the same
  handler the MQTT subscription calls -- so the curtailment is the same
  whichever protocol carried the call. A cancelled event is a release
  (``reduction_pct`` 0 under the same label).
* It answers with ``oadrCreatedEvent``: optIn, or optOut with the reason
  when the group cannot curtail (no curtailable kW in its last ESI status and
  no other call running there), no ESI on this node takes the resource's
  signals, or the event carries a signal it cannot act on; the reason is
  logged (``openadr_opt_out``).
* While an event is active it sends, from each ESI status
  (``esi/status/<csp>``), the group's metered kW -- what the sites' interval
  meters measure, after any curtailment -- as an ``oadrUpdateReport``.
"""

from __future__ import annotations

import datetime
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Protocol

from cosim.comm import MqttMessage
from cosim.comm.openadr import EventStatus, OadrEvent, OpenAdrEndpoint, OpenAdrError, decode, encode, text
from cosim.markets.messages import Enrolment, EsiStatus
from cosim.markets.wire import PayloadError
from devices.esi_signals import MAX_EVENT_ID, DrSignal

if TYPE_CHECKING:
    from devices.config import OpenAdrVenConfig, OpenAdrVenParams
    from devices.field.base import DeviceLayer

# powerAttributes of the metered real power (EMIX power, OpenADR 2.0b 9.2): a North American service
POWER_ATTRIBUTES = {"hertz": 60, "voltage": 240, "ac": True}
METERED_POWER = {"name": "powerReal", "description": "RealPower", "unit": "W", "scale": "k",
                 "power_attributes": POWER_ATTRIBUTES}
TELEMETRY = "TELEMETRY_USAGE"


class ExternalVtn(Protocol):
    """A VTN outside the simulation (HIL: :class:`cosim.hil.openadr_ven_http.ExternalVtnLink`)."""

    def register(self, resources: tuple[str, ...]) -> None:
        """Offer a metered-power report per resource (called in the SimPy thread when the enrolment arrives)."""


class OpenAdrVen:
    """The device: registers its resources, turns events into DR signals, answers and reports."""

    kind = "openadr_ven"

    def __init__(self, layer: "DeviceLayer", config: "OpenAdrVenConfig") -> None:
        self.layer, self.world, self.config = layer, layer.world, config
        self.device_id = config.id
        self.entity = f"device/{config.id}"
        self.store = None
        self.params: OpenAdrVenParams = config.params
        self.ven_id = self.params.ven_id or config.id
        self.epoch = datetime.datetime.fromtimestamp(0, datetime.timezone.utc) + datetime.timedelta(
            microseconds=layer.start_utc_us)
        self.events: dict[str, OadrEvent] = {}        # event id -> latest version received
        self.available_kw: dict[str, float] = {}      # resource -> curtailable kW in the last ESI status
        self.metered: dict[str, tuple[float, float]] = {}   # resource -> (time s, metered kW) of the last ESI status
        self.external: ExternalVtn | None = None      # HIL: the bench's external VTN replaces params.vtn
        self.resources: tuple[str, ...] = ()
        self._requests = 0

    def start(self) -> None:
        assert self.config.node is not None
        p = self.params
        if p.protocol != "openadr":
            return   # the programme notifies over MQTT: an installed VEN that is not used sends and hears nothing
        self.mqtt = self.layer.mqtt(self.config.node, p.broker)
        if self.layer.comm is None:
            raise ValueError(f"{self.device_id}: an openadr_ven needs a comm section")
        self.endpoint = OpenAdrEndpoint.of(self.layer.comm, self.config.node)
        self.endpoint.serve(f"{self.ven_id}/EiEvent", self._ei_event)   # this VEN's push address on the node
        self.mqtt.subscribe(f"pjm/enrol/{p.csp}", 1, self._on_enrol)
        self.mqtt.subscribe(f"esi/status/{p.csp}", 1, self._on_status)

    def use_external_vtn(self, link: ExternalVtn) -> None:
        """Talk to ``link``'s VTN instead of the simulated one at ``params.vtn`` (before the run starts)."""
        self.external = link

    def _request_id(self) -> str:
        self._requests += 1
        return f"{self.ven_id}-{self._requests}"

    def _post(self, service: str, body: bytes) -> Generator[Any, Any, None]:
        answer = yield from self.endpoint.post(self.params.vtn, service, body)
        if answer is None:
            self.world.log("openadr_no_answer", ven=self.ven_id, service=service)
            return
        try:
            message_type, payload = decode(answer)
        except OpenAdrError as error:
            self.world.log("openadr_bad_answer", ven=self.ven_id, service=service, error=str(error))
            return
        code = int(payload.get("response", {}).get("response_code", 0))
        if code != 200:
            self.world.log("openadr_refused", ven=self.ven_id, service=service, message=message_type, code=code)

    # -- MQTT side -------------------------------------------------------------------------
    def _on_enrol(self, message: MqttMessage) -> None:
        try:
            enrolment = Enrolment.decode(message.payload)
        except PayloadError as error:
            self.world.log("dr_bad_payload", client=self.device_id, topic=message.topic, error=str(error))
            return
        if enrolment.population != self.params.population:
            return
        self.resources = tuple(r.resource_id for r in enrolment.resources)
        if self.external is not None:
            self.external.register(self.resources)
            return
        report = {"report_specifier_id": TELEMETRY, "report_request_id": "0", "report_id": self.ven_id,
                  "report_name": TELEMETRY, "created_date_time": self._utc(self.world.now),
                  "duration": datetime.timedelta(hours=1),
                  "report_descriptions": [{"r_id": rid, "report_data_source": {"resource_id": rid},
                                           "report_type": "usage", "reading_type": "Direct Read",
                                           "measurement": METERED_POWER,
                                           "sampling_rate": {"min_period": datetime.timedelta(seconds=60),
                                                             "max_period": datetime.timedelta(hours=1),
                                                             "on_change": True}}
                                          for rid in self.resources]}
        body = encode("oadrRegisterReport", request_id=self._request_id(), ven_id=self.ven_id, reports=[report])
        self.world.process(self._post("EiReport", body))

    def _on_status(self, message: MqttMessage) -> None:
        try:
            status = EsiStatus.decode(message.payload)
        except PayloadError as error:
            self.world.log("dr_bad_payload", client=self.device_id, topic=message.topic, error=str(error))
            return
        if status.population != self.params.population:
            return
        self.available_kw.update(zip(status.resources, (float(kw) for kw in status.available_kw.tolist())))
        self.metered.update((rid, (status.time_s, float(kw))) for rid, kw in zip(status.resources,
                                                                                  status.metered_kw.tolist()))
        if self.external is not None:
            return   # openleadr's client reports on the schedule its VTN asked for (ExternalVtnLink)
        now = self.world.now
        active = sorted({e.resource_id for e in self.events.values()
                         if e.status is not EventStatus.CANCELLED and e.start_s <= now < e.end_s} & self.metered.keys())
        if not active:
            return
        intervals = [{"dtstart": self._utc(now), "duration": datetime.timedelta(0),
                      "report_payload": {"r_id": rid, "value": self.metered[rid][1]}} for rid in active]
        body = encode("oadrUpdateReport", request_id=self._request_id(), ven_id=self.ven_id, reports=[{
            "report_request_id": "0", "report_specifier_id": TELEMETRY, "report_id": f"{self.ven_id}-usage",
            "report_name": TELEMETRY, "created_date_time": self._utc(now), "intervals": intervals}])
        self.world.process(self._post("EiReport", body))

    def _utc(self, t_s: float) -> datetime.datetime:
        return self.epoch + datetime.timedelta(microseconds=round(t_s * 1e6))

    # -- OpenADR side ----------------------------------------------------------------------
    def _ei_event(self, src: str, body: bytes) -> bytes:
        """An oadrDistributeEvent from the VTN: act on new versions, answer with oadrCreatedEvent."""
        try:
            message_type, payload = decode(body)
            if message_type != "oadrDistributeEvent":
                raise OpenAdrError(f"{message_type} on EiEvent")
            events = [OadrEvent.from_openleadr(e, self.epoch) for e in payload.get("events", [])]
        except OpenAdrError as error:
            self.world.log("openadr_bad_message", ven=self.ven_id, error=str(error))
            return encode("oadrResponse", response={"response_code": 452, "response_description": text(str(error)),
                                                    "request_id": None}, ven_id=self.ven_id)
        request_id = payload.get("request_id")
        responses = []
        for event in events:
            reason = self.take(event)
            if reason is None:
                continue
            responses.append({"response_code": 200, "response_description": text(reason) if reason else "OK",
                              "request_id": request_id, "event_id": event.event_id,
                              "modification_number": event.modification, "opt_type": "optOut" if reason else "optIn"})
        if responses:
            self.world.process(self._post("EiEvent", encode(
                "oadrCreatedEvent", response={"response_code": 200, "response_description": "OK",
                                              "request_id": request_id},
                event_responses=responses, ven_id=self.ven_id)))
        return encode("oadrResponse", response={"response_code": 200, "response_description": "OK",
                                                "request_id": request_id}, ven_id=self.ven_id)

    def take(self, event: OadrEvent) -> str | None:
        """One event as the VTN sent it (SimPy thread): act on a new version; the opt-out reason, "" to opt in.

        None when there is nothing to answer: a completed event, or a status
        change (far, near, active) of a version already acted on.
        """
        known = self.events.get(event.event_id)
        if known is None or known.status is not event.status:
            self.world.log("openadr_event_status", ven=self.ven_id, event_id=event.event_id,
                           modification=event.modification, status=event.status.value)
        if event.status is EventStatus.COMPLETED:
            self.events.pop(event.event_id, None)   # over: nothing to act on or answer
            return None
        if known is not None and known.modification == event.modification:
            self.events[event.event_id] = event
            return None
        reason = self._act(event)
        if event.status is EventStatus.CANCELLED:
            self.events.pop(event.event_id, None)
        else:
            self.events[event.event_id] = event
        return reason

    def refuse(self, event_id: str, reason: str) -> None:
        """An event this VEN cannot act on (a signal it does not take): logged as an opt-out with the reason."""
        self.world.log("openadr_opt_out", ven=self.ven_id, event_id=event_id, reason=reason)

    def _act(self, event: OadrEvent) -> str:
        """Hand the event to the ESIs as a DR signal; the reason to opt out, or "" (opted in).

        A group cannot curtail when its last ESI status offered no curtailable
        kW while none of its events ran (a running event of its own explains
        the 0 kW: its sites are curtailing already).
        """
        topic = f"esi/{self.params.csp}/{event.resource_id}"
        cancelled = event.status is EventStatus.CANCELLED
        now = self.world.now
        if not cancelled and self.available_kw.get(event.resource_id, 1.0) <= 0 and not any(
                e.resource_id == event.resource_id and e.start_s <= now < e.end_s for e in self.events.values()):
            reason = f"site group {event.resource_id} has no curtailable load now (0 kW in its last ESI status)"
        else:
            start = event.start_s
            signal = DrSignal(self._signal_id(), (event.end_s - start) if not cancelled else max(event.end_s - now, 1.0),
                              start if not cancelled else now, 0.0 if cancelled else event.reduction_pct,
                              label=event.label)
            reason = "" if self.mqtt.deliver(topic, signal.encode()) else f"no ESI on node {self.config.node} takes {topic}"
        if reason:
            self.world.log("openadr_opt_out", ven=self.ven_id, event_id=event.event_id, reason=reason)
        return reason

    def _signal_id(self) -> int:
        self._requests += 1
        return self._requests % (MAX_EVENT_ID + 1)

