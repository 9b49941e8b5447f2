"""Scheduled scenario events: the registry of kinds and the process that fires them.

Importing this package registers every event kind.
"""

from . import basic, grid, stochastic  # noqa: F401  (registers event kinds)
from . import dr  # noqa: F401  (demand response event kinds)
from .registry import EVENT_KINDS, EventKind, EventParams, event_kind
from .schedule import event_schedule

__all__ = ["EVENT_KINDS", "EventKind", "EventParams", "event_kind", "event_schedule"]
