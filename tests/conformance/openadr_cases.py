"""OpenADR 2.0b VTN conformance cases as data (OpenADR 2.0b Profile Specification), and the transports.

A case is a list of steps played by a pull-model VEN against the CSP's VTN
of tests/hil/openadr_scenario.yaml: documents built by openleadr's
``create_message`` (the third party writes every request) and answers parsed
and schema-checked by openleadr's ``parse_message``, each step naming the
message type and response code the profile asks for. Event steps send a
Load Management call to the CSP over the scenario's MQTT broker and poll
until the event's status has gone through the sequence the profile gives
(far, near, active, completed; clause 8.1, eventStatus). A release step
sends the operator's release of that call (``LmRelease``): the event must
come out cancelled, its modificationNumber incremented.
"""

from __future__ import annotations

import datetime
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openleadr.messaging import create_message, parse_message

from cosim.comm import QoS
from cosim.comm.openadr import OpenAdrEndpoint
from cosim.markets.messages import LmDispatch, LmRelease
from cosim.runner import build_world
from cosim.scenario import load_scenario
from commtools import run_process
from hiltools import ServedWorld, settings, wait_until

SCENARIO = Path(__file__).parents[1] / "hil" / "openadr_scenario.yaml"
VEN, RESOURCE = "site1", "CSP_A.SITE1"
EVENT_ID = f"LM1:{RESOURCE}"


def _report(with_resource: bool) -> dict[str, Any]:
    source = {"resource_id": RESOURCE} if with_resource else {"group_id": "g1"}
    return {"report_specifier_id": "SITE1_POWER", "report_request_id": "0", "report_id": "r1",
            "report_name": "METADATA_TELEMETRY_USAGE", "created_date_time": datetime.datetime.now(datetime.timezone.utc),
            "report_descriptions": [{"r_id": "power", "report_data_source": source, "report_type": "usage",
                                     "reading_type": "Direct Read", "market_context": "http://pjm.com/lm",
                                     "sampling_rate": {"min_period": datetime.timedelta(seconds=10),
                                                       "max_period": datetime.timedelta(seconds=10),
                                                       "on_change": False}}]}


@dataclass(frozen=True)
class Post:
    """A document to a VTN service and the answer the profile asks for."""

    service: str
    message_type: str
    payload: dict[str, Any]
    answer: str
    code: int = 200
    expect: dict[str, Any] = field(default_factory=dict)
    """Fields of the parsed answer that must have these values."""

    def body(self) -> bytes:
        return create_message(self.message_type, **self.payload).encode()


@dataclass(frozen=True)
class Call:
    """A Load Management call for the VEN's resource, ``start_in_s`` ahead, ``duration_s`` long."""

    start_in_s: float = 4.0  # 2 s beyond the scenario's 2 s 'near' lead: the event is far for a few polls
    duration_s: float = 1.0


@dataclass(frozen=True)
class Release:
    """The operator releases the Load Management call (cancelled before its start, or ended while active)."""


@dataclass(frozen=True)
class Follow:
    """Poll until the event reached the last of ``statuses``; the statuses seen, in order, must be these."""

    statuses: tuple[str, ...]
    opt: str | None = None
    """Answer the first version with oadrCreatedEvent and this opt type (optIn / optOut); the VTN answers 200."""
    modification: int = 0
    """The modificationNumber the event must carry in its last status."""


@dataclass(frozen=True)
class Case:
    name: str
    clause: str
    steps: tuple[Post | Call | Release | Follow, ...]


QUERY = Post("EiRegisterParty", "oadrQueryRegistration", {"request_id": "q1"}, "oadrCreatedPartyRegistration",
             expect={"vtn_id": "CSP_A"})
REGISTER = Post("EiRegisterParty", "oadrCreatePartyRegistration",
                {"request_id": "c1", "ven_name": VEN, "http_pull_model": True, "xml_signature": False,
                 "report_only": False, "profile_name": "2.0b", "transport_name": "simpleHttp"},
                "oadrCreatedPartyRegistration", expect={"ven_id": VEN, "registration_id": f"CSP_A-reg-{VEN}"})
