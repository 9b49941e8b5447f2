"""OpenADR 2.0b over the simulated network: openleadr's payloads, carried like HTTP POSTs.

The payloads are real OpenADR 2.0b XML documents, built and parsed by
openleadr's ``openleadr.messaging`` (``create_message`` / ``parse_message``,
which checks each document against the 2.0b schema), so what travels here is
what a VTN and a VEN exchange over HTTP. This module adds only what the
simulated network needs:

* :class:`OadrEvent` -- one DR event as the VTN and VEN here use it (typed,
  simulated seconds), turned into and out of openleadr's event dictionaries;
* :func:`encode` / :func:`decode` -- a 2.0b document from/to (message type,
  openleadr payload); ``decode`` raises :class:`OpenAdrError`;
* :class:`OpenAdrEndpoint` -- one node's HTTP end (protocol ``openadr``): it
  POSTs a document to another node's service and waits for the response
  document, and answers POSTs to its own services, as an HTTP client and
  server would (request and response each pay the path's latency and loss).

openleadr is the optional ``openadr`` extra (``pip install gridcosim[openadr]``),
imported on first use. Time on the wire is UTC: simulated time ``t`` is ``epoch + t`` (microseconds).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from typing import Any, Callable, Generator

import simpy
from xml.sax.saxutils import escape as xml_escape

from .network import CommNetwork, Message

PROTOCOL = "openadr"
HTTP_OVERHEAD_BYTES = 180
"""Request or status line and headers of a small HTTP/1.1 exchange (Host, Content-Type, Content-Length)."""


SIGNAL = ("LOAD_DISPATCH", "x-loadControlPercentOffset")
"""(signalName, signalType) of the events here: the share of the load to shed, a negative percent offset.

oadr_ei_20b.xsd, SignalTypeEnumeratedType: x-loadControlPercentOffset is the
"percentage change from normal load control operations" (x-loadControlLevelOffset
is a discrete integer level, not a percent).
"""


class OpenAdrError(ValueError):
    """A document that is not a valid OpenADR 2.0b payload."""


class EventStatus(str, enum.Enum):
    """eventStatus (OpenADR 2.0b profile specification, 8.1: none, far, near, active, completed, cancelled)."""

    FAR = "far"
    NEAR = "near"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


def status_at(now_s: float, start_s: float, end_s: float, near_s: float) -> EventStatus:
    """The status of an event (not cancelled) at ``now_s``: far, near (within ``near_s`` of its start), active, completed."""
    if now_s >= end_s:
        return EventStatus.COMPLETED
    if now_s >= start_s:
        return EventStatus.ACTIVE
    return EventStatus.NEAR if now_s >= start_s - near_s else EventStatus.FAR


@dataclasses.dataclass(frozen=True)
class OadrEvent:
    """One event for one resource: a LOAD_DISPATCH signal of ``reduction_pct`` % over ``start_s`` .. ``end_s``.

    ``label`` is the issuer's name for the call (a Load Management event id,
    an economic offer), carried as the event id's prefix
    (``<label>:<resource>``, one event per call and resource, so each site
    group opts in or out on its own); ``modification`` counts changes of the
    event.
    """

    label: str
    resource_id: str
    modification: int
    status: EventStatus
    start_s: float
    end_s: float
    reduction_pct: float
    created_s: float

    @property
    def event_id(self) -> str:
        return f"{self.label}:{self.resource_id}"

    def to_openleadr(self, epoch: datetime.datetime, market_context: str) -> dict[str, Any]:
        start = _utc(epoch, self.start_s)
        duration = _utc(epoch, self.end_s) - start
        return {
            "event_descriptor": {"event_id": self.event_id, "modification_number": self.modification,
                                 "market_context": market_context, "event_status": self.status.value, "priority": 0,
                                 "created_date_time": _utc(epoch, self.created_s), "test_event": False},
            "active_period": {"dtstart": start, "duration": duration},
            # x-loadControlPercentOffset: the share of load to shed, a negative percent offset (SIGNAL)
            "event_signals": [{"signal_name": SIGNAL[0], "signal_type": SIGNAL[1],
                               "signal_id": "0", "intervals": [{"dtstart": start, "duration": duration, "uid": 0,
                                                                "signal_payload": -self.reduction_pct}]}],
            "targets": [{"resource_id": self.resource_id}],
            "response_required": "always",
        }

    @classmethod
    def from_openleadr(cls, event: dict[str, Any], epoch: datetime.datetime,
                       to_sim: Callable[[datetime.datetime], float] | None = None) -> OadrEvent:
        """The event in simulated seconds: ``epoch + t`` is UTC, or ``to_sim`` maps a UTC instant (a paced HIL clock).

        The one signal acted on is LOAD_DISPATCH of type
        x-loadControlPercentOffset (a negative offset, in percent, of the load
        to shed) with one interval; any other signal, or several intervals,
        raises OpenAdrError naming it, as does an event with no or several
        resourceID targets (an id ``<label>:<resource>`` names its resource
        without a target).
        """
        sim = to_sim if to_sim is not None else (lambda when: _sim(epoch, when))
        try:
            descriptor = event["event_descriptor"]
            period = event["active_period"]
            event_id = str(descriptor["event_id"])
            label, _, resource = event_id.rpartition(":")
            targets = event.get("targets_by_type", {}).get("resource_id", [])
            signal = event["event_signals"][0]
            kind = (signal.get("signal_name"), signal.get("signal_type"))
            if kind != SIGNAL:
                raise OpenAdrError(f"event {event_id}: signal {kind[0]}/{kind[1]} is not supported "
                                   f"(only {SIGNAL[0]}/{SIGNAL[1]})")
            if len(targets) > 1:
                raise OpenAdrError(f"event {event_id}: {len(targets)} resourceID targets; this VEN takes one per event")
            if targets:   # an issuer's own event id is the label, unless it is this module's '<label>:<resource>'
                label, resource = (label, targets[0]) if resource == targets[0] and label else (event_id, targets[0])
            elif not label:
                raise OpenAdrError(f"event {event_id}: no resourceID target (and no '<label>:<resource>' id)")
            if len(signal["intervals"]) != 1:
                raise OpenAdrError(f"event {event_id}: {len(signal['intervals'])} signal intervals; "
                                   "this VEN takes one per event")
            payload = float(signal["intervals"][0]["signal_payload"])
            start = sim(period["dtstart"])
            return cls(label, resource, int(descriptor["modification_number"]),
                       EventStatus(descriptor["event_status"]), start,
                       start + period["duration"].total_seconds() if to_sim is None
                       else to_sim(period["dtstart"] + period["duration"]), -payload,
                       sim(descriptor["created_date_time"]))
        except OpenAdrError:
            raise
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
            raise OpenAdrError(f"bad oadrEvent: {error!r}") from None


def _utc(epoch: datetime.datetime, t_s: float) -> datetime.datetime:
    return epoch + datetime.timedelta(microseconds=round(t_s * 1e6))


def _sim(epoch: datetime.datetime, when: datetime.datetime) -> float:
    return (when - epoch) / datetime.timedelta(microseconds=1) / 1e6


def text(value: str, limit: int = 200) -> str:
    """Free text for a document (a response description): openleadr's templates insert it unescaped."""
    return xml_escape(value[:limit])


