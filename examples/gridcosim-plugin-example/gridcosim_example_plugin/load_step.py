"""``load_step``: a scenario event that sets one load's demand, as a test bench's load bank would."""

from __future__ import annotations

from pydantic import Field

from cosim.events.registry import EventParams, event_kind
from cosim.grid import SetLoad
from cosim.kernel import World


class LoadStepParams(EventParams):
    p_mw: float = Field(ge=0, allow_inf_nan=False, description="new active power, MW")
    q_mvar: float = Field(0.0, allow_inf_nan=False, description="new reactive power, Mvar")


@event_kind("load_step", LoadStepParams, target_kinds=("load",))
def load_step(world: World, target: str | None, params: LoadStepParams) -> None:
    """Set a load (target load/NAME) to p_mw, q_mvar."""
    assert target is not None
    world.service("grid").apply(SetLoad(target.split("/", 1)[1], params.p_mw, params.q_mvar))
