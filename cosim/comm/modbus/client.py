"""The Modbus master: requests, transaction ids, per-request timeout and retries over any transport.

Each attempt gets a fresh transaction id (1..65535, wrapping), so a late
answer to an abandoned attempt can never be taken for the answer to a later
one. Timeouts and retries are in simulated seconds of the transport's clock.
"""

from __future__ import annotations

from typing import Any, Generator, Sequence

from ..errors import ModbusResponseError, ModbusTimeoutError
from ..interfaces import ModbusTransport
from .codec import FunctionCode, MalformedFrame, Request, decode_response, encode_request
from .datamodel import ModbusError
from .server import BROADCAST_UNIT


class ModbusMaster:
    """Implements :class:`cosim.comm.interfaces.ModbusClient` over a :class:`ModbusTransport`."""

    def __init__(self, transport: ModbusTransport, timeout_s: float = 1.0, retries: int = 2) -> None:
        if timeout_s <= 0 or retries < 0:
            raise ValueError("timeout_s must be > 0 and retries >= 0")
        self.transport = transport
        self.timeout_s = timeout_s
        self.retries = retries
        self._tid = 0
        self.attempts = 0
        self.timeouts = 0

    def _next_tid(self) -> int:
        self._tid = self._tid % 0xFFFF + 1
        return self._tid

    def execute(self, function: FunctionCode, unit_id: int, address: int, count: int,
                values: Sequence[int] = ()) -> Generator[Any, Any, tuple[int, ...]]:
        """Send one request (with retries) and return the values of its response.

        Unit 0 is broadcast: the request is sent once and nothing is awaited.
        Raises ModbusError, ModbusTimeoutError or ModbusResponseError.
        """
        values = tuple(int(v) for v in values)
        if unit_id == BROADCAST_UNIT:
            if function.is_read:
                raise ValueError("reads cannot be broadcast (unit_id 0)")
            request = Request(self._next_tid(), unit_id, function, address, count, values)
            yield from self.transport.exchange(encode_request(request), None)
            return ()
        for _attempt in range(self.retries + 1):
            request = Request(self._next_tid(), unit_id, function, address, count, values)
            self.attempts += 1
            answer = yield from self.transport.exchange(encode_request(request), self.timeout_s)
            if answer is None:
                self.timeouts += 1
                continue
            try:
                response = decode_response(answer, request)
            except MalformedFrame as exc:
                raise ModbusResponseError(str(exc)) from None
            if response.exception is not None:
                raise ModbusError(response.exception, f"unit {unit_id} answered")
            return response.values
        raise ModbusTimeoutError(unit_id, int(function), self.retries + 1, self.timeout_s)

    # -- the ModbusClient interface -------------------------------------------------
    def read_coils(self, unit_id: int, address: int, count: int) -> Generator[Any, Any, list[int]]:
        return list((yield from self.execute(FunctionCode.READ_COILS, unit_id, address, count)))

    def read_discrete_inputs(self, unit_id: int, address: int, count: int) -> Generator[Any, Any, list[int]]:
        return list((yield from self.execute(FunctionCode.READ_DISCRETE_INPUTS, unit_id, address, count)))

    def read_holding_registers(self, unit_id: int, address: int, count: int) -> Generator[Any, Any, list[int]]:
        return list((yield from self.execute(FunctionCode.READ_HOLDING_REGISTERS, unit_id, address, count)))

    def read_input_registers(self, unit_id: int, address: int, count: int) -> Generator[Any, Any, list[int]]:
        return list((yield from self.execute(FunctionCode.READ_INPUT_REGISTERS, unit_id, address, count)))

    def write_coil(self, unit_id: int, address: int, value: bool) -> Generator[Any, Any, None]:
        yield from self.execute(FunctionCode.WRITE_SINGLE_COIL, unit_id, address, 1, (1 if value else 0,))

    def write_register(self, unit_id: int, address: int, value: int) -> Generator[Any, Any, None]:
        yield from self.execute(FunctionCode.WRITE_SINGLE_REGISTER, unit_id, address, 1, (value,))

    def write_coils(self, unit_id: int, address: int, values: Sequence[int]) -> Generator[Any, Any, None]:
        yield from self.execute(FunctionCode.WRITE_MULTIPLE_COILS, unit_id, address, len(values), values)

    def write_registers(self, unit_id: int, address: int, values: Sequence[int]) -> Generator[Any, Any, None]:
        yield from self.execute(FunctionCode.WRITE_MULTIPLE_REGISTERS, unit_id, address, len(values), values)
