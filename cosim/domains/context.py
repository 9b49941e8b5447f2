"""What every application process is given besides the world and its actor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..nist import SmartGridModel

if TYPE_CHECKING:  # devices.config imports the domains' registry: only a type here
    from devices.config import DeviceConfig


@dataclass(frozen=True)
class RunContext:
    """Read-only facts of the run: the NIST model, the default step and where the scenario lives.

    ``device_configs`` is the engineering database of the field devices (kinds,
    nodes, unit ids, point lists), as a utility's configuration tool holds it:
    applications may build point lists from it, but live values travel only
    over the comm layer.
    """

    model: SmartGridModel
    step_s: float
    duration_s: float
    base_dir: Path
    device_configs: Mapping[str, DeviceConfig] = field(default_factory=dict)
    start_utc_us: int = 0
    """UTC at simulated time 0, µs since 1970-01-01 (the run's ``start_utc``; protocols that carry UTC use it)."""
