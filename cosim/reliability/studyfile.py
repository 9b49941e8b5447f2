"""``cosim reliability STUDY.yaml``: a reliability study as a file, run and written like a scenario.

The file names the study and its seed and holds a :class:`ReliabilityStudyConfig`
under ``study:``. Results go to ``per_year.csv`` (one row per simulated year),
``indices.csv`` (published, analytic, Monte Carlo mean and interval) and a
``manifest.json`` with file hashes, through the kernel's recorder.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..kernel import Recorder, RandomStreams
from .config import ReliabilityStudyConfig
from .study import StudyResult, run_study


class ReliabilityStudyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    description: str = ""
    seed: int = Field(0, ge=0)
    study: ReliabilityStudyConfig = Field(default_factory=lambda: ReliabilityStudyConfig())


def run_study_file(spec: ReliabilityStudyFile, out_dir: Path | None) -> StudyResult:
    """Run the study with the named stream of ``spec.seed`` and write its tables to ``out_dir``."""
    rng = RandomStreams(spec.seed)(spec.study.rng_stream)
    result = run_study(spec.study, rng)
    recorder = Recorder(out_dir)
    rows = result.per_year_rows()
    if rows:
        table = recorder.table("per_year", tuple(rows[0]))
        for row in rows:
            table.write(tuple(repr(v) if isinstance(v, float) else v for v in row.values()))
    summary = result.summary_rows()
    table = recorder.table("indices", tuple(summary[0]))
    for row in summary:
        table.write(tuple("" if v is None else (repr(v) if isinstance(v, float) else v) for v in row.values()))
    recorder.close(
        study=spec.name,
        seed=spec.seed,
        config=spec.study.model_dump(mode="json"),
        years=result.monte_carlo.years,
        wall_time_s=round(result.wall_time_s, 3),
        status="completed",
    )
    return result
