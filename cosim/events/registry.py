"""The catalogue of scheduled event kinds a scenario's ``events:`` list may use.

An event kind declares its parameter model and the handler that carries it
out at the event's simulated time. Layers register their own kinds (the grid
registers faults and switching); the loader validates every event against the
catalogue before the run starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from ..kernel import World

EventHandler = Callable[["World", "str | None", Any], None]


class EventParams(BaseModel):
    """Base of every event kind's parameters: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class EventKind:
    kind: str
    params: type[EventParams]
    handle: EventHandler
    needs_target: bool
    summary: str
    target_kinds: tuple[str, ...] = ()  # grid element kinds the target may name (bus, switch, ...)
    needs_grid: bool = False


EVENT_KINDS: dict[str, EventKind] = {}


def event_kind(
    kind: str,
    params: type[EventParams],
    needs_target: bool = True,
    target_kinds: tuple[str, ...] = (),
    needs_grid: bool = False,
) -> Callable[[EventHandler], EventHandler]:
    """Register the decorated ``handle(world, target, params)`` as event kind ``kind``.

    With ``target_kinds`` the target is a grid reference (``switch/feeder_cb``)
    of one of those kinds, checked against the grid when the scenario loads.
    """

    def register(handle: EventHandler) -> EventHandler:
        if kind in EVENT_KINDS:
            raise ValueError(f"event kind {kind!r} registered twice")
        summary = (handle.__doc__ or "").strip().splitlines()[0] if handle.__doc__ else ""
        EVENT_KINDS[kind] = EventKind(kind, params, handle, needs_target, summary, target_kinds, needs_grid or bool(target_kinds))
        return handle

    return register
