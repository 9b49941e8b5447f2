"""Event kinds of demand response: a reserve shortfall that calls Load Management, and its release.

A hot afternoon's reserve shortfall is the operator's own assessment, so the
event is handed to the Operations Load Management dispatcher (the world
service ``lm_dispatch`` its application registers); what happens next travels
as messages (dispatch to CSPs, CSPs to the sites' ESIs).
"""

from __future__ import annotations

from pydantic import Field

from ..kernel import World
from .registry import EventParams, event_kind


class ReserveShortfallParams(EventParams):
    zone: str = Field(min_length=1, description="transmission zone short of reserves")
    mw: float = Field(gt=0, description="MW of load reduction needed")
    start_in_min: float = Field(120.0, ge=0, description="minutes from now to the start of the reduction (notice)")
    duration_h: float = Field(2.0, gt=0, description="hours the reduction is needed")
    subzone_zips: list[str] | None = Field(None, description="ZIP codes of a sub-zone; only DR there is called")
    emergency: bool = Field(False, description="an emergency (NERC EEA) is declared: emergency DR may be called")


@event_kind("reserve_shortfall", ReserveShortfallParams, needs_target=False)
def reserve_shortfall(world: World, target: str | None, params: ReserveShortfallParams) -> None:
    """Reserves will fall short in a zone: Operations dispatches Load Management DR (needs an lm_dispatcher)."""
    if not world.has_service("lm_dispatch"):
        world.log("reserve_shortfall_unhandled", zone=params.zone, reason="no lm_dispatcher application in the scenario")
        return
    world.service("lm_dispatch").declare_shortfall(params.zone, params.mw, params.start_in_min, params.duration_h,
                                                   params.subzone_zips, params.emergency)


class LmReleaseParams(EventParams):
    event_id: str = Field(min_length=1, description="the Load Management event to release (e.g. pjm_ops-LM1)")


@event_kind("lm_release", LmReleaseParams, needs_target=False)
def lm_release(world: World, target: str | None, params: LmReleaseParams) -> None:
    """The emergency is over: Operations releases a Load Management event (cancelled before its start, else ended now)."""
    if not world.has_service("lm_dispatch"):
        world.log("lm_release_unhandled", event_id=params.event_id, reason="no lm_dispatcher application in the scenario")
        return
    world.service("lm_dispatch").release(params.event_id)
