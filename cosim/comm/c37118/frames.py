"""IEEE C37.118.2-2011 frames as typed records, each with one ``encode`` and one decoder.

Covers what a PMU serves to a phasor data concentrator: the configuration
frame CFG-2 (clause 6.4), the header frame (6.5), the command frame (6.6)
and the data frame (6.3), with the common fields SYNC, FRAMESIZE, IDCODE,
SOC, FRACSEC and the CRC-CCITT check word (6.2, Table 2). This codec writes
floating-point phasors in polar form and floating-point frequency/ROCOF
(FORMAT 0x000F) and reads both integer and floating-point forms, rectangular
and polar. Several PMUs per frame (a PDC's stream) are supported.

Times: SOC is seconds since 1970-01-01 UTC; FRACSEC's low 24 bits count
``1/TIME_BASE`` fractions of the second and its top byte is the time-quality
flags (Table 3). :func:`soc_fracsec` splits a UTC time so that the fraction
is always below TIME_BASE (never the full second).
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass, field

SYNC_BYTE = 0xAA
VERSION_2011 = 2


class FrameError(ValueError):
    """Bytes that are not a valid C37.118.2 frame (bad SYNC, length, CRC or content)."""


class FrameType(enum.IntEnum):
    """Bits 6-4 of the second SYNC byte (Table 2)."""

    DATA = 0
    HEADER = 1
    CFG1 = 2
    CFG2 = 3
    COMMAND = 4
    CFG3 = 5


class CommandCode(enum.IntEnum):
    """CMD word of the command frame (Table 15)."""

    TURN_OFF = 0x0001
    TURN_ON = 0x0002
    SEND_HEADER = 0x0003
    SEND_CFG1 = 0x0004
    SEND_CFG2 = 0x0005
    SEND_CFG3 = 0x0006
    EXTENDED = 0x0008


def crc_ccitt(data: bytes) -> int:
    """CRC-CCITT as C37.118.2 uses it: polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def soc_fracsec(utc_s: float, time_base: int) -> tuple[int, int]:
    """(SOC, fraction count) of a UTC time in seconds; the count is in [0, time_base), rounding carried into SOC."""
    soc = math.floor(utc_s)
    count = round((utc_s - soc) * time_base)
    if count >= time_base:
        soc, count = soc + 1, count - time_base
    return int(soc), int(count)


def _frame(kind: FrameType, idcode: int, soc: int, fracsec: int, body: bytes) -> bytes:
    size = 14 + len(body) + 2
    head = struct.pack(">BBHHII", SYNC_BYTE, (int(kind) << 4) | VERSION_2011, size, idcode, soc, fracsec)
    content = head + body
    return content + struct.pack(">H", crc_ccitt(content))


def _name(text: str) -> bytes:
    raw = text.encode("ascii", "replace")[:16]
    return raw.ljust(16, b" ")


@dataclass(frozen=True)
class PhasorChannel:
    """A phasor's name and kind (voltage or current); floating-point values need no scale."""

    name: str
    is_current: bool = False


@dataclass(frozen=True)
class PmuConfig:
    """One PMU's block of a configuration frame (clause 6.4, Table 8)."""

    station: str
    idcode: int
    phasors: tuple[PhasorChannel, ...]
    analogs: tuple[str, ...] = ()
    digital_words: tuple[tuple[str, ...], ...] = ()  # 16 names per status word
    nominal_hz: float = 60.0
    cfgcnt: int = 0
    float_format: bool = True  # FORMAT bits 1-3: phasors, analogs, FREQ/DFREQ as IEEE floats
    polar: bool = True  # FORMAT bit 0
    phasor_scales: tuple[float, ...] = ()  # integer format only: PHUNIT conversion, 1e-5 V or A per bit
    analog_scales: tuple[float, ...] = ()

    @property
    def format_word(self) -> int:
        bits = 0b1110 if self.float_format else 0
        return bits | (1 if self.polar else 0)


@dataclass(frozen=True)
class ConfigFrame:
    """CFG-2 (or CFG-1): what the stream will carry; sent on request and when it changes."""

    idcode: int
    soc: int
    fracsec: int
    time_base: int
    pmus: tuple[PmuConfig, ...]
    data_rate: int  # frames per second (> 0) or seconds per frame (< 0)
    kind: FrameType = FrameType.CFG2

    def encode(self) -> bytes:
        body = struct.pack(">IH", self.time_base & 0xFFFFFF, len(self.pmus))
        for pmu in self.pmus:
            names = [p.name for p in pmu.phasors] + list(pmu.analogs) + [n for word in pmu.digital_words for n in word]
            body += _name(pmu.station) + struct.pack(">HHHHH", pmu.idcode, pmu.format_word, len(pmu.phasors),
                                                      len(pmu.analogs), len(pmu.digital_words))
            body += b"".join(_name(n) for n in names)
            for i, phasor in enumerate(pmu.phasors):
                scale = round(pmu.phasor_scales[i] * 1e5) if pmu.phasor_scales else 0
                body += struct.pack(">I", ((1 if phasor.is_current else 0) << 24) | (scale & 0xFFFFFF))
            for i in range(len(pmu.analogs)):
                scale = int(pmu.analog_scales[i]) if pmu.analog_scales else 1
                body += struct.pack(">I", scale & 0xFFFFFF)  # type 0: single point-on-wave
            body += b"".join(struct.pack(">HH", 0x0000, 0xFFFF) for _ in pmu.digital_words)
            body += struct.pack(">HH", 1 if pmu.nominal_hz == 50.0 else 0, pmu.cfgcnt)
        body += struct.pack(">h", self.data_rate)
        return _frame(self.kind, self.idcode, self.soc, self.fracsec, body)


