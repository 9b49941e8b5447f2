"""The smart meter's MQTT payloads: interval data and outage events, one encode/decode each.

A :class:`~devices.field.meter.SmartMeterDevice` publishes ``<topic>/interval``
at the end of each interval and ``<topic>/event`` when its bus loses or
regains voltage; a head-end or a retail biller decodes them here, so no
consumer reads a dict by string keys. JSON (compact separators), the fields
in the order below; ``decode`` raises :class:`MeterMessageError` for a
payload that is not one (missing field, wrong type, non-finite energy).

Pure records; nothing here knows SimPy, comm or the grid.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any


class MeterMessageError(ValueError):
    """A meter payload that is not valid JSON of the documented shape."""


@dataclasses.dataclass(frozen=True)
class MeterInterval:
    """``<topic>/interval``: energy of one interval [start_s, end_s) (simulated s); kWh and kW to 4 decimals.

    ``v_min``/``v_max`` are the lowest and highest voltage (V) sampled in the
    interval, None when none was.
    """

    meter: str
    start_s: float
    end_s: float
    import_kwh: float
    export_kwh: float
    import_total_kwh: float
    avg_kw: float
    v_min: float | None = None
    v_max: float | None = None

    def encode(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, payload: bytes) -> MeterInterval:
        data = _json_object(payload, "interval")
        try:
            reading = cls(str(data["meter"]), float(data["start_s"]), float(data["end_s"]), float(data["import_kwh"]),
                          float(data["export_kwh"]), float(data["import_total_kwh"]), float(data["avg_kw"]),
                          _volts(data.get("v_min")), _volts(data.get("v_max")))
        except (KeyError, TypeError, ValueError) as error:
            raise MeterMessageError(f"bad meter interval: {error!r}") from None
        if not all(math.isfinite(v) for v in (reading.start_s, reading.end_s, reading.import_kwh, reading.export_kwh)):
            raise MeterMessageError("bad meter interval: times and energies must be finite")
        return reading


@dataclasses.dataclass(frozen=True)
class MeterEvent:
    """``<topic>/event``: the meter's bus lost (``outage``) or regained (``restoration``) voltage at ``time_s``."""

    meter: str
    event: str
    time_s: float

    def encode(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, payload: bytes) -> MeterEvent:
        data = _json_object(payload, "event")
        try:
            message = cls(str(data["meter"]), str(data["event"]), float(data["time_s"]))
        except (KeyError, TypeError, ValueError) as error:
            raise MeterMessageError(f"bad meter event: {error!r}") from None
        if message.event not in ("outage", "restoration"):
            raise MeterMessageError(f"bad meter event: {message.event!r} is neither outage nor restoration")
        return message


def _json_object(payload: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise MeterMessageError(f"bad meter {what}: {error}") from None
    if not isinstance(data, dict):
        raise MeterMessageError(f"bad meter {what}: not a JSON object")
    return data


def _volts(value: Any) -> float | None:
    return None if value is None else float(value)
