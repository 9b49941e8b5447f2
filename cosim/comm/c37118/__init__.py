"""IEEE C37.118.2-2011 synchrophasor frames: a sans-IO codec (configuration, header, command and data)."""

from .frames import (
    CommandCode,
    CommandFrame,
    ConfigFrame,
    DataFrame,
    FrameError,
    FrameType,
    HeaderFrame,
    PhasorChannel,
    PmuConfig,
    PmuData,
    crc_ccitt,
    decode_frame,
    split_stream,
)

__all__ = ["CommandCode", "CommandFrame", "ConfigFrame", "DataFrame", "FrameError", "FrameType", "HeaderFrame",
           "PhasorChannel", "PmuConfig", "PmuData", "crc_ccitt", "decode_frame", "split_stream"]
