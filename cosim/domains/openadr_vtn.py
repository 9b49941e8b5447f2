"""The CSP's OpenADR 2.0b VTN in simulated time: its calls to site groups as events pushed to their VENs.

Used by the Service Provider's ``csp`` when its params say ``protocol:
openadr`` (MQTT stays the default). Push model (OpenADR 2.0b profile 8.2,
"push"): the VTN POSTs ``oadrDistributeEvent`` to a VEN's ``EiEvent`` service
when one of its events is created, modified, cancelled or changes status
(far, near, active, completed), so the cost follows the events rather than a
poll period; the VEN answers each new or modified event with an
``oadrCreatedEvent`` (optIn/optOut, a reason in its description) POSTed to the
VTN's ``EiEvent``, answered with ``oadrResponse``.

Pull-model VENs (openleadr's ``OpenADRClient``, over real HTTP in HIL through
:mod:`cosim.hil.openadr_http`) register first (``oadrQueryRegistration``,
``oadrCreatePartyRegistration`` on ``EiRegisterParty``) and then poll
(``oadrPoll`` on ``OadrPoll``): a change to their events waits for their next
poll, which is answered with the ``oadrDistributeEvent``; ``oadrRequestEvent``
gets their current list.

The VTN learns which VEN serves which site group (resource) from the VEN's
``oadrRegisterReport`` (its report descriptions name each resource as a data
source), POSTed to ``EiReport`` at the VEN's start and answered with
``oadrRegisteredReport``. A call for a resource no VEN has registered is
logged (``openadr_no_ven``) and not sent.

Only messages through comm: nothing here reads the grid or a device.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Generator

from ..comm.openadr import (EventStatus, OadrEvent, OpenAdrEndpoint, OpenAdrError, Service, decode, encode, status_at,
                            text)
from ..kernel import World
from ..kernel.clock import delay_until


_FINAL = (EventStatus.COMPLETED, EventStatus.CANCELLED)


@dataclasses.dataclass
class _Ven:
    ven_id: str
    node: str
    events: dict[str, OadrEvent] = dataclasses.field(default_factory=dict)   # event id -> latest version
    pull: bool = False        # registered for the pull model: its events wait for its oadrPoll
    pending: bool = False     # (pull) a change it has not polled yet


class OpenAdrVtn:
    """The VTN of one CSP on its comm node; :meth:`call` is how the CSP notifies a resource's sites."""

    def __init__(self, world: World, network: Any, node: str, vtn_id: str, *, epoch: datetime.datetime,
                 market_context: str, near_s: float, poll_s: float = 10.0) -> None:
        self.world, self.vtn_id, self.epoch = world, vtn_id, epoch
        self.poll_s = poll_s   # the poll period asked of pull-model VENs at registration
        self.market_context, self.near_s = market_context, near_s
        self.endpoint = OpenAdrEndpoint.of(network, node)
        for service, handler in (("EiEvent", self._ei_event), ("EiReport", self._ei_report),
                                 ("EiRegisterParty", self._ei_register_party), ("OadrPoll", self._oadr_poll)):
            self.endpoint.serve(service, self._guarded(handler))
        self.vens: dict[str, _Ven] = {}           # ven id -> VEN
        self.serving: dict[str, str] = {}         # resource id -> ven id
        self._requests = 0

    def _request_id(self) -> str:
        self._requests += 1
        return f"{self.vtn_id}-{self._requests}"

    # -- the CSP side ------------------------------------------------------------------
    def call(self, resource_id: str, label: str, start_s: float, end_s: float, reduction_pct: float) -> None:
        """Create or change the event ``label`` for ``resource_id``; ``reduction_pct`` 0 cancels it."""
        ven = self.vens.get(self.serving.get(resource_id, ""))
        if ven is None:
            self.world.log("openadr_no_ven", vtn=self.vtn_id, resource=resource_id, label=label)
            return
        now = self.world.now
        event_id = f"{label}:{resource_id}"
        previous = ven.events.get(event_id)
        if reduction_pct <= 0:
            if previous is None:
                return
            event = dataclasses.replace(previous, modification=previous.modification + 1,
                                        status=EventStatus.CANCELLED)
        else:
            event = OadrEvent(label, resource_id, 0 if previous is None else previous.modification + 1,
                              status_at(now, start_s, end_s, self.near_s), start_s, end_s, reduction_pct, now)
        ven.events[event_id] = event
        self.world.process(self._distribute(ven))
        if event.status is not EventStatus.CANCELLED:
            self.world.process(self._follow(ven, event))

    def _follow(self, ven: _Ven, event: OadrEvent) -> Generator[Any, Any, None]:
        """Push the event again as its status changes (near, active, completed) while it is the current version."""
        for at_s in (event.start_s - self.near_s, event.start_s, event.end_s):
            if at_s <= self.world.now:
                continue
            yield self.world.timeout(delay_until(self.world.now, at_s))
            current = ven.events.get(event.event_id)
            if current is None or current.modification != event.modification:
                return   # modified or cancelled since: that version follows itself
            ven.events[event.event_id] = dataclasses.replace(
                current, status=status_at(self.world.now, current.start_s, current.end_s, self.near_s))
            yield from self._distribute(ven)

    def _distribute_body(self, ven: _Ven) -> bytes:
        """oadrDistributeEvent with all the VEN's current events (2.0b: the full list, each time)."""
        events = [e.to_openleadr(self.epoch, self.market_context) for e in ven.events.values()]
        for event_id in [k for k, e in ven.events.items() if e.status in _FINAL]:
            del ven.events[event_id]   # sent once as completed or cancelled; a later call with the label is a new event
        ven.pending = False
        return encode("oadrDistributeEvent", request_id=self._request_id(), vtn_id=self.vtn_id, events=events)

    def _distribute(self, ven: _Ven) -> Generator[Any, Any, None]:
        """Push the VEN's events to it, or (pull model) hold them for its next poll."""
        if ven.pull:
            ven.pending = True
            return
        body = self._distribute_body(ven)
        answer = yield from self.endpoint.post(ven.node, f"{ven.ven_id}/EiEvent", body)
        if answer is None:
            self.world.log("openadr_no_answer", vtn=self.vtn_id, ven=ven.ven_id, service="EiEvent")

    # -- services -------------------------------------------------------------------------
    def _guarded(self, handler: Service) -> Service:
        """A schema-valid document of an unexpected shape (a data source without a resourceID) gets 452, not a crash."""
        def serve(src: str, body: bytes) -> bytes:
            try:
                return handler(src, body)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
                return self._error(f"unexpected document content: {type(error).__name__}: {error}")
        return serve

    def _ok(self, message_type: str, request_id: str | None, ven_id: str) -> bytes:
        return encode(message_type, response={"response_code": 200, "response_description": "OK",
                                              "request_id": request_id}, ven_id=ven_id)

    def _error(self, reason: str) -> bytes:
        self.world.log("openadr_bad_request", vtn=self.vtn_id, reason=reason)
        return encode("oadrResponse", response={"response_code": 452, "response_description": text(reason),
                                                "request_id": None}, ven_id="")

    def _ei_event(self, src: str, body: bytes) -> bytes:
        try:
            message_type, payload = decode(body)
        except OpenAdrError as error:
            return self._error(str(error))
        ven_id = payload.get("ven_id", "")
        if message_type == "oadrRequestEvent":   # a (pull) VEN synchronising its event list
            ven = self.vens.get(str(ven_id))
            return self._distribute_body(ven) if ven is not None else self._error(f"unknown VEN {ven_id!r}")
        if message_type != "oadrCreatedEvent":
            return self._error(f"{message_type} is not served on EiEvent here")
        for response in payload.get("event_responses", []):
            opt_in = response.get("opt_type") == "optIn"
            self.world.log("openadr_created_event", vtn=self.vtn_id, ven=ven_id, event_id=response.get("event_id"),
                           modification=response.get("modification_number"), opt_in=opt_in,
                           reason=response.get("response_description", ""))
        return self._ok("oadrResponse", None, ven_id)

    def _ei_register_party(self, src: str, body: bytes) -> bytes:
        """Registration (pull-model VENs such as openleadr's): query, then create, answered with the VTN's terms."""
        try:
            message_type, payload = decode(body)
        except OpenAdrError as error:
            return self._error(str(error))
        if message_type not in ("oadrQueryRegistration", "oadrCreatePartyRegistration"):
            return self._error(f"{message_type} is not served on EiRegisterParty here")
        request_id = payload.get("request_id")
        registration: dict[str, Any] = {}
        if message_type == "oadrCreatePartyRegistration":
            ven_id = str(payload.get("ven_id") or payload.get("ven_name") or f"ven-{len(self.vens) + 1}")
            ven = self.vens.setdefault(ven_id, _Ven(ven_id, src))
            ven.node, ven.pull = src, bool(payload.get("http_pull_model", True))
            registration = {"ven_id": ven_id, "registration_id": f"{self.vtn_id}-reg-{ven_id}",
                            "requested_oadr_poll_freq": datetime.timedelta(seconds=self.poll_s)}
            self.world.log("openadr_party_registered", vtn=self.vtn_id, ven=ven_id, node=src, pull=ven.pull)
        return encode("oadrCreatedPartyRegistration", response={"response_code": 200, "response_description": "OK",
                                                                "request_id": request_id},
                      vtn_id=self.vtn_id, profiles=[{"profile_name": "2.0b",
                                                     "transports": [{"transport_name": "simpleHttp"}]}],
                      **registration)

    def _oadr_poll(self, src: str, body: bytes) -> bytes:
        """A pull VEN's poll: its events if they changed since its last poll, else an empty oadrResponse."""
        try:
            message_type, payload = decode(body)
        except OpenAdrError as error:
            return self._error(str(error))
        ven = self.vens.get(str(payload.get("ven_id", "")))
        if message_type != "oadrPoll" or ven is None:
            return self._error(f"{message_type} from an unregistered VEN" if ven is None else f"{message_type} on OadrPoll")
        if ven.pending:
            return self._distribute_body(ven)
        return self._ok("oadrResponse", None, ven.ven_id)

    def _ei_report(self, src: str, body: bytes) -> bytes:
        try:
            message_type, payload = decode(body)
        except OpenAdrError as error:
            return self._error(str(error))
        ven_id = str(payload.get("ven_id", ""))
        if message_type == "oadrRegisterReport":
            ven = self.vens.setdefault(ven_id, _Ven(ven_id, src))
            ven.node = src
            resources = [d["report_data_source"]["resource_id"] for report in payload.get("reports", [])
                         for d in report.get("report_descriptions", []) if d.get("report_data_source")]
            for resource in resources:
                self.serving[resource] = ven_id
            self.world.log("openadr_registered", vtn=self.vtn_id, ven=ven_id, node=src, resources=len(resources))
            return self._ok("oadrRegisteredReport", payload.get("request_id"), ven_id)
        if message_type == "oadrUpdateReport":
            for report in payload.get("reports", []):
                for interval in report.get("intervals", []):
                    data = interval.get("report_payload", {})
                    self.world.record(f"{self.vtn_id}/openadr/{data.get('r_id')}", "metered_kw",
                                      float(data.get("value", 0.0)), "kW")
            return self._ok("oadrUpdatedReport", payload.get("request_id"), ven_id)
        return self._error(f"{message_type} is not served on EiReport here")
