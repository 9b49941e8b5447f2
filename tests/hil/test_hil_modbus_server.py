"""The Modbus TCP server edge: same answers as the simulated server, unit-id rules, safe defaults, fuzz."""

from __future__ import annotations

import random
import socket
import struct


from cosim.comm.modbus.server import ModbusServer
from cosim.hil.bridge import IoThread, SimInbox
from cosim.hil.modbus_tcp import ModbusTcpServer
from cosim.hil.session import ProtectionGuard, WriteGuard, allowed_points
from devices.registermaps import DeviceKind, standard_map
from devices.registerstore import RegisterStore

from hiltools import ServedWorld, Wire, adu, settings


def two_device_bench(tmp_path, **hil):
    served = ServedWorld(tmp_path, settings(**hil))
    meter = RegisterStore(standard_map(DeviceKind.SMART_METER))
    relay = RegisterStore(standard_map(DeviceKind.PROTECTIVE_RELAY), protection_writes_allowed=True)
    served.session.expose("a_meter", "smart_meter", meter, register_map=meter.register_map)
    served.session.expose("b_relay", "protective_relay", relay, register_map=relay.register_map)
    return served, meter, relay


def test_gateway_unit_ids_broadcast_and_self(tmp_path):
    served, meter, relay = two_device_bench(tmp_path)
    with served:
        wire = Wire(served.port_of("a_meter"), timeout_s=0.5)
        read_hr0 = b"\x03\x00\x00\x00\x01"
        assert wire.ask(adu(1, 1, read_hr0))[7:] == b"\x03\x02\x03\x84"  # meter demand interval 900 s
        assert wire.ask(adu(2, 2, read_hr0))[7:] == b"\x03\x02\x02\x58"  # relay pickup 600 A
        assert wire.ask(adu(3, 9, read_hr0))[7:] == b"\x83\x0b"          # no such unit: gateway 0B
        assert wire.ask(adu(4, 0xFF, read_hr0))[7:] == b"\x83\x0b"       # two units, no default: 0B
        assert wire.ask(adu(5, 0, b"\x05\x00\x00\x00\x00")) is None      # broadcast write: no answer
        wire.close()
    assert meter.get("service_connected") is True                        # ...and not applied (docs/hil.md)
    assert relay.get("trip_command") is False


def test_protection_settings_are_locked_for_real_masters_unless_the_bench_allows(tmp_path):
    write_pickup = b"\x06\x00\x00\x01\x00"  # relay pickup_51_a := 256 A
    listed = {"writable": {"b_relay": ["trip_command", "pickup_51_a"]}}
    served, _, relay = two_device_bench(tmp_path, modbus=listed)
    with served:
        wire = Wire(served.port_of("b_relay"))
        assert wire.ask(adu(1, 2, write_pickup))[7:] == b"\x86\x02"
        assert wire.ask(adu(2, 2, b"\x05\x00\x00\xff\x00"))[7:] == b"\x05\x00\x00\xff\x00"  # trip command is not a setting
        wire.close()
    assert relay.get("pickup_51_a") == 600
    served, _, relay = two_device_bench(tmp_path / "allowed", modbus={"allow_protection_writes": True, **listed})
    with served:
        wire = Wire(served.port_of("b_relay"))
        assert wire.ask(adu(1, 2, write_pickup))[7:] == write_pickup
        wire.close()
    assert relay.get("pickup_51_a") == 256


def test_full_inbox_answers_busy_without_touching_the_simulation():
    # No SimPy thread drains this inbox: the first request waits in it, the second finds it full.
    io, inbox = IoThread().start(), SimInbox(capacity=1)
    store = RegisterStore(standard_map(DeviceKind.SMART_METER))
    server = ModbusServer()
    server.add_unit(1, store)
    edge = ModbusTcpServer(server, io, inbox)
    try:
        port = edge.start()
        first, second = Wire(port, timeout_s=0.3), Wire(port)
        first.sock.sendall(adu(1, 1, b"\x04\x00\x00\x00\x01"))
        assert second.ask(adu(7, 1, b"\x04\x00\x00\x00\x01"))[7:] == b"\x84\x06"
        assert server.counters.requests == 0 and edge.counters.busy == 1
        first.close(), second.close()
    finally:
        edge.stop()
        io.stop()


FUNCTIONS = [1, 2, 3, 4, 5, 6, 15, 16, 7, 8, 17, 43, 0x55, 0x81]


def random_request(rng: random.Random, tid: int) -> bytes:
    fc = rng.choice(FUNCTIONS)
    unit = rng.choice([1, 1, 2, 2, 0xFF, 9])
    address = rng.choice([0, 1, 5, 13, 20, 21, 22, 100, 0xFFFF, rng.randrange(0x10000)])
    count = rng.choice([0, 1, 2, 3, 8, 125, 126, 2000, 2001, rng.randrange(0x10000)])
    if fc in (1, 2, 3, 4):
        body = struct.pack(">HH", address, count)
    elif fc == 5:
        body = struct.pack(">HH", address, rng.choice([0xFF00, 0x0000, 0x1234]))
    elif fc == 6:
        body = struct.pack(">HH", address, rng.randrange(0x10000))
    elif fc in (15, 16):
        n = rng.choice([0, 1, 2, 4, 124, rng.randrange(1, 30)])
        data = bytes(rng.randrange(256) for _ in range(rng.choice([n * 2, (n + 7) // 8, n, 0])))
        body = struct.pack(">HHB", address, n, len(data) if rng.random() < 0.8 else rng.randrange(256)) + data
    else:
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 12)))
    return adu(tid, unit, bytes([fc]) + body[:252])


def test_fuzz_answers_like_the_simulated_server_and_survives_garbage(tmp_path):
    rng = random.Random(20261122)
    served, _, _ = two_device_bench(tmp_path, modbus={"writable": {"b_relay": ["trip_command", "close_command"]}})
    twin = ModbusServer()  # the simulated server's core, with identical stores, guarded as the bench serves them
    twin.add_unit(1, WriteGuard(RegisterStore(standard_map(DeviceKind.SMART_METER)), "a_meter", []))
    twin_relay = RegisterStore(standard_map(DeviceKind.PROTECTIVE_RELAY), protection_writes_allowed=True)
    commands = allowed_points("b_relay", twin_relay.register_map, ["trip_command", "close_command"])
    twin.add_unit(2, WriteGuard(ProtectionGuard(twin_relay, twin_relay.register_map), "b_relay", commands))
    seen_codes: set[int] = set()
    with served:
        port = served.port_of("a_meter")
        wire = Wire(port)
        for tid in range(1, 601):  # well-formed frames, legal or not
            frame = random_request(rng, tid)
            expected = twin.handle(frame)
            if expected is None:
                continue  # the twin would not answer (no unit-0 frames are generated)
            answer = wire.ask(frame)
            assert answer == expected, frame.hex()
            if answer[7] & 0x80:
                seen_codes.add(answer[8])
        wire.close()
        for _ in range(150):  # garbage, each on its own connection: the server may hang up, never crash
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
                try:
                    sock.recv(300)
                except (socket.timeout, ConnectionError):
                    pass
        wire = Wire(port)
        assert wire.ask(adu(9, 1, b"\x03\x00\x00\x00\x01"))[7:9] == b"\x03\x02"  # still serving
        wire.close()
    assert {0x01, 0x02, 0x03, 0x0B} <= seen_codes
