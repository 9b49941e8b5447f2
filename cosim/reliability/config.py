"""Configuration of a reliability study, validated (pydantic v2, unknown keys rejected).

One job: say what a study runs -- which system, how many simulated years,
which random stream, which duration models -- so that the scenario loader and
the CLI can expose it as data.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .data import BUILTIN_SYSTEMS
from .fmea import TransformerAction
from .indices import IEEE_1366_MOMENTARY_THRESHOLD_S
from .montecarlo import DurationModel, OverlapModel


class ReliabilityStudyConfig(BaseModel):
    """A sequential Monte Carlo and analytic reliability study of one distribution system."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str = Field(
        "rbts_bus2",
        description="'rbts_bus2', 'rbts_bus4', or a folder with load_points.csv, sections.csv and ties.csv",
    )
    years: int = Field(10_000, gt=1, le=100_000_000, description="simulated years (samples of the annual indices)")
    rng_stream: str = Field("reliability/montecarlo", min_length=1, description="name of the World random stream to draw from")
    momentary_threshold_s: float = Field(
        IEEE_1366_MOMENTARY_THRESHOLD_S, ge=0.0, description="interruptions this long or shorter are momentary (IEEE 1366: 300 s)"
    )
    repair_model: DurationModel = Field(DurationModel.EXPONENTIAL, description="distribution of repair/replacement times around their mean")
    switching_model: DurationModel = Field(DurationModel.FIXED, description="distribution of switching times around their mean")
    transformer_action: TransformerAction = Field(TransformerAction.REPAIR, description="repair (200 h) or replace (10 h) failed transformers")
    overlap: OverlapModel = Field(OverlapModel.ADDITIVE, description="count overlapping outages independently (as the analytic method) or merge them")
    confidence: float = Field(0.95, gt=0.0, lt=1.0, description="confidence level of the reported intervals")

    @field_validator("system")
    @classmethod
    def _known_system(cls, value: str) -> str:
        if value not in BUILTIN_SYSTEMS and not Path(value).is_dir():
            raise ValueError(f"expected one of {BUILTIN_SYSTEMS} or an existing folder, found {value!r}")
        return value
