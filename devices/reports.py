"""The report-by-exception message: what a field device says, unasked, when points of its model changed.

One typed record with one encode/decode, shared by the device that sends it
(:mod:`devices.field.reporting`) and the SCADA master that receives it
(:mod:`cosim.operations.scada`). It carries engineering values of named
points of the device's point model (the same names as its register map), the
simulated time the device took them, and a per-device sequence number, so a
receiver can drop a copy it already applied or a report older than what a
poll told it. The wire form is compact UTF-8 JSON (an MQTT payload today; a
DNP3 unsolicited response would carry the same record in its own framing).

A payload that is not a valid report raises :class:`ReportDecodeError` (a
``ValueError``): the receiver logs and drops it, the run goes on.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import Enum

from devices.registermap import Value


class ReportMode(Enum):
    """How a device informs masters; chosen per device in the scenario (``params.reporting.mode``)."""

    POLL = "poll"      # nothing unasked: masters scan
    RBE = "rbe"        # status at once, analogs beyond their deadband: masters need only integrity polls
    MIXED = "mixed"    # status at once, analogs left to the master's scan


class ReportCause(Enum):
    """Why the device sent the report."""

    CHANGE = "change"        # a status point changed, or an analog moved beyond its deadband
    STARTUP = "startup"      # the device's first values after it started reporting


class ReportDecodeError(ValueError):
    """The payload is not a report (bad JSON, a missing or mistyped field)."""


@dataclass(frozen=True)
class PointReport:
    """Points of one device that changed, as the device measured them at ``time_s`` (simulated s)."""

    device: str
    time_s: float
    sequence: int
    cause: ReportCause
    values: tuple[tuple[str, Value], ...]

    def encode(self) -> bytes:
        return json.dumps({"device": self.device, "t": self.time_s, "seq": self.sequence, "cause": self.cause.value,
                           "values": dict(self.values)}, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, payload: bytes) -> PointReport:
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ReportDecodeError(f"not JSON: {error}") from None
        if not isinstance(data, dict):
            raise ReportDecodeError("a report is a JSON object")
        device, time_s, sequence, cause, values = (data.get(k) for k in ("device", "t", "seq", "cause", "values"))
        if not isinstance(device, str) or not device:
            raise ReportDecodeError("device: a non-empty string is required")
        if isinstance(time_s, bool) or not isinstance(time_s, (int, float)) or not math.isfinite(time_s) or time_s < 0:
            raise ReportDecodeError("t: a finite time >= 0 s is required")
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
            raise ReportDecodeError("seq: an integer >= 0 is required")
        try:
            report_cause = ReportCause(cause)
        except ValueError:
            raise ReportDecodeError(f"cause: one of {', '.join(c.value for c in ReportCause)}") from None
        if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
            raise ReportDecodeError("values: an object of point name -> value is required")
        for name, value in values.items():
            if not isinstance(value, (bool, int, float, str)):
                raise ReportDecodeError(f"values.{name}: a number, boolean or string is required")
        return cls(device, float(time_s), sequence, report_cause, tuple(values.items()))
