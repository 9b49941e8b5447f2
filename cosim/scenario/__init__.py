"""Scenario files: reading, validating (every problem, with file, line and field) and modelling."""

from .. import imports as _imports  # noqa: F401  (other tools' network files as grid cases)
from .loader import Scenario, load_scenario

__all__ = ["Scenario", "load_scenario"]
