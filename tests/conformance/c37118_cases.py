"""IEEE C37.118.2-2011 command conformance cases as data, a frame reader written from the standard, and transports.

A PDC's command frames (clause 6.5, Table 15) go to a PMU of the
pmu_c37118 scenario (IDCODE 11, 30 frames/s) and each case says what must
come back: which frame types (Table 2: SYNC bits 6-4), from which IDCODE, and
for data frames that they keep coming at the reporting rate or stop. The
reader checks SYNC, FRAMESIZE and CHK with the standard library's CRC-CCITT
(``binascii.crc_hqx``, initial 0xFFFF, clause 6.2 / Annex B), not our codec.
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cosim.comm.c37118 import CommandCode, CommandFrame
from hiltools import ROOT, ServedWorld, settings
from wire import SimulatedCarrier, TcpCarrier

SCENARIO = ROOT / "configs" / "pmu_c37118.yaml"
IDCODE, RATE_FPS = 11, 30
DATA, HEADER, CFG1, CFG2 = 0, 1, 2, 3  # Table 2 frame types


@dataclass(frozen=True)
class Frame:
    """A frame as the standard lays it out (clause 6.2, Table 2)."""

    kind: int
    version: int
    idcode: int
    soc: int
    fracsec: int
    body: bytes


def read_frames(octets: bytes, whole: bool = True) -> list[Frame]:
    """Every frame in a PMU's byte stream; asserts each one's SYNC, FRAMESIZE and CHK.

    ``whole``: the octets must end with a complete frame; else an incomplete last frame (a TCP stream read
    mid-frame) is left out.
    """
    out = []
    while octets:
        assert len(octets) >= 4 and octets[0] == 0xAA, octets[:4].hex()
        size = struct.unpack_from(">H", octets, 2)[0]
        assert size >= 16, f"FRAMESIZE {size}"
        frame, octets = octets[:size], octets[size:]
        if len(frame) < size and not whole:
            break
        assert len(frame) == size, "a truncated frame"
        assert binascii.crc_hqx(frame[:-2], 0xFFFF) == struct.unpack(">H", frame[-2:])[0], "CHK"
        _, second, _, idcode, soc, fracsec = struct.unpack_from(">BBHHII", frame)
        out.append(Frame((second >> 4) & 7, second & 0x0F, idcode, soc, fracsec & 0xFFFFFF, frame[14:-2]))
    return out


@dataclass(frozen=True)
class Command:
    """A command frame (CMD word, to IDCODE), optionally with its CHK broken."""

    code: int
    idcode: int = IDCODE
    corrupt: bool = False

    def encode(self) -> bytes:
        frame = bytearray(CommandFrame(self.idcode, 0, 0, self.code).encode())
        if self.corrupt:
            frame[-1] ^= 0xFF
        return bytes(frame)


@dataclass(frozen=True)
class Case:
    name: str
    clause: str
    commands: tuple[Command, ...]
    replies: tuple[int, ...]
    """Frame types that must answer, in order (data frames not counted)."""
    streaming: bool = False
    """Data frames at the reporting rate must keep coming after the commands (else none may come after them)."""
    peer: str | None = None


CASES: tuple[Case, ...] = (
    Case("send_cfg2", "6.5 Table 15 (CMD 0x0005), 6.4 (CFG-2)", (Command(CommandCode.SEND_CFG2),), (CFG2,),
         peer="cfg2"),
    Case("send_cfg1", "6.5 Table 15 (CMD 0x0004), 6.4 (CFG-1 and CFG-2 both implemented)",
         (Command(CommandCode.SEND_CFG1),), (CFG1,), peer="cfg1"),
    Case("send_header", "6.5 Table 15 (CMD 0x0003), 6.4 (header frame)", (Command(CommandCode.SEND_HEADER),),
         (HEADER,), peer="header"),
    Case("turn_on_data", "6.5 Table 15 (CMD 0x0002), 6.3 (data frames at the reporting rate)",
         (Command(CommandCode.TURN_ON),), (), streaming=True, peer="start"),
    Case("turn_off_data", "6.5 Table 15 (CMD 0x0001)",
         (Command(CommandCode.TURN_ON), Command(CommandCode.TURN_OFF)), (), peer="stop"),
    Case("bad_chk_is_ignored", "6.2 (CHK), 6.5 (no error response is defined)",
         (Command(CommandCode.SEND_CFG2, corrupt=True), Command(CommandCode.SEND_HEADER)), (HEADER,)),
    Case("unknown_idcode_is_ignored", "6.5 (commands are addressed by IDCODE)",
         (Command(CommandCode.SEND_CFG2, idcode=999), Command(CommandCode.SEND_HEADER)), (HEADER,)),
)


def conformance_scenario(folder: Path) -> Path:
    """The PMU scenario with no simulated PDC: the cases are the PDC."""
    spec = yaml.safe_load(SCENARIO.read_text())
    for actor in spec["actors"]:
        actor.pop("applications", None)
    path = folder / "pmu_conformance.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def simulated(folder: Path) -> SimulatedCarrier:
    """Command frames through the simulated comm network from the control centre's node to the PMU's."""
    return SimulatedCarrier(conformance_scenario(folder), "control_centre", "sub_b1", "c37118")


def served_pmus(folder: Path) -> tuple[ServedWorld, int]:
    """The scenario paced to the wall clock with its PMUs on the HIL C37.118 port (started), and PMU 11's port."""
    from cosim.hil.config import C37118ServeConfig

    served = ServedWorld(None, settings(c37118=C37118ServeConfig(port=0)), duration_s=60.0,
                         scenario_path=conformance_scenario(folder)).start()
    return served, next(e.port for e in served.session.pmu_endpoints if e.idcode == IDCODE)


def tcp(folder: Path) -> TcpCarrier:
    """Command frames over TCP to the HIL C37.118 server."""
    return TcpCarrier(*served_pmus(folder))


TRANSPORTS: dict[str, Callable[[Path], Any]] = {"simulated": simulated, "tcp": tcp}
WINDOW_S = 0.3  # long enough for 9 data frames at 30 frames/s, on either clock


def received(transport: Any) -> list[Frame]:
    return read_frames(b"".join(octets for m, octets in list(transport.frames) if not m), whole=False)


def play(case: Case, transport: Any) -> None:
    """Send the case's commands, wait for its replies (then a window for anything more), check what came."""
    for command in case.commands:
        transport.send(command.encode())
        transport.wait(0.1)

    def replies() -> tuple[int, ...]:
        return tuple(f.kind for f in received(transport) if f.kind != DATA)

    transport.wait(5.0, lambda: len(replies()) >= len(case.replies))
    transport.wait(WINDOW_S)
    frames = received(transport)
    assert all(f.idcode == IDCODE and f.version == 2 for f in frames)  # version 2: C37.118.2-2011
    assert replies() == case.replies

    def later() -> list[Frame]:
        return [f for f in received(transport)[len(frames):] if f.kind == DATA]

    if not case.streaming:
        transport.wait(WINDOW_S)
        assert not later(), f"{len(later())} data frames after the case's commands"
        return
    transport.wait(5.0, lambda: len(later()) >= 6)  # 0.2 s at 30 frames/s; longer on a loaded machine's wall clock
    stream = later()
    assert len(stream) >= 6
    stamps = [f.soc * 1_000_000 + f.fracsec for f in stream]  # TIME_BASE 1e6: FRACSEC in microseconds
    assert all(0 <= f.fracsec < 1_000_000 for f in stream)
    assert {b - a for a, b in zip(stamps, stamps[1:])} <= {33_333, 33_334}  # one frame every 1/30 s
