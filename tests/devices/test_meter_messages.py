"""The smart meter's interval and event payloads: one encode/decode each, bad payloads refused."""

import pytest

from devices.meter_messages import MeterEvent, MeterInterval, MeterMessageError


def test_interval_and_event_round_trip_as_compact_json():
    reading = MeterInterval("meter_home_1", 900.0, 1800.0, 0.3125, 0.0, 12.5, 1.25, 228.4, None)
    payload = reading.encode()
    assert payload.startswith(b'{"meter":"meter_home_1","start_s":900.0,') and b'"v_max":null' in payload
    assert MeterInterval.decode(payload) == reading
    event = MeterEvent("meter_home_1", "outage", 3600.0)
    assert MeterEvent.decode(event.encode()) == event


@pytest.mark.parametrize("payload", [
    b"not json", b"[1, 2]", b'{"meter": "m"}',
    b'{"meter":"m","start_s":0,"end_s":900,"import_kwh":"lots","export_kwh":0,"import_total_kwh":0,"avg_kw":0}',
    b'{"meter":"m","start_s":0,"end_s":900,"import_kwh":NaN,"export_kwh":0,"import_total_kwh":0,"avg_kw":0}',
])
def test_a_payload_that_is_not_an_interval_is_a_meter_message_error(payload):
    with pytest.raises(MeterMessageError):
        MeterInterval.decode(payload)


def test_an_event_is_an_outage_or_a_restoration():
    with pytest.raises(MeterMessageError, match="neither outage nor restoration"):
        MeterEvent.decode(b'{"meter":"m","event":"tamper","time_s":0}')
