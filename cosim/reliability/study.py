"""Run a reliability study: analytic FMEA and sequential Monte Carlo of one system, side by side.

One job: wire data -> topology -> failure modes -> (analytic, Monte Carlo) ->
estimates for a :class:`ReliabilityStudyConfig`, and present the outcome as
tidy rows a CLI, a report or a test can print. Randomness comes only from the
generator passed in, so a World gives it ``world.rng(config.rng_stream)`` and
one seed reproduces the study bit for bit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import ReliabilityStudyConfig
from .data import DistributionSystemData, load_system
from .fmea import FailureModes, analytic_indices, failure_modes
from .indices import ReliabilityIndices
from .montecarlo import PER_YEAR_FIELDS, MonteCarloResult, simulate
from .published import published_for
from .statistics import Estimate, convergence_trace, mean_estimate, ratio_estimate
from .topology import Topology, build_topology

INDEX_UNITS = {
    "saifi_per_year": "int/cust-yr",
    "saidi_hours_per_year": "h/cust-yr",
    "caidi_hours": "h/int",
    "asai": "-",
    "maifi_per_year": "int/cust-yr",
    "ens_mwh_per_year": "MWh/yr",
    "aens_kwh_per_customer_year": "kWh/cust-yr",
    "ens_momentary_mwh_per_year": "MWh/yr",
    "major_event_days_per_year": "days/yr",
    "saifi_excl_med_per_year": "int/cust-yr",
    "saidi_excl_med_hours_per_year": "h/cust-yr",
}
CONVERGENCE_INDICES = ("saifi_per_year", "saidi_hours_per_year", "ens_mwh_per_year")


@dataclass(frozen=True)
class StudyResult:
    """Everything a study produced; ``wall_time_s`` is wall-clock time of the Monte Carlo part."""

    config: ReliabilityStudyConfig
    system: DistributionSystemData
    topology: Topology
    modes: FailureModes
    analytic: ReliabilityIndices
    monte_carlo: MonteCarloResult
    estimates: dict[str, Estimate]
    convergence: dict[str, np.ndarray]  # running coefficient of variation of the mean, per year simulated
    wall_time_s: float

    @property
    def years_per_minute(self) -> float:
        return self.monte_carlo.years * 60.0 / self.wall_time_s if self.wall_time_s > 0 else float("inf")

    def per_year_rows(self) -> list[dict[str, float]]:
        """The per-year table as a list of dicts (``year``, ``failures`` and every index)."""
        table = self.monte_carlo.per_year
        names = table.dtype.names or ()
        return [{name: table[name][i].item() for name in names} for i in range(table.size)]

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per system index: published value(s), analytic value, Monte Carlo mean and interval."""
        published = published_for(self.system.name, self.config.transformer_action.value)
        rows = []
        for name, estimate in self.estimates.items():
            row: dict[str, Any] = {
                "index": name,
                "unit": INDEX_UNITS[name],
                "published": next((p.values()[name] for p in published if name in p.values()), None),
                "analytic": getattr(self.analytic.system, name, None),  # none for the major event day split
                "mc_mean": estimate.mean,
                "mc_lower": estimate.lower,
                "mc_upper": estimate.upper,
                "mc_cov": estimate.coefficient_of_variation,
            }
            rows.append(row)
        return rows


def run_study(config: ReliabilityStudyConfig, rng: np.random.Generator) -> StudyResult:
    """Analytic and Monte Carlo indices of ``config.system`` over ``config.years`` simulated years.

    Raises :class:`cosim.errors.ScenarioError` if the system data are invalid.
    """
    system = load_system(config.system)
    topology = build_topology(system)
    modes = failure_modes(system, topology, config.transformer_action)
    analytic = analytic_indices(system, topology, modes, config.momentary_threshold_s)
    started = time.perf_counter()
    result = simulate(
        system, topology, modes, config.years, rng,
        repair_model=config.repair_model,
        switching_model=config.switching_model,
        overlap=config.overlap,
        momentary_threshold_s=config.momentary_threshold_s,
    )  # fmt: skip
    table = result.per_year
    estimates = {name: mean_estimate(table[name], config.confidence) for name in PER_YEAR_FIELDS if name != "caidi_hours"}
    estimates["caidi_hours"] = ratio_estimate(table["saidi_hours_per_year"], table["saifi_per_year"], config.confidence)
    estimates = {name: estimates[name] for name in PER_YEAR_FIELDS}  # keep the table's order
    convergence = {name: convergence_trace(table[name]) for name in CONVERGENCE_INDICES}
    wall = time.perf_counter() - started
    return StudyResult(config, system, topology, modes, analytic, result, estimates, convergence, wall)


def format_summary(result: StudyResult) -> str:
    """A plain-text table of :meth:`StudyResult.summary_rows` for terminals and docs."""
    level = int(round(result.config.confidence * 100))
    lines = [
        f"{result.system.name}: {result.monte_carlo.years} years, transformer {result.config.transformer_action.value}, "
        f"repair {result.config.repair_model.value}, switching {result.config.switching_model.value}, overlap {result.config.overlap.value}",
        f"{'index':<30}{'unit':<13}{'published':>11}{'analytic':>12}{'MC mean':>12}  {level}% CI",
    ]
    for row in result.summary_rows():
        published = "" if row["published"] is None else f"{row['published']:.6g}"
        analytic = "" if row["analytic"] is None else f"{row['analytic']:.6g}"
        lines.append(
            f"{row['index']:<30}{row['unit']:<13}{published:>11}{analytic:>12}{row['mc_mean']:>12.6g}"
            f"  [{row['mc_lower']:.6g}, {row['mc_upper']:.6g}]"
        )
    t_med = result.monte_carlo.major_event_threshold_minutes
    lines.append(f"major event days (IEEE 1366 2.5 beta): T_MED = {t_med:.4g} customer-minutes per customer and day, "
                 "from the simulated history; the *_excl_med rows leave their interruptions out")
    return "\n".join(lines)