REGISTER_REPORT = Post("EiReport", "oadrRegisterReport", {"request_id": "rr1", "ven_id": VEN,
                                                          "reports": [_report(True)]}, "oadrRegisteredReport")
POLL_IDLE = Post("OadrPoll", "oadrPoll", {"ven_id": VEN}, "oadrResponse")
ENROL = (QUERY, REGISTER, REGISTER_REPORT)

CASES: tuple[Case, ...] = (
    Case("query_registration", "9.2 (oadrQueryRegistration: the VTN's profiles and transports)", (QUERY,)),
    Case("create_party_registration", "9.2 (oadrCreatePartyRegistration: registrationID, venID)", (QUERY, REGISTER)),
    Case("register_report", "8.3 (oadrRegisterReport of a resource's telemetry)", ENROL),
    Case("poll_with_nothing_pending", "8.6 (oadrPoll answered with oadrResponse)", ENROL + (POLL_IDLE,)),
    Case("poll_from_an_unregistered_ven", "8.6, 9.2 (452 invalid ID)",
         (Post("OadrPoll", "oadrPoll", {"ven_id": "stranger"}, "oadrResponse", 452),)),
    Case("report_without_a_resource", "8.3 (452: a report description names no resource)",
         (QUERY, REGISTER, Post("EiReport", "oadrRegisterReport", {"request_id": "rr2", "ven_id": VEN,
                                                                    "reports": [_report(False)]}, "oadrResponse", 452))),
    Case("event_status_far_near_active_completed_opt_in", "8.1 (eventStatus), 8.2 (oadrCreatedEvent optIn)",
         ENROL + (Call(), Follow(("far", "near", "active", "completed"), opt="optIn"))),
    Case("event_opt_out", "8.2 (oadrCreatedEvent optOut acknowledged)",
         ENROL + (Call(), Follow(("far",), opt="optOut"))),
    Case("event_cancelled_before_its_start", "8.1 (eventStatus cancelled, modificationNumber incremented)",
         ENROL + (Call(start_in_s=10.0), Follow(("far",), opt="optIn"), Release(), Follow(("cancelled",), modification=1))),
    Case("active_event_cancelled", "8.1 (an active event cancelled: eventStatus cancelled, modificationNumber + 1)",
         ENROL + (Call(duration_s=30.0), Follow(("far", "near", "active")), Release(),
                  Follow(("cancelled",), modification=1))),
)


class _Operator:
    """The operator's MQTT client at node pjm_ops (one per world): Load Management calls and releases to csp_a.

    Its methods run in the SimPy thread.
    """

    def __init__(self, world: Any) -> None:
        self.world = world
        self.client: Any = None

    def _publish(self, topic: str, payload: bytes) -> None:
        def send() -> Any:
            if self.client is None:
                self.client = self.world.service("comm").mqtt_client("pjm_ops", "test-ops", "broker")
                yield from self.client.connect()
            yield from self.client.publish(topic, payload, QoS.AT_LEAST_ONCE)
        self.world.process(send())

    def dispatch(self, start_in_s: float, duration_s: float) -> None:
        """The Load Management call the CSP turns into the VTN's event."""
        start = self.world.now + start_in_s
        self._publish("pjm/lm/dispatch/csp_a", LmDispatch(
            "LM1", "ZB", (), "PRE_EMERGENCY", 30, 0.1, (RESOURCE,), start, start + duration_s).encode())

    def release(self) -> None:
        """The operator's release of that call, now."""
        self._publish("pjm/lm/release/csp_a", LmRelease("LM1", self.world.now).encode())


