"""Modbus over the simulated network: a per-node port and the simulated transport.

A node's :class:`ModbusPort` receives every ``modbus`` message for that node:
requests go to its :class:`ModbusServer` (if a device registered banks there)
and the response ADU is sent back to the requester after ``response_delay_s``;
responses wake the :class:`SimModbusTransport` waiting for that
(server node, transaction id). Payloads on the network are the ADU bytes, so
the trace shows them as hex.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generator

import simpy
from simpy.events import Timeout

from .client import ModbusMaster
from .server import ModbusServer

if TYPE_CHECKING:
    from ..network import CommNetwork, Message

PROTOCOL = "modbus"


class ModbusPort:
    """The Modbus endpoint of one node: its server (if any) and the client exchanges in progress."""

    def __init__(self, network: CommNetwork, node_id: str, response_delay_s: float = 0.0) -> None:
        self.network = network
        self.node_id = node_id
        self.response_delay_s = response_delay_s
        self.server = ModbusServer()
        self._pending: dict[tuple[str, int], simpy.Event] = {}
        self.late_responses = 0
        network.attach(node_id, PROTOCOL, self._on_message)

    @staticmethod
    def of(network: CommNetwork, node_id: str) -> "ModbusPort":
        """The port of ``node_id``, created on first use."""
        key = f"modbus/{node_id}"
        port = network.services.get(key)
        if port is None:
            port = network.services[key] = ModbusPort(network, node_id)
        return port

    def _on_message(self, msg: Message) -> None:
        adu: bytes = msg.payload
        if msg.kind == "request":
            answer = self.server.handle(adu)
            if self.server.last_error:
                msg.reason = self.server.last_error
            if answer is None:
                return
            if self.response_delay_s > 0:
                event = Timeout(self.network.env, self.response_delay_s, (msg.src, answer))
                event.callbacks.append(self._send_later)
            else:
                self.network.send(self.node_id, msg.src, PROTOCOL, answer, len(answer), kind="response")
            return
        tid = int.from_bytes(adu[0:2], "big") if len(adu) >= 2 else -1
        waiter = self._pending.pop((msg.src, tid), None)
        if waiter is None or waiter.triggered:
            self.late_responses += 1
            msg.reason = "late_response"
            return
        waiter.succeed(adu)

    def _send_later(self, event: simpy.Event) -> None:
        dst, answer = event._value
        self.network.send(self.node_id, dst, PROTOCOL, answer, len(answer), kind="response")

    def exchange(self, server_node: str, adu: bytes, timeout_s: float | None) -> Generator[Any, Any, bytes | None]:
        env = self.network.env
        self.network.send(self.node_id, server_node, PROTOCOL, adu, len(adu), kind="request")
        if timeout_s is None:
            return None
        key = (server_node, int.from_bytes(adu[0:2], "big"))
        waiter = env.event()
        self._pending[key] = waiter
        timer = Timeout(env, timeout_s)
        timer.callbacks.append(lambda _e: self._expire(key, waiter))
        answer: bytes | None = yield waiter
        return answer

    def _expire(self, key: tuple[str, int], waiter: simpy.Event) -> None:
        if not waiter.triggered:
            if self._pending.get(key) is waiter:
                del self._pending[key]
            waiter.succeed(None)


class SimModbusTransport:
    """:class:`cosim.comm.interfaces.ModbusTransport` from one node to one server node."""

    def __init__(self, network: CommNetwork, node_id: str, server_node: str) -> None:
        if server_node not in network.nodes:
            raise ValueError(f"unknown server node {server_node!r}")
        self.port = ModbusPort.of(network, node_id)
        self.server_node = server_node

    def exchange(self, adu: bytes, timeout_s: float | None) -> Generator[Any, Any, bytes | None]:
        return (yield from self.port.exchange(self.server_node, adu, timeout_s))


def modbus_server(network: CommNetwork, node_id: str, response_delay_s: float | None = None) -> ModbusServer:
    """The Modbus server at ``node_id``; devices call ``.add_unit(unit_id, bank)`` on it."""
    port = ModbusPort.of(network, node_id)
    if response_delay_s is not None:
        port.response_delay_s = response_delay_s
    return port.server


def modbus_client(network: CommNetwork, node_id: str, server_node: str, timeout_s: float = 1.0,
                  retries: int = 2) -> ModbusMaster:
    """A Modbus master at ``node_id`` talking to the server at ``server_node``.

    One master per (node, server) pair, since the pair shares one transaction
    id space: asking again returns the same master.
    """
    key = f"modbus-master/{node_id}/{server_node}"
    master = network.services.get(key)
    if master is None:
        master = network.services[key] = ModbusMaster(SimModbusTransport(network, node_id, server_node),
                                                      timeout_s, retries)
    return master
