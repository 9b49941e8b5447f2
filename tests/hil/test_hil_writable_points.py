"""Only the bench's listed control points are writable by real masters (pymodbus over TCP on loopback).

A device with no listed point answers every write with exception 01, a write
to an unlisted address of a device with listed points gets 02 (docs/hil.md,
"Writable control points"); the breaker's trip coil is not writable unless listed.
"""

from __future__ import annotations

import io

import pytest
from pymodbus.client import ModbusTcpClient

from cosim.hil.session import HilError

from hiltools import ServedWorld, bench_meter, bench_relay, settings, wait_until


def relay_and_meter(tmp_path, **modbus):
    served = ServedWorld(tmp_path, settings(modbus=modbus))
    served.session.stream = io.StringIO()
    relay, meter = bench_relay(served.world), bench_meter(served.world)
    served.session.expose("relay_cb", "protective_relay", relay, register_map=relay.register_map)
    served.session.expose("meter_f3", "smart_meter", meter, register_map=meter.register_map)
    return served, relay, meter


def client_for(served: ServedWorld) -> ModbusTcpClient:
    client = ModbusTcpClient("127.0.0.1", port=served.port_of("relay_cb"), timeout=3)
    assert client.connect()
    return client


def test_unlisted_points_answer_01_or_02_and_the_trip_coil_stays_untouched(tmp_path):
    served, relay, meter = relay_and_meter(tmp_path, writable={"relay_cb": ["close_command"]})
    with served:
        client = client_for(served)
        relay_unit, meter_unit = served.unit_of("relay_cb"), served.unit_of("meter_f3")
        trip = client.write_coil(0, True, device_id=relay_unit)  # trip_command: not listed
        assert trip.isError() and trip.exception_code == 2
        close = client.write_coil(1, True, device_id=relay_unit)  # close_command: listed
        assert not close.isError()
        settings_write = client.write_register(0, 300, device_id=relay_unit)  # pickup_51_a: not listed
        assert settings_write.isError() and settings_write.exception_code == 2
        several = client.write_coils(0, [False, True], device_id=relay_unit)  # one listed, one not
        assert several.isError() and several.exception_code == 2
        switch = client.write_coil(0, False, device_id=meter_unit)  # the meter lists nothing: 01
        assert switch.isError() and switch.exception_code == 1
        register = client.write_register(0, 60, device_id=meter_unit)
        assert register.isError() and register.exception_code == 1
        reading = client.read_discrete_inputs(0, count=1, device_id=relay_unit)  # reads are not affected
        assert not reading.isError() and reading.bits[0] is True  # breaker still closed
        client.close()
    assert served.world.service("grid").measurements().switch_closed("feeder_cb") is True
    assert relay.get("pickup_51_a") == 600 and meter.get("service_connected") is True


def test_allow_all_writes_lets_a_master_trip_the_breaker(tmp_path):
    served, relay, _ = relay_and_meter(tmp_path, allow_all_writes=True)
    with served:
        client = client_for(served)
        unit = served.unit_of("relay_cb")
        assert not client.write_coil(0, True, device_id=unit).isError()
        assert wait_until(lambda: client.read_discrete_inputs(0, count=1, device_id=unit).bits[0] is False, 10.0)
        pickup = client.write_register(0, 300, device_id=unit)  # protection settings keep their own switch
        assert pickup.isError() and pickup.exception_code == 2
        client.close()
    assert "allow_all_writes" in served.session.stream.getvalue()
    assert served.world.service("grid").measurements().switch_closed("feeder_cb") is False


@pytest.mark.parametrize("writable, message", [
    ({"relay_cb": ["no_such_point"]}, "no point 'no_such_point'"),
    ({"relay_cb": ["breaker_closed"]}, "'breaker_closed' is read-only"),
])
def test_a_bench_listing_what_the_device_cannot_write_is_refused(tmp_path, writable, message):
    served = ServedWorld(tmp_path, settings(modbus={"writable": writable}))
    relay = bench_relay(served.world)
    with pytest.raises(HilError, match=message):
        served.session.expose("relay_cb", "protective_relay", relay, register_map=relay.register_map)
    served.world.recorder.close(status="test")