class SimulatedVtn:
    """Documents through the simulated network from the operator's node to the CSP's; ``wait`` is simulated."""

    def __init__(self, folder: Path) -> None:
        self.world, _ = build_world(load_scenario(SCENARIO).with_run(duration=600.0), None)
        self.world.run(1.0)
        self.endpoint = OpenAdrEndpoint.of(self.world.service("comm"), "pjm_ops")
        self.operator = _Operator(self.world)

    def post(self, service: str, body: bytes) -> bytes:
        answer = run_process(self.world, self.endpoint.post("csp_a", service, body, timeout_s=5.0))
        assert answer is not None, f"no answer from {service}"
        return bytes(answer)

    def call(self, step: Call) -> None:
        self.operator.dispatch(step.start_in_s, step.duration_s)

    def release(self) -> None:
        self.operator.release()

    def wait(self, seconds: float) -> None:
        self.world.run(self.world.now + seconds)

    def close(self) -> None:
        pass


class HttpVtn:
    """Documents over real HTTP to the VTN the HIL session serves on a free loopback port; ``wait`` is wall time."""

    def __init__(self, folder: Path) -> None:
        from cosim.hil.config import OpenAdrServeConfig

        self.served = ServedWorld(None, settings(openadr=OpenAdrServeConfig(vtn="csp_a", port=0)), duration_s=60.0,
                                  scenario_path=SCENARIO).start()
        port = next(e.port for e in self.served.session.endpoints if e.kind == "openadr_vtn")
        self.url = f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b/"
        self.operator = _Operator(self.served.world)

    def post(self, service: str, body: bytes) -> bytes:
        request = urllib.request.Request(self.url + service, data=body, headers={"Content-Type": "application/xml"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200
            return bytes(answer.read())

    def call(self, step: Call) -> None:
        operator = self.operator
        assert self.served.session.inbox.offer(lambda: operator.dispatch(step.start_in_s, step.duration_s))

    def release(self) -> None:
        assert self.served.session.inbox.offer(self.operator.release)

    def wait(self, seconds: float) -> None:
        wait_until(lambda: False, seconds)

    def close(self) -> None:
        self.served.stop()


TRANSPORTS: dict[str, Any] = {"simulated": SimulatedVtn, "http": HttpVtn}
POLL_EVERY_S = 0.5


def _ask(transport: Any, step: Post) -> dict[str, Any]:
    message_type, payload = parse_message(transport.post(step.service, step.body()))  # openleadr's schema check
    assert message_type == step.answer, (message_type, payload)
    assert payload["response"]["response_code"] == step.code, payload["response"]
    for name, value in step.expect.items():
        assert payload.get(name) == value, (name, payload.get(name))
    return payload


def _follow(transport: Any, step: Follow) -> None:
    seen: list[str] = []
    modification = None
    deadline = time.monotonic() + 30.0
    answered = False
    while (not seen or seen[-1] != step.statuses[-1]) and time.monotonic() < deadline:
        message_type, payload = parse_message(transport.post("OadrPoll", create_message("oadrPoll", ven_id=VEN).encode()))
        for event in payload.get("events", []) if message_type == "oadrDistributeEvent" else []:
            descriptor = event["event_descriptor"]
            if descriptor["event_id"] != EVENT_ID:
                continue
            if not seen or seen[-1] != descriptor["event_status"]:
                seen.append(descriptor["event_status"])
                modification = descriptor["modification_number"]
            if step.opt is not None and not answered:
                answered = True
                _ask(transport, Post("EiEvent", "oadrCreatedEvent", {
                    "ven_id": VEN, "response": {"response_code": 200, "response_description": "OK",
                                                "request_id": payload["request_id"]},
                    "event_responses": [{"response_code": 200, "response_description": "OK",
                                         "request_id": payload["request_id"], "event_id": EVENT_ID,
                                         "modification_number": descriptor["modification_number"],
                                         "opt_type": step.opt}]}, "oadrResponse"))
        transport.wait(POLL_EVERY_S)
    assert tuple(seen) == step.statuses
    assert modification == step.modification
    assert step.opt is None or answered


def play(case: Case, transport: Any) -> None:
    for step in case.steps:
        if isinstance(step, Post):
            _ask(transport, step)
        elif isinstance(step, Call):
            transport.call(step)
        elif isinstance(step, Release):
            transport.release()
        else:
            _follow(transport, step)
