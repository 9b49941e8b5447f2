"""Event kinds that need no layer: notes in the event log."""

from __future__ import annotations

from pydantic import Field

from ..kernel import World
from .registry import EventParams, event_kind


class NoteParams(EventParams):
    text: str = Field(min_length=1)


@event_kind("note", NoteParams, needs_target=False)
def note(world: World, target: str | None, params: NoteParams) -> None:
    """Write a line of text into the event log (marks a phase of a study or a lab)."""
    world.log("note", text=params.text)
