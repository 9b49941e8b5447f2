"""Hostile DNP3 input: whatever octets arrive, the link drops or the outstation answers; nothing raises.

Property tests (hypothesis) over arbitrary fragments and byte streams, and
over well-formed frames with one bit flipped (which the CRC-16/DNP catches:
it detects every single-bit error).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cosim.comm.dnp3 import (
    AppControl,
    ApplicationError,
    Dnp3Link,
    FunctionCode,
    LinkError,
    ObjectHeader,
    Qualifier,
    Request,
    decode_frame,
    decode_request,
    decode_response,
)
from devices.protocols.dnp3_outstation import Outstation
from devices.protocols.dnp3_points import RECLOSER
from devices.registermaps import DeviceKind, standard_map
from devices.registerstore import RegisterStore


MAP = standard_map(DeviceKind.RECLOSER)


def outstation() -> Outstation:
    return Outstation(RECLOSER, RegisterStore(MAP), lambda: 0)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_fragment_gets_a_response_or_none_never_an_exception(fragment):
    answer = outstation().handle(fragment)
    if answer is not None:
        decode_response(answer)  # and what it answers is itself well formed


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([0x01, 0x02, 0x03, 0x05, 0x14]), st.binary(max_size=80))
def test_any_object_headers_after_a_valid_function_are_parsed_or_refused(function, body):
    fragment = bytes([0xC0, function]) + body
    try:
        decode_request(fragment)
    except ApplicationError:
        pass
    answer = outstation().handle(fragment)
    assert answer is not None and decode_response(answer).control.sequence == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_byte_stream_is_framed_or_dropped(stream):
    link = Dnp3Link(10, is_master=False)
    received = link.receive(stream, stream=False)
    for _source, fragment in received.fragments:
        outstation().handle(fragment)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_single_bit_error_is_caught_by_the_crcs(data):
    fragment = Request(AppControl(3), FunctionCode.READ, tuple(ObjectHeader(60, v, Qualifier.ALL) for v in (2, 3, 4, 1))
                       + (ObjectHeader(30, 1, Qualifier.START_STOP_8, 0, 7),)).encode()
    frame = Dnp3Link(1, is_master=True).send(10, fragment)
    bit = data.draw(st.integers(0, len(frame) * 8 - 1))
    if bit < 16:
        return  # the start octets: not covered by a CRC but checked as a constant
    flipped = bytearray(frame)
    flipped[bit // 8] ^= 1 << (bit % 8)
    try:
        decode_frame(bytes(flipped))
    except LinkError:
        return
    raise AssertionError(f"bit {bit} flipped went unnoticed")
