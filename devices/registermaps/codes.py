"""Enumerations carried in registers, as data: the integer a master writes and what it selects.

Used by the relay and recloser maps (curve selection) and by the devices that
turn a setting register back into a :class:`~devices.protection.curves.Curve`.
"""

from types import MappingProxyType
from typing import Mapping

from devices.protection.curves import Curve
from devices.protection.directional import Direction
from devices.protection.overcurrent import ResetMode

CURVE_CODES: Mapping[int, Curve] = MappingProxyType(
    {
        1: Curve.IEEE_MODERATELY_INVERSE,
        2: Curve.IEEE_VERY_INVERSE,
        3: Curve.IEEE_EXTREMELY_INVERSE,
        4: Curve.IEC_STANDARD_INVERSE,
        5: Curve.IEC_VERY_INVERSE,
        6: Curve.IEC_EXTREMELY_INVERSE,
        7: Curve.IEC_LONG_TIME_INVERSE,
    }
)

RESET_MODE_CODES: Mapping[int, ResetMode] = MappingProxyType(
    {0: ResetMode.INSTANTANEOUS, 1: ResetMode.ELECTROMECHANICAL}
)


DIRECTION_CODES: Mapping[int, Direction] = MappingProxyType({d.value: d for d in Direction})


def describe(codes: Mapping[int, Curve] | Mapping[int, ResetMode] | Mapping[int, Direction]) -> str:
    """``1 IEEE moderately inverse, 2 ...`` for point descriptions and docs."""
    names = {code: item.curve.name if isinstance(item, Curve)
             else item.name.lower().replace("_", "-") if isinstance(item, Direction) else item.value
             for code, item in codes.items()}
    return ", ".join(f"{code} {name}" for code, name in names.items())
