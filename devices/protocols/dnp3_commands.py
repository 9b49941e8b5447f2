"""What a DNP3 control does to a device: a CROB or analog output turned into a write through the device's store.

Every command goes through the point store's master write of a named point
(``write_point``), so DNP3 and Modbus enforce one set of rules, and the refusal
maps to the DNP3 command status (IEEE 1815-2012, Table 11-13):

* a command the device does not take in its present mode (``Refusal.WRONG_STATE``, e.g. a capacitor
  bank in automatic) -> AUTOMATION_INHIBIT;
* a read-only point, or a protection setting while remote changes are off -> NOT_AUTHORIZED;
* a value outside the point's limits, one that does not encode, or a combination the device refuses
  -> OUT_OF_RANGE.

A CROB's meaning depends on the control's mode (see :mod:`.dnp3_points`);
a combination the control does not offer is NOT_SUPPORTED, as is an index
beyond the map. A count of 0 means "do not operate" and succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass

from cosim.comm.dnp3 import AnalogOutput, CommandStatus, Crob, OpType, TripClose
from devices.encoding import EncodingError
from devices.pointstore import Refusal, WriteRefused
from devices.protocols.dnp3_points import ControlMode, ControlPoint, Dnp3PointMap
from devices.registerstore import RegisterStore

_STATUS_OF_REFUSAL = {Refusal.NOT_WRITABLE: CommandStatus.NOT_AUTHORIZED, Refusal.LOCKED: CommandStatus.NOT_AUTHORIZED,
                      Refusal.OUT_OF_RANGE: CommandStatus.OUT_OF_RANGE, Refusal.REFUSED: CommandStatus.OUT_OF_RANGE,
                      Refusal.WRONG_STATE: CommandStatus.AUTOMATION_INHIBIT}


def crob_target(control: ControlPoint, crob: Crob) -> tuple[str, float] | None:
    """The store point and value a CROB drives on ``control``, or None (NOT_SUPPORTED)."""
    close = crob.trip_close == TripClose.CLOSE or (crob.trip_close == TripClose.NUL and crob.op_type == OpType.LATCH_ON)
    trip = crob.trip_close == TripClose.TRIP or (crob.trip_close == TripClose.NUL and crob.op_type == OpType.LATCH_OFF)
    if crob.op_type in (OpType.NUL, OpType.PULSE_OFF) or (crob.op_type == OpType.LATCH_ON and trip) \
            or (crob.op_type == OpType.LATCH_OFF and close):
        return None
    plain_pulse = crob.op_type == OpType.PULSE_ON and crob.trip_close == TripClose.NUL
    if control.mode is ControlMode.PULSE:
        return (control.close, 1.0) if plain_pulse else None
    if control.mode is ControlMode.LATCH:
        if plain_pulse:
            return None
        return (control.close, 1.0) if close else (control.close, 0.0) if trip else None
    if close or plain_pulse:
        return control.close, 1.0
    if trip and control.trip is not None:
        return control.trip, 1.0
    return None


@dataclass(frozen=True)
class Commands:
    """The controls and analog outputs of one device's DNP3 map, over its store."""

    points: Dnp3PointMap
    store: RegisterStore

    def command(self, index: int, obj: object, execute: bool) -> tuple[CommandStatus, bool]:
        """(status, whether the store was written) of a CROB or analog output at ``index``; ``execute`` False checks
        only (a SELECT)."""
        if isinstance(obj, Crob):
            if index >= len(self.points.controls):
                return CommandStatus.NOT_SUPPORTED, False
            target = crob_target(self.points.controls[index], obj)
            if target is None:
                return CommandStatus.NOT_SUPPORTED, False
            if obj.count == 0 or not execute:
                return CommandStatus.SUCCESS, False
            return self._write(*target), True
        if isinstance(obj, AnalogOutput):
            if index >= len(self.points.analog_outputs):
                return CommandStatus.NOT_SUPPORTED, False
            name = self.points.analog_outputs[index].point
            point = self.store.register_map.point(name)
            value = obj.value * point.scale
            if (point.minimum is not None and value < point.minimum) or (point.maximum is not None and value > point.maximum):
                return CommandStatus.OUT_OF_RANGE, False
            if not execute:
                return CommandStatus.SUCCESS, False
            return self._write(name, value), True
        return CommandStatus.NOT_SUPPORTED, False

    def _write(self, name: str, value: float) -> CommandStatus:
        try:
            self.store.write_point(name, value)
        except EncodingError:
            return CommandStatus.OUT_OF_RANGE
        except WriteRefused as refused:
            return _STATUS_OF_REFUSAL[refused.refusal]
        return CommandStatus.SUCCESS