@dataclass(frozen=True)
class PmuData:
    """One PMU's block of a data frame: phasors (magnitude, angle in radians), frequency, ROCOF, analogs, digitals."""

    stat: int
    phasors: tuple[tuple[float, float], ...]
    frequency_hz: float
    rocof_hz_per_s: float
    analogs: tuple[float, ...] = ()
    digitals: tuple[int, ...] = ()


@dataclass(frozen=True)
class DataFrame:
    """A measurement frame; its layout is the one the current configuration declares."""

    idcode: int
    soc: int
    fracsec: int
    pmus: tuple[PmuData, ...]

    def encode(self, config: ConfigFrame) -> bytes:
        if len(config.pmus) != len(self.pmus):
            raise FrameError(f"data for {len(self.pmus)} PMUs, configuration declares {len(config.pmus)}")
        body = b""
        for declared, data in zip(config.pmus, self.pmus):
            if not declared.float_format or not declared.polar:
                raise FrameError("this codec writes floating-point polar data frames only")
            body += struct.pack(">H", data.stat)
            body += b"".join(struct.pack(">ff", m, a) for m, a in data.phasors)
            body += struct.pack(">ff", data.frequency_hz, data.rocof_hz_per_s)
            body += b"".join(struct.pack(">f", v) for v in data.analogs)
            body += b"".join(struct.pack(">H", d) for d in data.digitals)
        return _frame(FrameType.DATA, self.idcode, self.soc, self.fracsec, body)


@dataclass(frozen=True)
class HeaderFrame:
    idcode: int
    soc: int
    fracsec: int
    text: str

    def encode(self) -> bytes:
        return _frame(FrameType.HEADER, self.idcode, self.soc, self.fracsec, self.text.encode("ascii", "replace"))


@dataclass(frozen=True)
class CommandFrame:
    idcode: int
    soc: int
    fracsec: int
    command: int
    extended: bytes = field(default=b"")

    def encode(self) -> bytes:
        return _frame(FrameType.COMMAND, self.idcode, self.soc, self.fracsec, struct.pack(">H", self.command) + self.extended)


Frame = ConfigFrame | DataFrame | HeaderFrame | CommandFrame


