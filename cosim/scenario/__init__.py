"""Scenario files: reading, validating (every problem, with file, line and field) and modelling."""

from .loader import Scenario, load_scenario

__all__ = ["Scenario", "load_scenario"]
