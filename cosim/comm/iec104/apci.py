"""IEC 60870-5-104 APCI: the start octet, the length and the four control octets of every APDU.

IEC 60870-5-104:2006, clause 5: an APDU is ``0x68``, the length of what
follows (4..253), four control octets and, for I-format only, one ASDU.

* I format (bit 0 of octet 1 is 0): send sequence number N(S) in octets 1-2
  and receive sequence number N(R) in octets 3-4, each shifted left by one;
  15-bit counters, modulo 32768.
* S format (octets 1-2 = ``01 00``): N(R) only, acknowledging I frames.
* U format (bits 0-1 of octet 1 are ``11``): exactly one of STARTDT, STOPDT
  or TESTFR, each as act or con (clause 5.3).

Nothing here keeps state; :mod:`.connection` does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

START = 0x68
MAX_APDU_LENGTH = 253  # clause 5: the length octet counts at most 253 (4 control + 249 ASDU)
SEQUENCE_MODULO = 32768


class ApciError(ValueError):
    """Octets that are not an APDU (bad start, length or control field): the connection must be closed (clause 5)."""


class UFunction(enum.IntEnum):
    """The U-format control octet 1 (clause 5.3, figure 14)."""

    STARTDT_ACT = 0x07
    STARTDT_CON = 0x0B
    STOPDT_ACT = 0x13
    STOPDT_CON = 0x23
    TESTFR_ACT = 0x43
    TESTFR_CON = 0x83


@dataclass(frozen=True)
class IFrame:
    send_seq: int
    recv_seq: int
    asdu: bytes


@dataclass(frozen=True)
class SFrame:
    recv_seq: int


@dataclass(frozen=True)
class UFrame:
    function: UFunction


Apdu = IFrame | SFrame | UFrame


def encode(apdu: Apdu) -> bytes:
    """The octets of one APDU; raises ApciError for an ASDU too long or a sequence number out of range."""
    if isinstance(apdu, UFrame):
        control = bytes((apdu.function, 0, 0, 0))
        body = b""
    elif isinstance(apdu, SFrame):
        control = b"\x01\x00" + _seq(apdu.recv_seq)
        body = b""
    else:
        control = _seq(apdu.send_seq) + _seq(apdu.recv_seq)
        body = apdu.asdu
        if not body:
            raise ApciError("an I frame carries an ASDU")
    if 4 + len(body) > MAX_APDU_LENGTH:
        raise ApciError(f"APDU length {4 + len(body)} > {MAX_APDU_LENGTH}")
    return bytes((START, 4 + len(body))) + control + body


def decode(octets: bytes) -> Apdu:
    """One whole APDU (start octet included); raises ApciError."""
    if len(octets) < 6 or octets[0] != START:
        raise ApciError("an APDU starts with 0x68 and has at least 6 octets")
    if octets[1] != len(octets) - 2 or octets[1] < 4 or octets[1] > MAX_APDU_LENGTH:
        raise ApciError(f"length octet {octets[1]} does not match {len(octets) - 2} octets")
    c1, c2, c3, c4 = octets[2:6]
    if c1 & 0x01 == 0:
        if len(octets) == 6:
            raise ApciError("an I frame without an ASDU")
        return IFrame((c1 | c2 << 8) >> 1, (c3 | c4 << 8) >> 1, bytes(octets[6:]))
    if len(octets) != 6:
        raise ApciError("an S or U frame carries no ASDU")
    if c1 & 0x03 == 0x01:
        if c1 != 0x01 or c2 != 0 or c3 & 0x01:
            raise ApciError("malformed S frame control field")
        return SFrame((c3 | c4 << 8) >> 1)
    try:
        function = UFunction(c1)
    except ValueError:
        raise ApciError(f"U frame control octet {c1:#04x} is not exactly one function") from None
    if c2 or c3 or c4:
        raise ApciError("U frame control octets 2-4 must be 0")
    return UFrame(function)


def split(stream: bytes) -> tuple[list[bytes], bytes]:
    """Whole APDUs at the front of a TCP byte stream, and the incomplete rest; raises ApciError on a bad start octet."""
    apdus: list[bytes] = []
    at = 0
    while len(stream) - at >= 2:
        if stream[at] != START:
            raise ApciError(f"expected start octet 0x68 at offset {at}, found {stream[at]:#04x}")
        end = at + 2 + stream[at + 1]
        if end > len(stream):
            break
        apdus.append(bytes(stream[at:end]))
        at = end
    return apdus, bytes(stream[at:])


def _seq(number: int) -> bytes:
    if not 0 <= number < SEQUENCE_MODULO:
        raise ApciError(f"sequence number {number} outside 0..32767")
    return (number << 1).to_bytes(2, "little")


def describe(apdu: bytes) -> str:
    """A short name of an APDU for a trace's ``kind`` column: the ASDU's type (``C_IC_NA_1``), ``S``, or the U function."""
    from .asdu import TypeId  # the ASDU layer does not import this one

    if len(apdu) < 6:
        return "fragment"
    if apdu[2] & 0x01 == 0:
        if len(apdu) == 6:
            return "I"
        return TypeId(apdu[6]).name if apdu[6] in TypeId._value2member_map_ else f"type_{apdu[6]}"
    if apdu[2] & 0x03 == 0x01:
        return "S"
    try:
        return UFunction(apdu[2]).name
    except ValueError:
        return "U"
