"""OpenADR 2.0b documents over the simulated network: openleadr's payloads, HTTP-like exchanges, bad input.

The references are openleadr's own: its ``parse_message`` reads what our
VTN builds, its 2.0b schema rejects what is not a 2.0b document.
"""

from __future__ import annotations

import datetime

import pytest
from commtools import chain, run_process
from openleadr.messaging import create_message, parse_message

from cosim.comm.openadr import (EventStatus, OadrEvent, OpenAdrEndpoint, OpenAdrError, decode, encode,
                                status_at)
from cosim.domains.openadr_vtn import OpenAdrVtn
from cosim.kernel import World

EPOCH = datetime.datetime(2026, 7, 1, tzinfo=datetime.timezone.utc)


def test_an_event_survives_openleadrs_round_trip() -> None:
    event = OadrEvent("LM1", "csp_a.ZD.21201.30P", 2, EventStatus.NEAR, 50400.0, 61200.0, 100.0, 43200.25)
    document = encode("oadrDistributeEvent", request_id="r1", vtn_id="CSP_A",
                      events=[event.to_openleadr(EPOCH, "http://pjm.com/lm")])
    message_type, payload = parse_message(document)       # openleadr's parser, no schema check of ours
    assert message_type == "oadrDistributeEvent"
    parsed = payload["events"][0]
    assert parsed["event_descriptor"]["event_status"] == "near"
    assert parsed["active_period"]["dtstart"] == EPOCH + datetime.timedelta(hours=14)
    assert parsed["active_period"]["duration"] == datetime.timedelta(hours=3)
    assert OadrEvent.from_openleadr(decode(document)[1]["events"][0], EPOCH) == event


def _parsed(event: OadrEvent, **changes: object) -> dict[str, object]:
    """``event`` as openleadr parses it from a 2.0b document, after ``changes`` to its openleadr dictionary."""
    raw = {**event.to_openleadr(EPOCH, "http://pjm.com/lm"), **changes}
    return dict(decode(encode("oadrDistributeEvent", request_id="r1", vtn_id="VTN", events=[raw]))[1]["events"][0])


EVENT = OadrEvent("LM1", "csp_a.ZD.21201.30P", 0, EventStatus.FAR, 50400.0, 61200.0, 40.0, 43200.0)


def test_another_issuers_event_id_is_its_label_and_its_target_the_resource() -> None:
    parsed = _parsed(EVENT, event_descriptor={**EVENT.to_openleadr(EPOCH, "m")["event_descriptor"], "event_id": "evt:7"})
    assert OadrEvent.from_openleadr(parsed, EPOCH) == OadrEvent(
        "evt:7", EVENT.resource_id, 0, EventStatus.FAR, 50400.0, 61200.0, 40.0, 43200.0)


@pytest.mark.parametrize(("changes", "says"), [
    ({"event_signals": [{"signal_name": "SIMPLE", "signal_type": "level", "signal_id": "0", "intervals": [
        {"dtstart": EPOCH, "duration": datetime.timedelta(hours=1), "uid": 0, "signal_payload": 2.0}]}]},
     "signal SIMPLE/level is not supported"),
    ({"event_signals": [{"signal_name": "LOAD_DISPATCH", "signal_type": "x-loadControlPercentOffset", "signal_id": "0",
                         "intervals": [{"dtstart": EPOCH, "duration": datetime.timedelta(hours=1), "uid": k,
                                        "signal_payload": -10.0 * (k + 1)} for k in range(2)]}]},
     "2 signal intervals"),
    ({"targets": [{"resource_id": "a"}, {"resource_id": "b"}]}, "2 resourceID targets"),
])
def test_an_event_the_ven_cannot_act_on_is_refused_naming_why(changes: dict[str, object], says: str) -> None:
    with pytest.raises(OpenAdrError, match=says):
        OadrEvent.from_openleadr(_parsed(EVENT, **changes), EPOCH)


@pytest.mark.parametrize("document", [b"", b"not xml", b"<oadrPayload/>",
                                      create_message("oadrPoll", ven_id="v1").replace("venID", "venName").encode()])
def test_what_is_not_a_2_0b_document_is_refused(document: bytes) -> None:
    with pytest.raises(OpenAdrError):
        decode(document)


def test_status_follows_the_clock_at_any_clock_value() -> None:
    start = 2.0 ** 30
    assert [status_at(t, start, start + 3600.0, 600.0) for t in (start - 601.0, start - 600.0, start, start + 3600.0)] \
        == [EventStatus.FAR, EventStatus.NEAR, EventStatus.ACTIVE, EventStatus.COMPLETED]


def test_the_vtn_answers_a_bad_document_with_452_and_a_lost_post_times_out() -> None:
    world = World(1, None)
    network = chain(world, "ven", "vtn", latency_s=0.05)
    OpenAdrVtn(world, network, "vtn", "CSP_A", epoch=EPOCH, market_context="http://pjm.com/lm", near_s=600.0)
    ven = OpenAdrEndpoint.of(network, "ven")

    def exchange():
        bad = yield from ven.post("vtn", "EiEvent", b"<junk/>")
        good = yield from ven.post("vtn", "OadrPoll", create_message("oadrPoll", ven_id="stranger").encode())
        asked = world.now
        nowhere = yield from ven.post("vtn", "EiOpt", create_message("oadrPoll", ven_id="v1").encode(), timeout_s=1.0)
        return bad, good, nowhere, world.now - asked

    bad, good, nowhere, waited = run_process(world, exchange())
    assert decode(bad)[1]["response"]["response_code"] == 452
    assert decode(good)[1]["response"]["response_code"] == 452     # a poll from a VEN that never registered
    assert nowhere is None and waited == pytest.approx(1.0, rel=1e-9)   # no EiOpt service there: the timeout


def test_a_register_report_without_resource_ids_is_refused_not_a_crash() -> None:
    world = World(1, None)
    network = chain(world, "ven", "vtn")
    OpenAdrVtn(world, network, "vtn", "CSP_A", epoch=EPOCH, market_context="http://pjm.com/lm", near_s=600.0)
    ven = OpenAdrEndpoint.of(network, "ven")
    report = {"report_specifier_id": "S", "report_request_id": "0", "report_id": "r", "report_name": "TELEMETRY_STATUS",
              "created_date_time": EPOCH,
              "report_descriptions": [{"r_id": "g", "report_data_source": {"group_id": "g1"},
                                       "report_type": "x-resourceStatus", "reading_type": "x-notApplicable",
                                       "sampling_rate": {"min_period": datetime.timedelta(seconds=60),
                                                         "max_period": datetime.timedelta(hours=1), "on_change": True}}]}
    body = encode("oadrRegisterReport", request_id="q", ven_id="v1", reports=[report])
    answer = run_process(world, ven.post("vtn", "EiReport", body))
    assert decode(answer)[1]["response"]["response_code"] == 452