def encode(message_type: str, **payload: Any) -> bytes:
    """A 2.0b document (unsigned: the simulated network has no TLS; signatures belong to the HIL edge)."""
    from openleadr.messaging import create_message   # the optional ``openadr`` extra: imported where used

    data = create_message(message_type, disable_signature=True, **payload)
    return data if isinstance(data, bytes) else data.encode()


def decode(document: bytes) -> tuple[str, dict[str, Any]]:
    """(message type, payload) of a 2.0b document; OpenAdrError if it does not parse or fails the schema."""
    from openleadr.messaging import parse_message, validate_xml_schema

    try:
        validate_xml_schema(document)   # openleadr's parser carries the OpenADR 2.0b XSD
        message_type, payload = parse_message(document)
    except Exception as error:  # openleadr raises lxml, schema and key errors alike for a bad document
        raise OpenAdrError(f"bad OpenADR document: {type(error).__name__}: {error}") from None
    return str(message_type), payload


@dataclasses.dataclass(frozen=True)
class HttpPost:
    """One HTTP exchange on the simulated network: a POST to ``service`` or its response (``response_to``)."""

    exchange_id: int
    service: str
    body: bytes
    response_to: int = 0


Service = Callable[[str, bytes], bytes]
"""A service handler: (requesting node, request body) -> response body; runs at the arrival time, must not block."""


class OpenAdrEndpoint:
    """The HTTP end of one node for OpenADR: POSTs out (a VEN's or VTN's client) and services in (its server).

    One per node (:meth:`of`), shared by a VTN and VENs that sit on the same
    node. A POST whose response does not come back within ``timeout_s``
    (lost on the way, or no service there) returns None, as an HTTP client's
    timeout would.
    """

    def __init__(self, network: CommNetwork, node: str) -> None:
        self.network, self.node, self.env = network, node, network.env
        self.services: dict[str, Service] = {}
        self._waiting: dict[int, simpy.Event] = {}
        self._next_id = 0
        network.attach(node, PROTOCOL, self._arrived)

    @classmethod
    def of(cls, network: CommNetwork, node: str) -> OpenAdrEndpoint:
        endpoint = network.services.get(f"openadr/{node}")
        if endpoint is None:
            endpoint = network.services[f"openadr/{node}"] = cls(network, node)
        return endpoint  # type: ignore[no-any-return]

    def serve(self, service: str, handler: Service) -> None:
        """Answer POSTs to ``service`` (e.g. ``EiEvent``, ``EiReport``) with ``handler``."""
        if service in self.services:
            raise ValueError(f"node {self.node!r} already serves OpenADR {service}")
        self.services[service] = handler

    def post(self, dst: str, service: str, body: bytes, timeout_s: float = 10.0) -> Generator[Any, Any, bytes | None]:
        """POST ``body`` to ``dst``'s ``service``; the response body, or None after ``timeout_s`` (simulated s)."""
        self._next_id += 1
        exchange = HttpPost(self._next_id, service, body)
        done = self._waiting[exchange.exchange_id] = self.env.event()
        self.network.send(self.node, dst, PROTOCOL, exchange, len(body) + HTTP_OVERHEAD_BYTES, kind="POST",
                          info=service)
        timer = self.env.timeout(timeout_s)
        yield done | timer
        self._waiting.pop(exchange.exchange_id, None)
        return done.value if done.triggered else None

    def _arrived(self, msg: Message) -> None:
        exchange: HttpPost = msg.payload
        if exchange.response_to:
            waiting = self._waiting.pop(exchange.response_to, None)
            if waiting is not None and not waiting.triggered:
                waiting.succeed(exchange.body)
            return
        handler = self.services.get(exchange.service)
        if handler is None:
            msg.status, msg.reason = "rejected", f"no OpenADR {exchange.service} service"
            return
        body = handler(msg.src, exchange.body)
        self.network.send(self.node, msg.src, PROTOCOL, HttpPost(0, exchange.service, body, exchange.exchange_id),
                          len(body) + HTTP_OVERHEAD_BYTES, kind="200 OK", info=exchange.service)