def split_stream(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Whole frames at the start of a TCP byte stream, and the incomplete rest (FrameError on a bad SYNC)."""
    frames = []
    while len(buffer) >= 4:
        if buffer[0] != SYNC_BYTE:
            raise FrameError(f"SYNC byte 0x{buffer[0]:02X}, expected 0xAA")
        size = struct.unpack_from(">H", buffer, 2)[0]
        if size < 16:
            raise FrameError(f"FRAMESIZE {size} is below the 16-byte minimum")
        if len(buffer) < size:
            break
        frames.append(buffer[:size])
        buffer = buffer[size:]
    return frames, buffer


def decode_frame(raw: bytes, config: ConfigFrame | None = None) -> Frame:
    """One whole frame; a data frame needs the configuration it was sent under. Raises FrameError."""
    if len(raw) < 16 or raw[0] != SYNC_BYTE:
        raise FrameError("not a C37.118 frame (no SYNC or shorter than 16 bytes)")
    _, second, size, idcode, soc, fracsec = struct.unpack_from(">BBHHII", raw, 0)
    if size != len(raw):
        raise FrameError(f"FRAMESIZE {size} but {len(raw)} bytes")
    if crc_ccitt(raw[:-2]) != struct.unpack_from(">H", raw, size - 2)[0]:
        raise FrameError("CHK (CRC-CCITT) does not match")
    try:
        kind = FrameType((second >> 4) & 0x7)
    except ValueError:
        raise FrameError(f"unknown frame type {(second >> 4) & 0x7}") from None
    body = raw[14:-2]
    try:
        if kind in (FrameType.CFG1, FrameType.CFG2):
            return _decode_config(kind, idcode, soc, fracsec, body)
        if kind is FrameType.HEADER:
            return HeaderFrame(idcode, soc, fracsec, body.decode("ascii", "replace"))
        if kind is FrameType.COMMAND:
            return CommandFrame(idcode, soc, fracsec, struct.unpack_from(">H", body, 0)[0], body[2:])
        if kind is FrameType.DATA:
            if config is None:
                raise FrameError("a data frame cannot be read without its configuration frame")
            return _decode_data(idcode, soc, fracsec, body, config)
    except struct.error as error:
        raise FrameError(f"{kind.name} frame too short for its content: {error}") from None
    raise FrameError(f"{kind.name} frames are not supported by this codec")


def _decode_config(kind: FrameType, idcode: int, soc: int, fracsec: int, body: bytes) -> ConfigFrame:
    time_base, count = struct.unpack_from(">IH", body, 0)
    at, pmus = 6, []
    for _ in range(count):
        station = body[at:at + 16].decode("ascii", "replace").rstrip()
        pmu_id, fmt, phnmr, annmr, dgnmr = struct.unpack_from(">HHHHH", body, at + 16)
        at += 26
        names = [body[at + 16 * i: at + 16 * (i + 1)].decode("ascii", "replace").rstrip() for i in range(phnmr + annmr + 16 * dgnmr)]
        at += 16 * len(names)
        units = [struct.unpack_from(">I", body, at + 4 * i)[0] for i in range(phnmr)]
        at += 4 * phnmr
        analog_units = [struct.unpack_from(">I", body, at + 4 * i)[0] for i in range(annmr)]
        at += 4 * annmr + 4 * dgnmr
        fnom, cfgcnt = struct.unpack_from(">HH", body, at)
        at += 4
        phasors = tuple(PhasorChannel(names[i], bool(units[i] >> 24)) for i in range(phnmr))
        digital = tuple(tuple(names[phnmr + annmr + 16 * w: phnmr + annmr + 16 * (w + 1)]) for w in range(dgnmr))
        if fmt & 0b1110 not in (0, 0b1110):
            raise FrameError(f"PMU {pmu_id}: mixed integer/float FORMAT 0x{fmt:04X} is not supported")
        floats = fmt & 0b1110 == 0b1110  # conversion factors apply to integer values only
        pmus.append(PmuConfig(station, pmu_id, phasors, tuple(names[phnmr:phnmr + annmr]), digital,
                              50.0 if fnom & 1 else 60.0, cfgcnt, float_format=floats, polar=bool(fmt & 1),
                              phasor_scales=() if floats else tuple((u & 0xFFFFFF) / 1e5 for u in units),
                              analog_scales=() if floats else tuple(float(u & 0xFFFFFF) for u in analog_units)))
    data_rate = struct.unpack_from(">h", body, at)[0]
    if at + 2 != len(body):
        raise FrameError(f"configuration frame has {len(body) - at - 2} bytes after DATA_RATE")
    return ConfigFrame(idcode, soc, fracsec, time_base & 0xFFFFFF, tuple(pmus), data_rate, kind)


def _decode_data(idcode: int, soc: int, fracsec: int, body: bytes, config: ConfigFrame) -> DataFrame:
    at, pmus = 0, []
    for pmu in config.pmus:
        stat = struct.unpack_from(">H", body, at)[0]
        at += 2
        phasors = []
        for i in range(len(pmu.phasors)):
            if pmu.float_format:
                a, b = struct.unpack_from(">ff", body, at)
                at += 8
            else:
                ra, rb = struct.unpack_from(">hh", body, at) if not pmu.polar else struct.unpack_from(">Hh", body, at)
                at += 4
                scale = pmu.phasor_scales[i] if pmu.phasor_scales else 1.0
                a, b = (ra * scale, rb / 1e4) if pmu.polar else (ra * scale, rb * scale)
            phasors.append((a, b) if pmu.polar else (math.hypot(a, b), math.atan2(b, a)))
        if pmu.float_format:
            freq, dfreq = struct.unpack_from(">ff", body, at)
            at += 8
        else:
            raw_f, raw_df = struct.unpack_from(">hh", body, at)
            at += 4
            freq, dfreq = pmu.nominal_hz + raw_f / 1000.0, raw_df / 100.0
        analogs = []
        for i in range(len(pmu.analogs)):
            if pmu.float_format:
                analogs.append(struct.unpack_from(">f", body, at)[0])
                at += 4
            else:
                analogs.append(float(struct.unpack_from(">h", body, at)[0]))
                at += 2
        digitals = [struct.unpack_from(">H", body, at + 2 * i)[0] for i in range(len(pmu.digital_words))]
        at += 2 * len(pmu.digital_words)
        pmus.append(PmuData(stat, tuple(phasors), freq, dfreq, tuple(analogs), tuple(digitals)))
    if at != len(body):
        raise FrameError(f"data frame holds {len(body)} bytes, its configuration {at}")
    return DataFrame(idcode, soc, fracsec, tuple(pmus))
