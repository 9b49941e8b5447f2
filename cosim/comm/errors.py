"""Exceptions raised to code that talks over the network, split by what the caller can do.

::

    CommError                    base: a conversation over the network failed
    ├── ModbusTimeoutError       no response after every retry (lost, link down, no route)
    ├── ModbusResponseError      a response arrived that does not answer the request
    └── MqttError                an MQTT operation could not complete (not connected, ...)

A refused Modbus request raises :class:`cosim.comm.modbus.datamodel.ModbusError`
carrying the exception code from the wire. None of these end a run: they are
simulation outcomes the application decides about (retry later, alarm, ...).
"""

from __future__ import annotations


class CommError(Exception):
    """A conversation over the communication network failed."""


class ModbusTimeoutError(CommError):
    """No Modbus response within the timeout, after all retries."""

    def __init__(self, unit_id: int, function_code: int, attempts: int, timeout_s: float) -> None:
        super().__init__(f"unit {unit_id} function {function_code:#04x}: no response after "
                         f"{attempts} attempt(s) of {timeout_s} s")
        self.unit_id = unit_id
        self.function_code = function_code
        self.attempts = attempts


class ModbusResponseError(CommError):
    """A response that does not fit its request (wrong function code, bad length)."""


class MqttError(CommError):
    """An MQTT client operation could not be carried out."""
