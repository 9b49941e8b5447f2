"""The IEC 104 codec against the standard's octets, and its connection rules (sequence numbers, k and w, STARTDT).

Golden frames are the control fields of IEC 60870-5-104:2006 clause 5 (figures
4-6 and 14) and ASDU layouts of IEC 60870-5-101:2003 clause 7 written out
octet by octet here; the calendar of CP56Time2a is checked against Python's
own (day of week, month, year). tshark judges whole traces in
test_iec104_stream.py; c104 talks to the codec over TCP in tests/hil.
"""

from __future__ import annotations

import datetime
import struct

import pytest
from hypothesis import given, settings, strategies as st

from cosim.comm.iec104 import (
    ApciError,
    Asdu,
    AsduError,
    Cause,
    ClockSync,
    Connection,
    Cp56Time,
    IFrame,
    InformationObject,
    Interrogation,
    SetpointFloat,
    ShortFloat,
    SingleCommand,
    SinglePoint,
    SFrame,
    TypeId,
    UFrame,
    UFunction,
    decode_asdu,
    encode_asdu,
)
from cosim.comm.iec104.apci import decode, encode


@pytest.mark.parametrize("function, octets", [
    (UFunction.STARTDT_ACT, "680407000000"), (UFunction.STARTDT_CON, "68040b000000"),
    (UFunction.STOPDT_ACT, "680413000000"), (UFunction.STOPDT_CON, "680423000000"),
    (UFunction.TESTFR_ACT, "680443000000"), (UFunction.TESTFR_CON, "680483000000")])
def test_u_frames_are_the_standards_octets(function, octets):
    assert encode(UFrame(function)).hex() == octets and decode(bytes.fromhex(octets)) == UFrame(function)


def test_s_and_i_frames_carry_sequence_numbers_shifted_by_one():
    assert encode(SFrame(5)) == bytes.fromhex("680401000a00")
    assert encode(IFrame(1, 2, b"\x64\x01\x06\x00\x01\x00\x00\x00\x00\x14")) == bytes.fromhex(
        "680e" "02000400" "6401060001000000" "0014")
    assert decode(bytes.fromhex("680401000a00")) == SFrame(5)
    assert decode(encode(IFrame(32767, 16384, b"\x01"))) == IFrame(32767, 16384, b"\x01")


@pytest.mark.parametrize("octets", ["690407000000", "680507000000", "680405000000", "680407010000", "680400000000",
                                    "680401000100", "680601000a000000"])
def test_malformed_apci_is_refused(octets):
    with pytest.raises(ApciError):
        decode(bytes.fromhex(octets))


def test_a_general_interrogation_is_the_standards_octets():
    asdu = Asdu(TypeId.C_IC_NA_1, Cause.ACTIVATION, 1, (InformationObject(0, Interrogation()),))
    # type 100, one object, cause 6, originator 0, CA 1, IOA 0, QOI 20
    assert encode_asdu(asdu) == bytes.fromhex("6401060001000000" "0014")
    assert decode_asdu(encode_asdu(asdu)) == asdu


def test_a_single_command_select_and_a_float_with_time():
    select = Asdu(TypeId.C_SC_NA_1, Cause.ACTIVATION, 2, (InformationObject(2001, SingleCommand(True, select=True)),))
    assert encode_asdu(select) == bytes.fromhex("2d01060002 00 d10700 81".replace(" ", ""))  # SCO: S/E=1, SCS=1
    stamp = Cp56Time(round(datetime.datetime(2026, 7, 1, 12, 9, 59, 994000, tzinfo=datetime.timezone.utc)
                           .timestamp() * 1000))
    measured = Asdu(TypeId.M_ME_TF_1, Cause.SPONTANEOUS, 1, (InformationObject(1001, ShortFloat(7.5, 0, stamp)),))
    octets = encode_asdu(measured)
    assert octets[:6] == bytes.fromhex("240103000100") and octets[6:9] == bytes.fromhex("e90300")
    assert struct.unpack("<f", octets[9:13])[0] == 7.5 and octets[13] == 0
    # CP56Time2a: ms 59994 = 0xea5a, min 9, hour 12, day 1 | Wednesday (3) << 5, month 7, year 26
    assert octets[14:] == bytes((0x5A, 0xEA, 9, 12, 1 | 3 << 5, 7, 26))
    assert decode_asdu(octets) == measured


