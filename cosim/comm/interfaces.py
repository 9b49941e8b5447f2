"""The endpoint interfaces device and application code program against.

They are the same whether the scenario picks the simulated network or (for
hardware in the loop) a real socket or broker. Methods that talk over the
network are SimPy generators: call them with ``yield from`` inside a process
and they return after the simulated (or paced real) time the exchange took::

    values = yield from client.read_holding_registers(unit_id=1, address=0, count=4)

The seam under a Modbus client is :class:`ModbusTransport`, one method that
moves request bytes out and response bytes back; the codec and retry logic
above it are shared by every transport.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Callable, Generator, Protocol, Sequence

from .modbus.datamodel import RegisterBank

Gen = Generator[Any, Any, Any]


class ModbusTransport(Protocol):
    """Moves one Modbus TCP ADU to a server and brings back its answer."""

    def exchange(self, adu: bytes, timeout_s: float | None) -> Generator[Any, Any, bytes | None]:
        """Send ``adu``; return the response ADU with the same transaction id, or None.

        None means no answer within ``timeout_s`` seconds (of the World's
        clock). With ``timeout_s=None`` nothing is awaited (broadcast) and
        None is returned once the request is sent.
        """
        ...


class ModbusClient(Protocol):
    """A Modbus master bound to one server. Raises ModbusError (exception response),
    ModbusTimeoutError (no answer after retries) or ModbusResponseError (answer does not fit)."""

    def read_coils(self, unit_id: int, address: int, count: int) -> Generator[Any, Any, list[int]]: ...
    def read_discrete_inputs(self, unit_id: int, address: int, count: int) -> Generator[Any, Any, list[int]]: ...
    def read_holding_registers(self, unit_id: int, address: int, count: int) -> Generator[Any, Any, list[int]]: ...
    def read_input_registers(self, unit_id: int, address: int, count: int) -> Generator[Any, Any, list[int]]: ...
    def write_coil(self, unit_id: int, address: int, value: bool) -> Generator[Any, Any, None]: ...
    def write_register(self, unit_id: int, address: int, value: int) -> Generator[Any, Any, None]: ...
    def write_coils(self, unit_id: int, address: int, values: Sequence[int]) -> Generator[Any, Any, None]: ...
    def write_registers(self, unit_id: int, address: int, values: Sequence[int]) -> Generator[Any, Any, None]: ...


class ModbusServerEndpoint(Protocol):
    """Where a device puts its register store on the network."""

    def add_unit(self, unit_id: int, bank: RegisterBank, default: bool = False) -> None: ...


class QoS(enum.IntEnum):
    AT_MOST_ONCE = 0
    AT_LEAST_ONCE = 1
    EXACTLY_ONCE = 2


@dataclass(frozen=True)
class MqttMessage:
    """An application message as a subscriber receives it.

    ``dup`` is True when this copy was retransmitted (it may be a duplicate
    of one already handed over); ``retain`` is True when it comes from the
    broker's retained store at subscription time.
    """

    topic: str
    payload: bytes
    qos: QoS
    retain: bool = False
    dup: bool = False


MessageHandler = Callable[[MqttMessage], None]


class MqttClient(Protocol):
    """An MQTT 3.1.1 client (QoS 0, 1 and 2). Handlers run at delivery time and must not block.

    A message matching none of the handlers (one queued in a persistent
    session this client object took over, for a subscription another object
    made) goes to ``on_message`` when set, as paho's ``on_message`` does.
    """

    client_id: str

    def connect(self) -> Generator[Any, Any, bool]:
        """Connect (retrying until a CONNACK arrives); returns session_present."""
        ...

    def subscribe(self, topic_filter: str, qos: QoS, handler: MessageHandler) -> Generator[Any, Any, QoS]:
        """Subscribe; ``handler`` gets each matching message. Returns the granted QoS."""
        ...

    def unsubscribe(self, topic_filter: str) -> Generator[Any, Any, None]:
        """Unsubscribe (returns at UNSUBACK) and forget the filter's handler."""
        ...

    def publish(self, topic: str, payload: bytes, qos: QoS = QoS.AT_MOST_ONCE,
                retain: bool = False) -> Generator[Any, Any, None]:
        """Publish; QoS 1 returns at PUBACK (retransmitting with DUP), QoS 2 at PUBCOMP."""
        ...

    def disconnect(self) -> Generator[Any, Any, None]:
        """Clean disconnect: the broker discards the will."""
        ...
