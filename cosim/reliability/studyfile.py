"""``cosim reliability STUDY.yaml``: a reliability study as a file, run and written like a scenario.

The file names the study and its seed and holds a :class:`ReliabilityStudyConfig`
under ``study:``. Results go to ``per_year.csv`` (one row per simulated year),
``indices.csv`` (published, analytic, Monte Carlo mean and interval),
``load_points.csv`` (each load point's failure rate, outage time, average
outage duration and energy not supplied, analytic and Monte Carlo) and a
``manifest.json`` with file hashes, through the kernel's recorder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..kernel import RandomStreams, Recorder
from ..scenario.schema import PathName
from .config import ReliabilityStudyConfig
from .cosimstudy import CosimulationConfig
from .study import StudyResult, run_study


class ReliabilityStudyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["reliability_study"] = "reliability_study"
    name: PathName
    description: str = ""
    seed: int = Field(0, ge=0)
    study: ReliabilityStudyConfig = Field(default_factory=lambda: ReliabilityStudyConfig())
    cosimulation: CosimulationConfig | None = Field(None, description="co-simulate incidents (protection, SCADA, DMS, crews) "
                                                    "instead of sampling the analytic effect matrix")


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
    write_load_points(recorder, result)
    recorder.close(
        study=spec.name,
        seed=spec.seed,
        config=spec.study.model_dump(mode="json"),
        years=result.monte_carlo.years,
        wall_time_s=round(result.wall_time_s, 3),
        status="completed",
    )
    return result


LOAD_POINT_COLUMNS = (
    "load_point", "feeder", "customers", "method", "failure_rate_per_year", "outage_hours_per_year",
    "average_outage_hours", "momentary_per_year", "ens_mwh_per_year",
)  # fmt: skip


def write_load_points(recorder: Recorder, result: StudyResult) -> None:
    """One row per load point and method (analytic, Monte Carlo pooled over all years)."""
    table = recorder.table("load_points", LOAD_POINT_COLUMNS)
    topology, lps = result.topology, result.system.load_points
    for method, indices in (("analytic", result.analytic), ("monte_carlo", result.monte_carlo.pooled)):
        lp = indices.load_points
        for i, lp_id in enumerate(lp.load_point_id):
            table.write((lp_id, topology.feeder_names[topology.feeder_of_load_point[i]], int(lps.customers[i]), method,
                         repr(float(lp.failure_rate_per_year[i])), repr(float(lp.outage_hours_per_year[i])),
                         repr(float(lp.average_outage_hours[i])), repr(float(lp.momentary_per_year[i])),
                         repr(float(lp.ens_mwh_per_year[i]))))
