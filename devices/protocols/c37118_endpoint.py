"""A node's C37.118 endpoint in simulated time: PMUs on the node answer a PDC's commands and stream to it.

Frames travel as bytes through the comm layer (protocol ``c37118``), paying
the links' latency and loss like any message; the trace's ``info`` column
holds each frame in hex, so a trace can be written as a pcap and dissected
(``cosim.comm.pcap``). Several PMUs may share a node; commands are routed by
IDCODE, as a C37.118 TCP port serves several streams. A malformed frame is
dropped and logged (C37.118.2 has no error response).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dataclasses

from cosim.comm.c37118 import CommandCode, CommandFrame, ConfigFrame, FrameError, FrameType, HeaderFrame, decode_frame
from devices.protocols.node_endpoint import NodeEndpoint

PROTOCOL = "c37118"

FrameSource = Callable[[], bytes]


class PmuStream:
    """What one PMU offers its endpoint: its IDCODE, its CFG-2, its header text and its latest data frame."""

    def __init__(self, idcode: int, config: FrameSource, header: str, data: FrameSource) -> None:
        self.idcode, self.config, self.header, self.data = idcode, config, header, data
        self.subscribers: list[str] = []  # PDC nodes with transmission turned on, in the order they asked
        self.listeners: list[Callable[[bytes], None]] = []  # served on real TCP too (cosim.hil.c37118_tcp)

    def reply(self, command: CommandFrame) -> tuple[str, bytes] | None:
        """The frame (kind, bytes) a command asks this PMU for, or None (C37.118.2 clause 6.5, Table 15).

        Shared by the simulated endpoint and the TCP edge; each keeps its own
        record of who turned data on, so turning on and off is theirs.
        """
        if command.command == CommandCode.SEND_CFG2:
            return "cfg2", self.config()
        if command.command == CommandCode.SEND_CFG1:
            # Clause 6.4: CFG-1 (what the PMU can report) and CFG-2 (what it reports) are both required; they share
            # one layout (Table 8), and this PMU reports everything it can, so CFG-1 carries CFG-2's content.
            config = decode_frame(self.config())
            assert isinstance(config, ConfigFrame)
            return "cfg1", dataclasses.replace(config, kind=FrameType.CFG1).encode()
        if command.command == CommandCode.SEND_HEADER:
            return "header", HeaderFrame(self.idcode, command.soc, command.fracsec, self.header).encode()
        return None


class C37118Endpoint(NodeEndpoint):
    """The ``c37118`` handler of one comm node, shared by the PMUs on it."""

    protocol = PROTOCOL

    def __init__(self, comm: Any, node: str, log: Callable[..., None]) -> None:
        self.streams: dict[int, PmuStream] = {}
        super().__init__(comm, node, log)

    def add(self, stream: PmuStream) -> None:
        if stream.idcode in self.streams:
            raise ValueError(f"node {self.node!r}: two PMUs with C37.118 IDCODE {stream.idcode}")
        self.streams[stream.idcode] = stream

    def publish(self, stream: PmuStream) -> None:
        """Send the stream's present data frame to every PDC that turned it on, simulated or real."""
        if not stream.subscribers and not stream.listeners:
            return
        frame = stream.data()
        for pdc in stream.subscribers:
            self.send(pdc, frame, "data")
        for listener in stream.listeners:
            listener(frame)

    def send(self, dst: str, frame: bytes, kind: str) -> None:
        self.comm.send(self.node, dst, PROTOCOL, frame, len(frame), kind=kind, info=frame.hex())

    def _receive(self, message: Any) -> None:
        try:
            frame = decode_frame(bytes(message.payload))
        except FrameError as error:
            message.status, message.reason = "rejected", f"malformed C37.118 frame: {error}"
            self.log("c37118_bad_frame", node=self.node, src=message.src, error=str(error))
            return
        if not isinstance(frame, CommandFrame):
            return
        stream = self.streams.get(frame.idcode)
        if stream is None:
            self.log("c37118_unknown_idcode", node=self.node, src=message.src, idcode=frame.idcode)
            return
        reply = stream.reply(frame)
        if reply is not None:
            kind, octets = reply
            self.send(message.src, octets, kind)
        elif frame.command == CommandCode.TURN_ON and message.src not in stream.subscribers:
            stream.subscribers.append(message.src)
        elif frame.command == CommandCode.TURN_OFF and message.src in stream.subscribers:
            stream.subscribers.remove(message.src)
