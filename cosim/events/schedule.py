"""Fires the scenario's scheduled events at their simulated times, in file order for equal times."""

from __future__ import annotations

from typing import Any, Generator, Sequence

from ..kernel import World
from ..scenario.schema import EventSection
from .registry import EVENT_KINDS


def event_schedule(world: World, events: Sequence[EventSection]) -> Generator[Any, Any, None]:
    """One process for all scheduled events; each is logged, then handled."""
    ordered = sorted(enumerate(events), key=lambda item: (item[1].at, item[0]))
    for _, event in ordered:
        if event.at > world.now:
            yield world.timeout(event.at - world.now)
        kind = EVENT_KINDS[event.kind]
        params = kind.params.model_validate(event.params)
        world.log("scheduled_event", event=event.kind, target=event.target, params=dict(event.params))
        kind.handle(world, event.target, params)
