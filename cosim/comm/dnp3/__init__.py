"""DNP3 (IEEE 1815-2012) as a sans-IO codec: link frames with CRC-16/DNP, transport segments, application fragments.

Layers, each one module: :mod:`.link` (frames and CRCs), :mod:`.transport`
(segmentation and reassembly), :mod:`.application` (function codes, IIN,
object headers and qualifiers), :mod:`.objects` (the data objects of subset
level 2) and :mod:`.channel` (one station's octets in and fragments out).
Nothing here opens a socket or knows simulated time.
"""

from .application import (
    AppControl,
    ApplicationError,
    FunctionCode,
    Iin,
    ObjectHeader,
    Qualifier,
    Request,
    Response,
    decode_request,
    decode_response,
)
from .channel import Dnp3Link, Received
from .link import LinkError, LinkFrame, crc_dnp, decode_frame, split_frames
from .objects import (
    AnalogInput,
    AnalogOutput,
    AnalogOutputStatus,
    BinaryInput,
    BinaryOutputStatus,
    CommandStatus,
    Crob,
    Flag,
    ObjectError,
    OpType,
    TripClose,
)

__all__ = ["AnalogInput", "AnalogOutput", "AnalogOutputStatus", "AppControl", "ApplicationError", "BinaryInput",
           "BinaryOutputStatus", "CommandStatus", "Crob", "Dnp3Link", "Flag", "FunctionCode", "Iin", "LinkError",
           "LinkFrame", "ObjectError", "ObjectHeader", "OpType", "Qualifier", "Received", "Request", "Response",
           "TripClose", "crc_dnp", "decode_frame", "decode_request", "decode_response", "split_frames"]
