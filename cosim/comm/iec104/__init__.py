"""IEC 60870-5-104 as a sans-IO codec: APCI framing (:mod:`.apci`), ASDUs (:mod:`.asdu`), connection state (:mod:`.connection`).

Written from IEC 60870-5-104:2006 and the ASDU definitions of
IEC 60870-5-101:2003 it refers to, for the types an RTU uses. Nothing here
opens a socket or knows simulated time; the station is
:mod:`devices.protocols.iec104_station`, the master
:mod:`cosim.operations.iec104_master`.
"""

from .apci import ApciError, IFrame, SFrame, UFrame, UFunction, describe, split
from .asdu import (
    Asdu,
    AsduError,
    Cause,
    ClockSync,
    Cp56Time,
    EndOfInit,
    InformationObject,
    Interrogation,
    SetpointFloat,
    ShortFloat,
    SingleCommand,
    SinglePoint,
    TypeId,
)
from .asdu import decode as decode_asdu, encode as encode_asdu
from .connection import Connection, Received

__all__ = ["ApciError", "Asdu", "AsduError", "Cause", "ClockSync", "Connection", "Cp56Time", "EndOfInit", "IFrame",
           "InformationObject", "Interrogation", "Received", "SFrame", "SetpointFloat", "ShortFloat", "SingleCommand",
           "SinglePoint", "TypeId", "UFrame", "UFunction", "decode_asdu", "describe", "encode_asdu", "split"]
