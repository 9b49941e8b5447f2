"""Operations' phasor data concentrator: asks PMUs for their configuration over C37.118.2 and takes their streams.

It knows each PMU only as a comm node and a stream IDCODE, as a PDC is set
up in the field: it sends "send CFG-2", reads the configuration that comes
back, turns transmission on and decodes every data frame with that
configuration, recording what it received (``<actor>/pmu<IDCODE>``:
frequency, ROCOF, the voltage phasor and the frames' STAT). Frames that do
not decode are counted as ``c37118_bad_frame`` events, never raised.
"""

from __future__ import annotations

import math
from typing import Any, Generator

from pydantic import BaseModel, ConfigDict, Field

from ..comm.c37118 import CommandCode, CommandFrame, ConfigFrame, DataFrame, FrameError, decode_frame
from ..kernel import World
from ..nist import Actor, Domain
from .context import RunContext
from .registry import Params, application

PROTOCOL = "c37118"


class PdcPmu(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    node: str = Field(min_length=1, description="comm node of the PMU")
    idcode: int = Field(ge=1, le=65534, description="the PMU's stream IDCODE")


class PdcParams(Params):
    node: str = Field(min_length=1, description="comm node of the PDC")
    pmus: list[PdcPmu] = Field(min_length=1, description="the PMUs to take streams from")


@application("pdc", {Domain.OPERATIONS}, PdcParams)
def pdc(world: World, actor: Actor, params: PdcParams, ctx: RunContext) -> Generator[Any, Any, None]:
    """Phasor data concentrator: C37.118.2 configuration and data streams from PMUs over the comm network."""
    comm = world.service("comm")
    configs: dict[tuple[str, int], ConfigFrame] = {}

    def command(pmu: PdcPmu, code: CommandCode) -> None:
        frame = CommandFrame(pmu.idcode, 0, 0, code).encode()
        comm.send(params.node, pmu.node, PROTOCOL, frame, len(frame), kind="command", info=frame.hex())

    def on_frame(message: Any) -> None:
        raw = bytes(message.payload)
        try:
            idcode = int.from_bytes(raw[4:6], "big") if len(raw) >= 6 else -1
            frame = decode_frame(raw, configs.get((message.src, idcode)))
        except FrameError as error:
            message.status, message.reason = "rejected", f"malformed C37.118 frame: {error}"
            world.log("c37118_bad_frame", node=params.node, src=message.src, error=str(error))
            return
        if isinstance(frame, ConfigFrame):
            configs[(message.src, frame.idcode)] = frame
            world.log("pdc_config", actor=actor.actor_id, pmu=frame.idcode, station=frame.pmus[0].station,
                      rate_fps=frame.data_rate)
            command(PdcPmu(node=message.src, idcode=frame.idcode), CommandCode.TURN_ON)
        elif isinstance(frame, DataFrame):
            entity = f"{actor.actor_id}/pmu{frame.idcode}"
            block = frame.pmus[0]
            magnitude, angle = block.phasors[0]
            world.record(entity, "frequency", block.frequency_hz, "Hz")
            world.record(entity, "rocof", block.rocof_hz_per_s, "Hz/s")
            world.record(entity, "v1_magnitude", magnitude, "V")
            world.record(entity, "v1_angle", math.degrees(angle), "deg")
            world.record(entity, "stat", float(block.stat), "")

    comm.attach(params.node, PROTOCOL, on_frame)
    for pmu in params.pmus:
        command(pmu, CommandCode.SEND_CFG2)
    yield world.timeout(0)
