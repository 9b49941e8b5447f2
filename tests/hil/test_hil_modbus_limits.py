"""Silent or greedy clients cannot lock real masters out of a HIL Modbus port."""

from __future__ import annotations

import socket
import struct

from cosim.comm.modbus.server import ModbusServer
from cosim.hil.bridge import IoThread, SimInbox
from cosim.hil.modbus_tcp import ModbusTcpServer
from devices.registermaps import DeviceKind, standard_map
from devices.registerstore import RegisterStore


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed ``sock`` (recv sees end of stream); waits up to the socket timeout."""
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False


def test_idle_connections_are_closed_and_one_client_cannot_take_every_slot():
    io, inbox = IoThread().start(), SimInbox(capacity=8)
    server = ModbusServer()
    server.add_unit(1, RegisterStore(standard_map(DeviceKind.SMART_METER)))
    edge = ModbusTcpServer(server, io, inbox, idle_timeout_s=0.5, max_connections=4, max_connections_per_client=2)
    try:
        port = edge.start()
        silent = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2)]
        third = socket.create_connection(("127.0.0.1", port), timeout=10)
        assert closed_by_server(third)  # over this address's limit: refused at once
        assert all(closed_by_server(s) for s in silent)  # said nothing: closed after the idle timeout
        assert edge.counters.closed_idle == 2 and edge.counters.refused_connections == 1
        master = socket.create_connection(("127.0.0.1", port), timeout=10)  # the slots are free again
        master.sendall(struct.pack(">HHHB", 1, 0, 6, 1) + b"\x04\x00\x00\x00\x01")
        assert inbox.wait(10.0)  # this thread stands in for the simulation's: it runs the request
        for job in inbox.take_all():
            job()
        assert master.recv(256)[7] == 0x04
        for sock in (*silent, third, master):
            sock.close()
    finally:
        edge.stop()
        io.stop()
