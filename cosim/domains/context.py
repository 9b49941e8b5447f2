"""What every application process is given besides the world and its actor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..nist import SmartGridModel


@dataclass(frozen=True)
class RunContext:
    """Read-only facts of the run: the NIST model, the default step and where the scenario lives."""

    model: SmartGridModel
    step_s: float
    duration_s: float
    base_dir: Path
