"""A sans-IO Modbus server: ADU bytes in, ADU bytes (or nothing) out, one RegisterBank per unit id.

Unit identifier rules (decided here, documented in docs/comm.md):

* ``1..247`` (any id a bank is registered under) address that bank. An id with
  no bank gets exception 0x0B GATEWAY_TARGET_FAILED_TO_RESPOND: the server
  behaves as a Modbus TCP gateway in front of its units (Modbus Messaging on
  TCP/IP Implementation Guide v1.0b, 4.4.2).
* ``0xFF`` addresses the server itself, "the device on this IP": its default
  bank, which is the bank registered with ``default=True``, or the only bank
  when there is just one (libmodbus and many masters send 0xFF by default).
* ``0`` is broadcast, as on a serial line (Modbus over Serial Line v1.02,
  2.1): write requests are applied to every bank and never answered; reads
  to 0 are discarded unanswered. A server built with
  ``broadcast_writes=False`` (every port served to real masters in HIL)
  applies no broadcast write at all: one FC05 to unit 0 would otherwise trip
  every breaker and switch every meter of a port at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .codec import MalformedFrame, Request, check_request, encode_exception, encode_response, parse_mbap
from .datamodel import ExceptionCode, ModbusError, RegisterBank

BROADCAST_UNIT = 0x00
SELF_UNIT = 0xFF


@dataclass
class ServerCounters:
    requests: int = 0
    responses: int = 0
    exceptions: int = 0
    malformed: int = 0
    broadcasts: int = 0
    unanswered: int = 0


@dataclass
class ModbusServer:
    """Answers Modbus TCP requests from register banks; never raises for bad input."""

    banks: dict[int, RegisterBank] = field(default_factory=dict)
    default_unit: int | None = None
    counters: ServerCounters = field(default_factory=ServerCounters)
    last_error: str = ""  # why the last request was refused or dropped (for the trace)
    broadcast_writes: bool = True  # False: a write to unit 0 is dropped, not applied to every unit

    def add_unit(self, unit_id: int, bank: RegisterBank, default: bool = False) -> None:
        """Serve ``bank`` under ``unit_id`` (1..247); ``default=True`` also makes it unit 0xFF."""
        if not 1 <= unit_id <= 247:
            raise ValueError(f"unit_id {unit_id} outside 1..247 (0 is broadcast, 0xFF this server)")
        if unit_id in self.banks:
            raise ValueError(f"unit_id {unit_id} already has a register bank")
        self.banks[unit_id] = bank
        if default:
            self.default_unit = unit_id

    def _bank_for(self, unit_id: int) -> RegisterBank | None:
        if unit_id == SELF_UNIT:
            if self.default_unit is not None:
                return self.banks[self.default_unit]
            if len(self.banks) == 1:
                return next(iter(self.banks.values()))
            return None
        return self.banks.get(unit_id)

    def handle(self, adu: bytes) -> bytes | None:
        """The response ADU to ``adu``, or None when nothing is to be sent back."""
        self.counters.requests += 1
        self.last_error = ""
        try:
            frame = parse_mbap(adu)
        except MalformedFrame as exc:
            self.counters.malformed += 1
            self.last_error = f"malformed: {exc}"
            return None
        try:
            request = check_request(frame)
            if frame.unit_id == BROADCAST_UNIT:
                self._broadcast(request)
                return None
            bank = self._bank_for(frame.unit_id)
            if bank is None:
                raise ModbusError(ExceptionCode.GATEWAY_TARGET_FAILED_TO_RESPOND, f"no unit {frame.unit_id}")
            values = self._execute(bank, request)
        except ModbusError as exc:
            if frame.unit_id == BROADCAST_UNIT:
                self.counters.unanswered += 1
                self.last_error = str(exc)
                return None
            self.counters.exceptions += 1
            self.last_error = str(exc)
            return encode_exception(frame.transaction_id, frame.unit_id, frame.function_code, exc.code)
        self.counters.responses += 1
        return encode_response(request, values)

    def _execute(self, bank: RegisterBank, request: Request) -> list[int]:
        table = request.function.table
        try:
            if request.function.is_read:
                return list(bank.read(table, request.address, request.count))
            if not table.is_writable:
                raise ModbusError(ExceptionCode.ILLEGAL_FUNCTION, f"{table.value} is read-only")
            bank.write(table, request.address, request.values)
            return []
        except ModbusError:
            raise
        except Exception as exc:  # a device bug must not end the run: it is a device failure on the wire
            raise ModbusError(ExceptionCode.SERVER_DEVICE_FAILURE, f"{type(exc).__name__}: {exc}") from exc

    def _broadcast(self, request: Request) -> None:
        self.counters.broadcasts += 1
        if request.function.is_read:
            self.counters.unanswered += 1
            self.last_error = "read broadcast to unit 0 discarded"
            return
        if not self.broadcast_writes:
            self.counters.unanswered += 1
            self.last_error = "write broadcast to unit 0 refused (address each unit)"
            return
        for bank in self.banks.values():
            try:
                self._execute(bank, request)
            except ModbusError as exc:
                self.last_error = str(exc)
