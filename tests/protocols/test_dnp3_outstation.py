"""The DNP3 codec and outstation judged by the world: the CRC-16/DNP catalogue check value and tshark's DNP3 dissector.

A recloser's outstation answers an integrity poll, reports events after its
breaker opens, and operates a CROB; every frame is written to a pcap and
tshark must find every link header and data block CRC good, nothing
malformed, and read the same function codes, IIN bits, point values and
control statuses the outstation meant.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cosim.comm.dnp3 import (
    AppControl,
    CommandStatus,
    Crob,
    Dnp3Link,
    FunctionCode,
    Iin,
    LinkError,
    ObjectHeader,
    OpType,
    Qualifier,
    Request,
    TripClose,
    crc_dnp,
    decode_frame,
    decode_response,
)
from cosim.comm.pcap import Segment, write_pcap
from devices.protocols.dnp3_outstation import Outstation, OutstationConfig
from devices.protocols.dnp3_points import KINDS, RECLOSER
from devices.registermaps import DeviceKind, standard_map
from devices.registerstore import RegisterStore

MASTER, OUTSTATION = 1, 10
MASTER_END, OUTSTATION_END = ("10.0.0.1", 40000), ("10.0.0.2", 20000)
START_MS = 1_764_892_800_000  # 2025-12-05 00:00:00 UTC


def test_crc_dnp_matches_the_catalogue_check_value():
    # CRC RevEng catalogue, CRC-16/DNP: check = 0xEA82 over the ASCII digits 1..9
    assert crc_dnp(b"123456789") == 0xEA82


class Exchange:
    """A master and an outstation over octets, recording every write as a pcap segment."""

    def __init__(self, config: OutstationConfig = OutstationConfig()) -> None:
        self.store = RegisterStore(standard_map(DeviceKind.RECLOSER), protection_writes_allowed=False)
        self.clock = START_MS
        self.outstation = Outstation(RECLOSER, self.store, lambda: self.clock, config)
        self.outstation.scan()  # the baseline, as after the device's first step
        self.master = Dnp3Link(MASTER, True)
        self.end = Dnp3Link(OUTSTATION, False)
        self.segments: list[Segment] = []
        self.sequence = 0

    def wire(self, octets: bytes, from_master: bool) -> None:
        src, dst = (MASTER_END, OUTSTATION_END) if from_master else (OUTSTATION_END, MASTER_END)
        self.segments.append(Segment(len(self.segments) * 0.01, src, dst, octets))

    def request(self, function: FunctionCode, *headers: ObjectHeader, confirm_events: bool = True):
        fragment = Request(AppControl(self.sequence), function, headers).encode()
        self.sequence = (self.sequence + 1) % 16
        return self.send(fragment, confirm_events)

    def send(self, fragment: bytes, confirm_events: bool = True):
        octets = self.master.send(OUTSTATION, fragment)
        self.wire(octets, True)
        received = self.end.receive(octets)
        assert received.fragments and not received.dropped
        answer = self.outstation.handle(received.fragments[0][1])
        if answer is None:
            return None
        return self.answer(answer, confirm_events)

    def answer(self, fragment: bytes, confirm: bool = True):
        octets = self.end.send(MASTER, fragment)
        self.wire(octets, False)
        got = self.master.receive(octets)
        assert len(got.fragments) == 1 and not got.dropped
        response = decode_response(got.fragments[0][1])
        if response.control.confirm and confirm:
            ack = Request(AppControl(response.control.sequence, unsolicited=response.control.unsolicited),
                          FunctionCode.CONFIRM).encode()
            self.send(ack)
        return response


def tshark(pcap: Path, *fields: str) -> list[list[str]]:
    args = ["tshark", "-r", str(pcap), "-d", "tcp.port==20000,dnp3", "-Y", "dnp3", "-T", "fields", "-E", "occurrence=a",
            "-E", "aggregator=;"]
    for name in fields:
        args += ["-e", name]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines() if line]


def integrity_poll() -> tuple[ObjectHeader, ...]:
    return tuple(ObjectHeader(60, v, Qualifier.ALL) for v in (2, 3, 4, 1))


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    ex = Exchange()
    ex.store.set("current_a_a", 321)
    ex.store.set("source_voltage_v", 11_000)
    ex.outstation.scan()  # as the device does after every step: these changes are class 2 and 3 events
    first = ex.request(FunctionCode.READ, *integrity_poll())
    ex.request(FunctionCode.WRITE, ObjectHeader(80, 1, Qualifier.START_STOP_8, 7, 7, items=((7, False),)))
    ex.request(FunctionCode.WRITE, ObjectHeader(50, 1, Qualifier.COUNT_8, items=((0, START_MS + 250),)))
    ex.clock += 1500
    ex.store.set("closed", False)
    ex.store.set("current_a_a", 0)
    ex.outstation.scan()
    events = ex.request(FunctionCode.READ, *integrity_poll()[:3])
    trip = Crob(OpType.PULSE_ON, TripClose.TRIP, 1, 100, 100)
    operate = ex.request(FunctionCode.DIRECT_OPERATE, ObjectHeader(12, 1, Qualifier.INDEX_8, items=((0, trip),)))
    locked = ex.request(FunctionCode.DIRECT_OPERATE, ObjectHeader(41, 2, Qualifier.INDEX_8, items=((0, _ao(500)),)))
    pcap = tmp_path_factory.mktemp("dnp3") / "outstation.pcap"
    write_pcap(pcap, ex.segments)
    return ex, first, events, operate, locked, pcap


def _ao(value: int):
    from cosim.comm.dnp3 import AnalogOutput
    return AnalogOutput(value)


def test_every_frame_dissects_with_good_crcs(story):
    ex, *_, pcap = story
    rows = tshark(pcap, "dnp.hdr.CRC.status", "dnp.data_chunk.CRC.status", "_ws.malformed", "_ws.expert.severity",
                  "dnp3.al.func")
    assert len(rows) == len(ex.segments)
    for header_crc, chunk_crcs, malformed, severity, _function in rows:
        assert header_crc == "1" and set(chunk_crcs.split(";")) <= {"1", ""} and not malformed
        assert "8388608" not in severity.split(";")  # no expert error (PI_ERROR)


def test_tshark_reads_the_integrity_poll_values(story):
    ex, first, *_, pcap = story
    assert first.iin & Iin.DEVICE_RESTART and first.iin & Iin.NEED_TIME
    rows = tshark(pcap, "dnp3.al.func", "dnp3.al.obj", "dnp3.al.ana.int", "dnp3.al.iin.rst", "dnp3.al.iin.tsr")
    response = rows[1]  # the outstation's answer to the first request
    assert response[0] == "129" and response[3] == "1" and response[4] == "1"
    objects = {int(o, 16) for o in response[1].split(";")}
    assert objects == {0x2003, 0x0102, 0x0A02, 0x1E01, 0x2801}  # g32v3 events, then g1v2, g10v2, g30v1, g40v1
    analogs = [int(v) for v in response[2].split(";")]
    events, static = analogs[:2], analogs[2:2 + len(RECLOSER.analog_inputs)]
    assert events == [321, 11_000]  # class 2 (current A) then class 3 (voltage): the poll asks 1, 2, 3, 0
    assert static[0] == 321 and static[4] == 11_000


def test_events_carry_the_synchronised_time_and_are_confirmed(story):
    ex, _first, events, *_ = story
    binary = [h for h in events.headers if h.group == 2]
    analog = [h for h in events.headers if h.group == 32]
    assert binary[0].items[0][0] == 0 and binary[0].items[0][1].value is False
    assert binary[0].items[0][1].time_ms == START_MS + 250 + 1500  # the master's clock was 250 ms ahead
    assert [(index, a.value) for index, a in analog[0].items] == [(0, 0)]  # current A fell beyond its deadband
    assert events.control.confirm and ex.outstation.buffered(1) == 0 and ex.outstation.buffered(2) == 0


def test_the_crob_trips_through_the_store_and_a_locked_setting_is_refused(story):
    ex, *_, operate, locked, pcap = story
    assert operate.headers[0].items[0][1].status == CommandStatus.SUCCESS
    assert ex.store.get("trip_command") is True  # the device clears it when it acts
    assert locked.headers[0].items[0][1].status == CommandStatus.NOT_AUTHORIZED  # protection writes are off
    rows = tshark(pcap, "dnp3.al.func", "dnp3.al.ctrlstatus")
    statuses = [r[1] for r in rows if r[0] == "129" and r[1]]
    assert statuses == ["0", "9"]


def test_select_before_operate_needs_the_same_objects_and_the_next_sequence():
    ex = Exchange()
    trip = ObjectHeader(12, 1, Qualifier.INDEX_8, items=((0, Crob(OpType.LATCH_OFF)),))
    close = ObjectHeader(12, 1, Qualifier.INDEX_8, items=((0, Crob(OpType.LATCH_ON)),))
    assert ex.request(FunctionCode.OPERATE, trip).headers[0].items[0][1].status == CommandStatus.NO_SELECT
    assert ex.request(FunctionCode.SELECT, trip).headers[0].items[0][1].status == CommandStatus.SUCCESS
    assert ex.store.get("trip_command") is False  # a select does not operate
    assert ex.request(FunctionCode.OPERATE, close).headers[0].items[0][1].status == CommandStatus.NO_SELECT
    ex.request(FunctionCode.SELECT, trip)
    ex.clock += 20_000
    assert ex.request(FunctionCode.OPERATE, trip).headers[0].items[0][1].status == CommandStatus.TIMEOUT
    ex.request(FunctionCode.SELECT, trip)
    assert ex.request(FunctionCode.OPERATE, trip).headers[0].items[0][1].status == CommandStatus.SUCCESS
    assert ex.store.get("trip_command") is True


def test_unsolicited_starts_null_then_reports_enabled_classes_until_confirmed():
    ex = Exchange()
    null = ex.outstation.unsolicited()
    assert null is not None
    response = ex.answer(null, confirm=False)
    assert response.function == FunctionCode.UNSOLICITED_RESPONSE and not response.headers
    assert ex.outstation.unsolicited() is None  # one outstanding at a time
    assert ex.outstation.retry_unsolicited() == null  # retried identically
    ex.answer(null)  # now confirmed
    ex.store.set("closed", False)
    ex.outstation.scan()
    assert ex.outstation.unsolicited() is None  # class 1 not enabled yet
    ex.request(FunctionCode.ENABLE_UNSOLICITED, ObjectHeader(60, 2, Qualifier.ALL))
    report = ex.answer(ex.outstation.unsolicited())
    assert report.control.unsolicited and report.headers[0].gv == (2, 2)
    assert ex.outstation.buffered(1) == 0 and ex.outstation.unsolicited() is None


def test_a_full_buffer_drops_the_oldest_and_says_so():
    ex = Exchange(OutstationConfig(event_buffer=3))
    for n in range(5):
        ex.store.set("closed", n % 2 == 0)
        ex.outstation.scan()
    response = ex.request(FunctionCode.READ, ObjectHeader(60, 2, Qualifier.ALL), confirm_events=False)
    assert response.iin & Iin.EVENT_BUFFER_OVERFLOW and len(response.headers[0].items) == 3
    limited = ex.request(FunctionCode.READ, ObjectHeader(60, 2, Qualifier.COUNT_8, count=1), confirm_events=True)
    assert len(limited.headers[0].items) == 1 and limited.iin & Iin.CLASS_1_EVENTS


def test_bad_input_gets_an_iin_answer_or_is_dropped():
    ex = Exchange()
    unknown = ex.request(FunctionCode.READ, ObjectHeader(20, 1, Qualifier.ALL))
    assert unknown.iin & Iin.OBJECT_UNKNOWN
    out_of_range = ex.request(FunctionCode.READ, ObjectHeader(1, 2, Qualifier.START_STOP_8, 0, 40))
    assert out_of_range.iin & Iin.PARAMETER_ERROR
    no_function = ex.send(bytes([0xC0 | ex.sequence, 0x1F]))
    assert no_function.iin & Iin.NO_FUNC_CODE_SUPPORT
    good = ex.master.send(OUTSTATION, Request(AppControl(0), FunctionCode.READ, integrity_poll()).encode())
    with pytest.raises(LinkError, match="CRC"):
        decode_frame(good[:12] + bytes([good[12] ^ 1]) + good[13:])
    assert ex.end.receive(good[:-1] + bytes([good[-1] ^ 0xFF])).dropped


@pytest.mark.parametrize("kind", [k.value for k in KINDS])
def test_every_dnp3_map_names_points_its_register_map_serves(kind):
    from devices.protocols.dnp3_points import documented_points
    from devices.registermaps import documented_map

    points = documented_points(DeviceKind(kind))
    assert points is not None and points.binary_inputs
    points.check(documented_map(DeviceKind(kind)))  # raises RegisterMapError listing every bad reference


def test_a_map_with_bad_references_lists_them_all():
    from devices.protocols.dnp3_points import AnalogOutputPoint, BinaryInputPoint, ControlMode, ControlPoint, Dnp3PointMap
    from devices.registermap import RegisterMapError

    bad = Dnp3PointMap(binary_inputs=(BinaryInputPoint("nope", 4),),
                       controls=(ControlPoint("x", ControlMode.PAIRED, "closed", None),),
                       analog_outputs=(AnalogOutputPoint("current_a_a"),))
    with pytest.raises(RegisterMapError) as caught:
        bad.check(standard_map(DeviceKind.RECLOSER))
    assert len(caught.value.problems) == 5


def test_a_new_request_ends_the_wait_for_a_confirm_and_the_events_are_sent_again():
    ex = Exchange()
    ex.store.set("closed", False)
    ex.outstation.scan()
    first = ex.request(FunctionCode.READ, ObjectHeader(60, 2, Qualifier.ALL), confirm_events=False)
    assert first.control.confirm and len(first.headers[0].items) == 1
    ex.request(FunctionCode.READ, ObjectHeader(1, 2, Qualifier.ALL))  # static only, no confirm asked
    null = ex.outstation.unsolicited()
    assert null is not None  # no longer blocked by the unconfirmed solicited response
    again = ex.request(FunctionCode.READ, ObjectHeader(60, 2, Qualifier.ALL))
    assert [i for i, _ in again.headers[0].items] == [0] and ex.outstation.buffered(1) == 0


def test_a_read_of_listed_indices_is_answered_with_those_points(tmp_path):
    ex = Exchange()
    ex.store.set("current_c_a", 77)
    ex.store.set("source_voltage_v", 10_500)
    listed = ObjectHeader(30, 1, Qualifier.INDEX_8, count=2, indices=(2, 4))
    response = ex.request(FunctionCode.READ, listed, ObjectHeader(1, 2, Qualifier.START_STOP_8, 0, 1))
    assert [(i, a.value) for i, a in response.headers[0].items] == [(2, 77), (4, 10_500)]
    assert [i for i, _ in response.headers[1].items] == [0, 1]
    pcap = tmp_path / "listed.pcap"
    write_pcap(pcap, ex.segments)
    rows = tshark(pcap, "dnp3.al.func", "dnp3.al.index", "dnp3.al.ana.int", "_ws.malformed")
    assert rows[0][1] == "2;4" and rows[1][1].startswith("2;4") and rows[1][2] == "77;10500"
    assert not any(r[3] for r in rows)
