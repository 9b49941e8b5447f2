"""The OpenADR 2.0b side of a VEN, one per VEN: registration, events in, answers and telemetry out.

Both VENs of the project talk through it, so they speak the same 2.0b: the
``openadr_ven`` of a DR site population's node
(:mod:`devices.protocols.openadr_ven`), whose resources are the
population's site groups, and an enrolled ``esi_gateway``
(:mod:`devices.field.esi_gateway`), whose one resource is its premise. What
differs is only what the VEN does with an event -- the ``act`` callback
given here: a population's VEN hands the sites a DR signal, a gateway holds
the call in its own call book -- and where its metered kW comes from.

Push model with the CSP's VTN (:mod:`cosim.domains.openadr_vtn`): the VEN
serves ``<ven_id>/EiEvent`` on its node, POSTs ``oadrRegisterReport`` (a
TELEMETRY_USAGE report of real power, kW, per resource) to the VTN's
``EiReport``, answers each new or modified event with ``oadrCreatedEvent``
(optIn, or optOut with the reason) and, while an event of a resource is
active, sends that resource's metered kW as ``oadrUpdateReport``. In HIL an
external VTN may replace the simulated one (:meth:`use_external_vtn`): then
openleadr's client registers, polls and reports, and hands each event to
:meth:`take`, the method the simulated path uses.

It lives beside :mod:`devices.esi_signals` (the MQTT call channel), not among
the point-map protocol plug-ins of :mod:`devices.protocols`: OpenADR carries
DR calls and telemetry, chosen by the enrolment, not a view of a device's
points chosen under ``protocols:``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Generator, Iterable
from typing import Any, Protocol

from cosim.comm.openadr import EventStatus, OadrEvent, OpenAdrEndpoint, OpenAdrError, decode, encode, text
from cosim.kernel import World
from devices.esi_signals import MAX_EVENT_ID, DrSignal

# powerAttributes of the metered real power (EMIX power, OpenADR 2.0b 9.2): a North American service
POWER_ATTRIBUTES = {"hertz": 60, "voltage": 240, "ac": True}
METERED_POWER = {"name": "powerReal", "description": "RealPower", "unit": "W", "scale": "k",
                 "power_attributes": POWER_ATTRIBUTES}
TELEMETRY = "TELEMETRY_USAGE"


class ExternalVtn(Protocol):
    """A VTN outside the simulation (HIL: :class:`cosim.hil.openadr_ven_http.ExternalVtnLink`)."""

    def register(self, resources: tuple[str, ...]) -> None:
        """Offer a metered-power report per resource (called in the SimPy thread when the resources are known)."""


Act = Callable[[OadrEvent], str]
"""What a VEN does with a new version of an event: the reason to opt out, or "" (opted in)."""


def utc_epoch(start_utc_us: int) -> datetime.datetime:
    """The UTC instant of simulated time 0 (the run's ``start_utc``): simulated ``t`` is ``epoch + t`` on the wire."""
    return datetime.datetime.fromtimestamp(0, datetime.timezone.utc) + datetime.timedelta(microseconds=start_utc_us)


def call_of(event: OadrEvent, now_s: float, signal_id: int) -> DrSignal:
    """The ESI's DR signal an event makes: its window and reduction; a cancelled event releases the call from now.

    The label is the issuer's name for the call, so the cancellation replaces
    (releases) the call its event made.
    """
    if event.status is EventStatus.CANCELLED:
        return DrSignal(signal_id, max(event.end_s - now_s, 1.0), now_s, 0.0, label=event.label)
    return DrSignal(signal_id, event.end_s - event.start_s, event.start_s, event.reduction_pct, label=event.label)


class VenSession:
    """One VEN's OpenADR exchanges with its VTN (comm node ``vtn``) from comm node ``node``."""

    def __init__(self, world: World, ven_id: str, epoch: datetime.datetime, act: Act) -> None:
        self.world, self.ven_id, self.epoch, self.act = world, ven_id, epoch, act
        self.events: dict[str, OadrEvent] = {}        # event id -> latest version received
        self.metered: dict[str, tuple[float, float]] = {}   # resource -> (time s, metered kW) last measured
        self.external: ExternalVtn | None = None      # HIL: the bench's external VTN replaces the simulated one
        self.resources: tuple[str, ...] = ()
        self._requests = 0

    def connect(self, network: Any, node: str, vtn: str) -> None:
        """Serve this VEN's push address on ``node`` and address the VTN on comm node ``vtn``."""
        self.vtn = vtn
        self.endpoint = OpenAdrEndpoint.of(network, node)
        self.endpoint.serve(f"{self.ven_id}/EiEvent", self._ei_event)

    def use_external_vtn(self, link: ExternalVtn) -> None:
        """Talk to ``link``'s VTN instead of the simulated one (before the run starts)."""
        self.external = link

    def next_id(self) -> int:
        """A request id's counter, also the event id of the DR signals this VEN makes (16 bits, wrapping)."""
        self._requests += 1
        return self._requests % (MAX_EVENT_ID + 1)

    def _request_id(self) -> str:
        return f"{self.ven_id}-{self.next_id()}"

    def _utc(self, t_s: float) -> datetime.datetime:
        return self.epoch + datetime.timedelta(microseconds=round(t_s * 1e6))

    def _post(self, service: str, body: bytes) -> Generator[Any, Any, None]:
        answer = yield from self.endpoint.post(self.vtn, service, body)
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

    # -- to the VTN ------------------------------------------------------------------------
    def register(self, resources: tuple[str, ...]) -> None:
        """Offer each resource's metered power (oadrRegisterReport): the VTN routes its events here from then on."""
        self.resources = resources
        if self.external is not None:
            self.external.register(resources)
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
                                          for rid in resources]}
        body = encode("oadrRegisterReport", request_id=self._request_id(), ven_id=self.ven_id, reports=[report])
        self.world.process(self._post("EiReport", body))

    def measured(self, readings: Iterable[tuple[str, float, float]]) -> None:
        """(resource, time s, metered kW) just measured; sent as oadrUpdateReport for the resources in an active event.

        With an external VTN openleadr's client reports on the schedule its VTN
        asked for, from :attr:`metered`.
        """
        self.metered.update((rid, (t_s, kw)) for rid, t_s, kw in readings)
        if self.external is not None:
            return
        now = self.world.now
        active = sorted({rid for rid in self.metered if self.running(rid, now)})
        if not active:
            return
        intervals = [{"dtstart": self._utc(now), "duration": datetime.timedelta(0),
                      "report_payload": {"r_id": rid, "value": self.metered[rid][1]}} for rid in active]
        body = encode("oadrUpdateReport", request_id=self._request_id(), ven_id=self.ven_id, reports=[{
            "report_request_id": "0", "report_specifier_id": TELEMETRY, "report_id": f"{self.ven_id}-usage",
            "report_name": TELEMETRY, "created_date_time": self._utc(now), "intervals": intervals}])
        self.world.process(self._post("EiReport", body))

    def running(self, resource_id: str, now_s: float) -> bool:
        """An event of ``resource_id`` (not cancelled) holds ``now_s``."""
        return any(e.resource_id == resource_id and e.status is not EventStatus.CANCELLED and e.start_s <= now_s < e.end_s
                   for e in self.events.values())

    def answer(self, event: OadrEvent, reason: str, request_id: str | None = None) -> None:
        """Send the VEN's opt for one event on its own (oadrCreatedEvent): a change of mind after the first answer."""
        if reason:
            self.refuse(event.event_id, reason)
        if self.external is not None:
            return   # openleadr's client answers an external VTN only when it delivers the event
        self._created(request_id, [self._response(event, reason, request_id)])

    @staticmethod
    def _response(event: OadrEvent, reason: str, request_id: str | None) -> dict[str, Any]:
        return {"response_code": 200, "response_description": text(reason) if reason else "OK",
                "request_id": request_id, "event_id": event.event_id, "modification_number": event.modification,
                "opt_type": "optOut" if reason else "optIn"}

    def _created(self, request_id: str | None, responses: list[dict[str, Any]]) -> None:
        self.world.process(self._post("EiEvent", encode(
            "oadrCreatedEvent", response={"response_code": 200, "response_description": "OK", "request_id": request_id},
            event_responses=responses, ven_id=self.ven_id)))

    # -- from the VTN ----------------------------------------------------------------------
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
            if reason is not None:
                responses.append(self._response(event, reason, request_id))
        if responses:
            self._created(request_id, responses)
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
        reason = self.act(event)
        if reason:
            self.refuse(event.event_id, reason)
        if event.status is EventStatus.CANCELLED:
            self.events.pop(event.event_id, None)
        else:
            self.events[event.event_id] = event
        return reason

    def refuse(self, event_id: str, reason: str) -> None:
        """An event this VEN does not take part in: logged as an opt-out with the reason."""
        self.world.log("openadr_opt_out", ven=self.ven_id, event_id=event_id, reason=reason)