def test_negative_and_test_bits_and_an_sq_sequence_decode():
    # M_SP_NA_1, SQ=1 with 3 objects from IOA 10; cause 20, negative bit, test bit, originator 7, CA 0x0102
    octets = bytes.fromhex("0183d40702010a0000" "01" "00" "81")
    asdu = decode_asdu(octets)
    assert (asdu.cause, asdu.negative, asdu.test, asdu.originator, asdu.common_address) == (
        Cause.INTERROGATED_BY_STATION, True, True, 7, 0x0102)
    assert [(o.ioa, o.element) for o in asdu.objects] == [
        (10, SinglePoint(True)), (11, SinglePoint(False)), (12, SinglePoint(True, 0x80))]


def test_cp56time_follows_the_calendar():
    for moment in (datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc),
                   datetime.datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=datetime.timezone.utc),
                   datetime.datetime(2099, 12, 31, 0, 1, 2, 3000, tzinfo=datetime.timezone.utc)):
        ms = round(moment.timestamp() * 1000)
        octets = Cp56Time(ms).encode()
        assert octets[4] >> 5 == moment.isoweekday() and octets[5] == moment.month and octets[6] == moment.year - 2000
        assert Cp56Time.decode(octets) == Cp56Time(ms)
    with pytest.raises(AsduError):
        Cp56Time(0).encode()  # 1970 does not fit the two-digit year


def test_an_unsupported_type_is_named_for_the_cause_44_answer():
    with pytest.raises(AsduError) as error:
        decode_asdu(bytes.fromhex("7801060001000000" "00"))
    assert error.value.type_id == 120


def test_a_station_sends_nothing_before_startdt_and_stops_at_k():
    station = Connection(station=True)
    assert station.send(b"\x01\x01\x03\x00\x01\x00\x01\x00\x00\x01") == []
    started = station.receive(bytes.fromhex("680407000000"))
    assert started.replies[0] == bytes.fromhex("68040b000000") and len(started.replies) == 2  # con, then the queued I
    frames = [station.send(b"\x01\x01\x03\x00\x01\x00\x01\x00\x00\x01") for _ in range(12)]
    assert sum(map(len, frames)) == 11 and frames[-1] == []  # 12 unacknowledged: the 13th waits
    released = station.receive(encode(SFrame(12)))
    assert [decode(f) for f in released.replies] == [IFrame(12, 0, b"\x01\x01\x03\x00\x01\x00\x01\x00\x00\x01")]


def test_a_receiver_acknowledges_after_w_frames_and_refuses_a_sequence_gap():
    master = Connection(station=False)
    asdu = encode_asdu(Asdu(TypeId.M_SP_NA_1, Cause.SPONTANEOUS, 1, (InformationObject(1, SinglePoint(True)),)))
    replies = [master.receive(encode(IFrame(n, 0, asdu))).replies for n in range(8)]
    assert replies[:7] == [[]] * 7 and replies[7] == [encode(SFrame(8))]
    assert master.receive(encode(IFrame(9, 0, asdu))).error is not None  # N(S) 9 where 8 was due
    assert Connection(station=False).receive(encode(SFrame(3))).error is not None  # acknowledges unsent frames


def test_every_element_round_trips():
    stamp = Cp56Time(1_782_907_800_017)
    cases = [(TypeId.M_SP_NA_1, SinglePoint(False, 0x10)), (TypeId.M_SP_TB_1, SinglePoint(True, 0, stamp)),
             (TypeId.M_ME_NC_1, ShortFloat(-1.5, 0x01)), (TypeId.M_ME_TF_1, ShortFloat(3.25, 0, stamp)),
             (TypeId.C_SC_NA_1, SingleCommand(False, False, 1)), (TypeId.C_SE_NC_1, SetpointFloat(0.5, True)),
             (TypeId.C_CS_NA_1, ClockSync(stamp)), (TypeId.C_IC_NA_1, Interrogation(21))]
    for type_id, element in cases:
        asdu = Asdu(type_id, Cause.ACTIVATION, 65534, (InformationObject(0xFFFFFF, element),), originator=3)
        assert decode_asdu(encode_asdu(asdu)) == asdu
    with pytest.raises(AsduError):
        encode_asdu(Asdu(TypeId.M_SP_NA_1, Cause.SPONTANEOUS, 1, (InformationObject(1, ShortFloat(1.0)),)))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_octets_are_decoded_or_refused_without_raising_anything_else(octets):
    try:
        decode_asdu(octets)
    except AsduError:
        pass
    result = Connection(station=True).receive(octets)
    assert result.error is not None or not octets or all(r[:1] == b"\x68" for r in result.replies)
