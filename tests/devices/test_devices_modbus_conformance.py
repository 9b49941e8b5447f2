"""Device register stores behind the comm layer's sans-IO Modbus server: golden frames as hex."""

import pytest

from cosim.comm.modbus.server import ModbusServer
from devices.registermaps import DeviceKind, standard_map
from devices.registerstore import RegisterStore


def serve(kind, **store_options):
    store = RegisterStore(standard_map(kind), **store_options)
    server = ModbusServer()
    server.add_unit(1, store)
    return server, store


@pytest.mark.parametrize(
    ("kind", "request_hex", "response_hex"),
    [
        # SunSpec marker: read 2 holding registers at 40000 (0x9C40) -> 'SunS'
        (DeviceKind.DER_INVERTER, "0001 0000 0006 01 03 9C40 0002", "0001 0000 0007 01 03 04 5375 6E53"),
        # Coils 0..2 exist; 16 coils would be 0..15: exception 02, no padding to 16
        (DeviceKind.PROTECTIVE_RELAY, "0002 0000 0006 01 01 0000 0010", "0002 0000 0003 01 81 02"),
        # Protection setting pickup_51_a while remote setting changes are off: 02
        (DeviceKind.PROTECTIVE_RELAY, "0003 0000 0006 01 06 0000 0320", "0003 0000 0003 01 86 02"),
        # Half of the 32-bit demand_limit_w: 03
        (DeviceKind.ESI_GATEWAY, "0004 0000 0006 01 06 0000 0001", "0004 0000 0003 01 86 03"),
        # Demand interval 7200 s is above its 3600 s limit: 03
        (DeviceKind.SMART_METER, "0005 0000 0006 01 06 0000 1C20", "0005 0000 0003 01 86 03"),
    ],
)
def test_golden_frames(kind, request_hex, response_hex):
    server, _ = serve(kind)
    assert server.handle(bytes.fromhex(request_hex)).hex() == bytes.fromhex(response_hex).hex()


def test_a_coil_write_reaches_the_device_callback():
    server, store = serve(DeviceKind.PROTECTIVE_RELAY)
    commands = []
    store.on_write("trip_command", lambda point, value: commands.append(value))
    request = bytes.fromhex("0006 0000 0006 01 05 0000 FF00")
    assert server.handle(request) == request  # write single coil echoes the request
    assert commands == [True]
