"""Sequential (chronological) Monte Carlo simulation of a radial distribution system.

One job: draw the failure history of every component over many years and
turn it into interruption records and per-year indices, all as numpy arrays.

Each component alternates between up (exponential time to failure, mean
1/lambda years) and down (repair or replacement time, exponential or fixed);
this is the sequential method of Billinton & Allan, *Reliability Evaluation of
Power Systems* (1996) ch. 12, and Billinton & Wang, "Distribution system
reliability cost/worth analysis using analytical and sequential simulation
techniques", IEEE Trans. PWRS 13(4), 1998. Whole years are drawn at once: the
up/down sequences of all components are one matrix, cumulated along time.

What each failure does to each load point comes from the same effect matrix
as the analytic method (:mod:`cosim.reliability.fmea`). With
``OverlapModel.ADDITIVE`` (the default) overlapping outages of one load point
are counted independently, exactly the approximation of the analytic method,
so the Monte Carlo mean converges to the analytic value; ``OverlapModel.MERGE``
merges them (one interruption from the first loss of supply to the last
restoration), which is what a customer would see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from .data import DistributionSystemData
from .fmea import FailureModes, Restoration
from .indices import (
    HOURS_PER_YEAR,
    IEEE_1366_MOMENTARY_THRESHOLD_S,
    InterruptionTotals,
    ReliabilityIndices,
    accumulate_interruptions,
    index_arrays,
    reliability_indices,
)
from .topology import Topology

HOURS_PER_DAY = 24.0


class DurationModel(str, Enum):
    """Distribution of a repair or switching duration around its mean."""

    EXPONENTIAL = "exponential"
    FIXED = "fixed"


class OverlapModel(str, Enum):
    """How overlapping interruptions of one load point are counted."""

    ADDITIVE = "additive"  # independent, as the analytic method
    MERGE = "merge"  # union of the outage intervals


@dataclass(frozen=True)
class FailureEvents:
    """Component failures over the simulated horizon (hours from the start of year 0)."""

    component: np.ndarray  # int index into FailureModes
    start_hours: np.ndarray
    repair_hours: np.ndarray  # this failure's repair (or replacement) duration
    switching_hours: np.ndarray  # this failure's isolation and switching duration

    def __len__(self) -> int:
        return int(self.component.size)


@dataclass(frozen=True)
class Interruptions:
    """Interruption records of load points (indices into the load-point table)."""

    load_point: np.ndarray
    start_hours: np.ndarray
    duration_hours: np.ndarray

    def __len__(self) -> int:
        return int(self.load_point.size)


PER_YEAR_FIELDS = (
    "saifi_per_year", "saidi_hours_per_year", "caidi_hours", "asai", "maifi_per_year",
    "ens_mwh_per_year", "aens_kwh_per_customer_year", "ens_momentary_mwh_per_year",
    "major_event_days_per_year", "saifi_excl_med_per_year", "saidi_excl_med_hours_per_year",
)  # fmt: skip
MED_FIELDS = ("major_event_days_per_year", "saifi_excl_med_per_year", "saidi_excl_med_hours_per_year")
"""Per-year columns of the major event day split (IEEE 1366-2012 4.5): :func:`_major_event_split`."""


@dataclass(frozen=True)
class MonteCarloResult:
    """The simulated years: a per-year table and the indices pooled over all years."""

    years: int
    per_year: np.ndarray  # structured array: "year", "failures", then PER_YEAR_FIELDS
    pooled: ReliabilityIndices  # per load point and feeder, averaged over all years
    failures: int
    interruptions: int
    major_event_threshold_minutes: float  # T_MED (daily SAIDI, customer minutes per customer); NaN if it could not be set


def _draw_durations(rng: np.random.Generator, mean_hours: np.ndarray, model: DurationModel) -> np.ndarray:
    if model is DurationModel.FIXED:
        return np.array(mean_hours, dtype=float, copy=True)
    return rng.exponential(1.0, size=np.shape(mean_hours)) * mean_hours


class _FailureHistory:
    """The running up/down history of every component, drawn one horizon at a time.

    ``next_up_hours[c]`` is when component c next starts an up period. Up
    times are exponential, so a component known to be up at the end of one
    horizon can restart its draw there without bias (memorylessness); one
    still under repair keeps its restoration time.
    """

    def __init__(self, modes: FailureModes, rng: np.random.Generator, repair_model: DurationModel) -> None:
        self.active = np.flatnonzero(modes.failure_rate_per_year > 0)
        self.mean_up_hours = HOURS_PER_YEAR / modes.failure_rate_per_year[self.active]
        self.mean_down_hours = modes.repair_hours[self.active]
        self.rate_max = float(modes.failure_rate_per_year.max(initial=0.0))
        self.next_up_hours = np.zeros(self.active.size)
        self.rng = rng
        self.repair_model = repair_model

    def until(self, horizon_hours: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Failures starting before ``horizon_hours``: (component, start_hours, repair_hours), unsorted."""
        expected = self.rate_max * max(horizon_hours - float(self.next_up_hours.min(initial=0.0)), 0.0) / HOURS_PER_YEAR
        block = int(np.ceil(expected + 6.0 * np.sqrt(expected) + 8))
        components, starts, repairs = [], [], []
        pending = np.flatnonzero(self.next_up_hours < horizon_hours)
        while pending.size:
            up = self.rng.exponential(1.0, size=(pending.size, block)) * self.mean_up_hours[pending, None]
            down = _draw_durations(self.rng, np.broadcast_to(self.mean_down_hours[pending, None], up.shape), self.repair_model)
            # failure k happens after k+1 up periods and k down periods
            failure = self.next_up_hours[pending, None] + np.cumsum(up, axis=1) + np.cumsum(down, axis=1) - down
            inside = failure < horizon_hours  # monotone along each row
            rows, cols = np.nonzero(inside)
            components.append(self.active[pending[rows]])
            starts.append(failure[rows, cols])
            repairs.append(down[rows, cols])
            count = inside.sum(axis=1)
            last = np.maximum(count - 1, 0)
            restored = np.where(count > 0, failure[np.arange(pending.size), last] + down[np.arange(pending.size), last], self.next_up_hours[pending])
            finished = count < block
            self.next_up_hours[pending] = np.where(
                finished, np.maximum(restored, horizon_hours), failure[:, -1] + down[:, -1]
            )
            pending = pending[~finished]
        if not components:
            return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
        return np.concatenate(components).astype(np.int64), np.concatenate(starts), np.concatenate(repairs)


def _events(modes: FailureModes, parts: tuple[np.ndarray, np.ndarray, np.ndarray], rng: np.random.Generator, switching_model: DurationModel) -> FailureEvents:
    component, start, repair = parts
    order = np.argsort(start, kind="stable")
    component = component[order]
    switching = _draw_durations(rng, modes.switching_hours[component], switching_model)
    return FailureEvents(component, start[order], repair[order], switching)


def sample_failures(
    modes: FailureModes,
    years: int,
    rng: np.random.Generator,
    repair_model: DurationModel = DurationModel.EXPONENTIAL,
    switching_model: DurationModel = DurationModel.FIXED,
) -> FailureEvents:
    """Alternating up/down history of every component over ``years`` years (simulated time).

    Draws blocks of up and down times for all components at once and
    cumulates them; a further block is drawn only for components whose history
    has not yet reached the horizon.
    """
    history = _FailureHistory(modes, rng, repair_model)
    return _events(modes, history.until(years * HOURS_PER_YEAR), rng, switching_model)


def expand_interruptions(modes: FailureModes, events: FailureEvents, overlap: OverlapModel = OverlapModel.ADDITIVE) -> Interruptions:
    """One record per (failure, interrupted load point), durations by the effect matrix.

    A load point restored by switching is back after min(switching, repair).
    """
    component, load_point = np.nonzero(modes.effect)  # row-major: grouped by component
    code = modes.effect[component, load_point]
    per_component = np.bincount(component, minlength=len(modes))
    first = np.concatenate(([0], np.cumsum(per_component)[:-1]))
    repeats = per_component[events.component]
    event = np.repeat(np.arange(len(events)), repeats)
    offset = np.arange(event.size) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    flat = first[events.component[event]] + offset
    repair = events.repair_hours[event]
    duration = np.where(code[flat] == Restoration.SWITCHING, np.minimum(events.switching_hours[event], repair), repair)
    records = Interruptions(load_point[flat], events.start_hours[event], duration)
    return _merge_overlaps(records) if overlap is OverlapModel.MERGE else records


def _merge_overlaps(records: Interruptions) -> Interruptions:
    """Union of overlapping outage intervals per load point (vectorised interval merge)."""
    if len(records) == 0:
        return records
    order = np.lexsort((records.start_hours, records.load_point))
    lp = records.load_point[order]
    start = records.start_hours[order]
    end = start + records.duration_hours[order]
    # Shift each load point's times into its own band so one running maximum serves all groups.
    band = (end.max() - start.min() + 1.0) * lp
    running_end = np.maximum.accumulate(end + band) - band
    new_group = np.ones(lp.size, dtype=bool)
    new_group[1:] = (lp[1:] != lp[:-1]) | (start[1:] > running_end[:-1])
    first = np.flatnonzero(new_group)
    merged_end = np.maximum.reduceat(end, first)
    return Interruptions(lp[first], start[first], merged_end - start[first])


def simulate(
    system: DistributionSystemData,
    topology: Topology,
    modes: FailureModes,
    years: int,
    rng: np.random.Generator,
    *,
    repair_model: DurationModel = DurationModel.EXPONENTIAL,
    switching_model: DurationModel = DurationModel.FIXED,
    overlap: OverlapModel = OverlapModel.ADDITIVE,
    momentary_threshold_s: float = IEEE_1366_MOMENTARY_THRESHOLD_S,
    chunk_years: int = 50_000,
) -> MonteCarloResult:
    """Simulate ``years`` years and tabulate the indices of each one.

    An interruption belongs to the year in which it starts. Years are
    simulated ``chunk_years`` at a time to bound memory (about 1.5 kB a
    simulated year for Bus 2); with ``OverlapModel.MERGE`` outages overlapping
    a chunk boundary are not merged. Raises ``ValueError`` if ``years`` is not
    positive.
    """
    if years <= 0:
        raise ValueError(f"years must be positive, got {years}")
    lps = system.load_points
    threshold_hours = momentary_threshold_s / 3600.0
    history = _FailureHistory(modes, rng, repair_model)
    per_year = np.zeros(years, dtype=[("year", np.int64), ("failures", np.int64)] + [(name, float) for name in PER_YEAR_FIELDS])
    per_year["year"] = np.arange(years)
    pooled_totals: InterruptionTotals | None = None
    failures = interruptions = 0
    t_med: float | None = None
    for first_year in range(0, years, chunk_years):
        # Chunks bound memory; the component histories run on across chunk boundaries.
        chunk = min(chunk_years, years - first_year)
        events = _events(modes, history.until((first_year + chunk) * HOURS_PER_YEAR), rng, switching_model)
        records = expand_interruptions(modes, events, overlap)
        year = np.minimum((records.start_hours // HOURS_PER_YEAR).astype(np.int64), first_year + chunk - 1) - first_year
        customers = lps.customers[records.load_point]
        load_kw = lps.average_load_kw[records.load_point]
        # Per-year system sums: every load point folded into one column.
        yearly = accumulate_interruptions(
            np.zeros_like(records.load_point), records.duration_hours, customers, load_kw, 1,
            period_index=year, n_periods=chunk, momentary_threshold_hours=threshold_hours,
        )  # fmt: skip
        table = index_arrays(yearly, np.array([lps.customers.sum()]), 1.0)
        rows = slice(first_year, first_year + chunk)
        per_year["failures"][rows] = np.bincount((events.start_hours // HOURS_PER_YEAR).astype(np.int64) - first_year, minlength=chunk)[:chunk]
        for name in PER_YEAR_FIELDS:
            if name not in MED_FIELDS:
                per_year[name][rows] = table[name]
        if t_med is None:
            t_med = _major_event_threshold(records, customers, float(lps.customers.sum()), threshold_hours)
        split = _major_event_split(records, year, first_year, chunk, customers, float(lps.customers.sum()), threshold_hours, t_med)
        for name, values in split.items():
            per_year[name][rows] = values
        totals = accumulate_interruptions(records.load_point, records.duration_hours, customers, load_kw, len(lps), momentary_threshold_hours=threshold_hours)
        pooled_totals = totals if pooled_totals is None else _add(pooled_totals, totals)
        failures += len(events)
        interruptions += len(records)
    assert pooled_totals is not None
    feeders = [topology.feeder_names[f] for f in topology.feeder_of_load_point]
    pooled = reliability_indices(pooled_totals, lps.load_point_id.tolist(), lps.customers, float(years), feeders)
    return MonteCarloResult(years, per_year, pooled, failures, interruptions, math.nan if t_med is None else t_med)


def _daily_saidi_minutes(records: Interruptions, customers: np.ndarray, served: float,
                         threshold_hours: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(day of each record, the days with a sustained interruption, SAIDI of each of those days in minutes)."""
    day = (records.start_hours // HOURS_PER_DAY).astype(np.int64)  # an interruption belongs to the day it begins
    sustained = records.duration_hours > threshold_hours
    days, inverse = np.unique(day[sustained], return_inverse=True)
    minutes = np.bincount(inverse, weights=customers[sustained] * records.duration_hours[sustained] * 60.0, minlength=days.size)
    return day, days, minutes / served


def _major_event_threshold(records: Interruptions, customers: np.ndarray, served: float, threshold_hours: float) -> float:
    """T_MED of the simulated history (IEEE 1366-2012 4.5.1: exp(alpha + 2.5 beta) of the nonzero daily SAIDI).

    The standard takes five years of history; a simulation has its own, far
    longer history of the same process, which estimates the same alpha and
    beta with less noise. NaN with fewer than two interrupted days.
    """
    from .ieee1366 import major_event_threshold  # imports this package's index constants

    _, _, daily = _daily_saidi_minutes(records, customers, served, threshold_hours)
    return major_event_threshold(daily) if daily.size >= 2 else math.nan


def _major_event_split(records: Interruptions, year: np.ndarray, first_year: int, n_years: int, customers: np.ndarray,
                       served: float, threshold_hours: float, t_med: float) -> dict[str, np.ndarray]:
    """Per year of the chunk: major event days (daily SAIDI above ``t_med``), and SAIFI and SAIDI without their interruptions.

    ``year`` is each record's year counted from ``first_year`` (the chunk's first).
    """
    day, days, daily = _daily_saidi_minutes(records, customers, served, threshold_hours)
    major = days[daily > t_med] if math.isfinite(t_med) else days[:0]
    keep = ~np.isin(day, major) & (records.duration_hours > threshold_hours)
    med_year = np.minimum(((major * HOURS_PER_DAY) // HOURS_PER_YEAR).astype(np.int64), first_year + n_years - 1) - first_year
    return {
        "major_event_days_per_year": np.bincount(med_year, minlength=n_years)[:n_years].astype(float),
        "saifi_excl_med_per_year": np.bincount(year[keep], weights=customers[keep], minlength=n_years)[:n_years] / served,
        "saidi_excl_med_hours_per_year": np.bincount(year[keep], weights=customers[keep] * records.duration_hours[keep],
                                                     minlength=n_years)[:n_years] / served,
    }


def _add(left: InterruptionTotals, right: InterruptionTotals) -> InterruptionTotals:
    return InterruptionTotals(**{name: getattr(left, name) + getattr(right, name) for name in InterruptionTotals.__dataclass_fields__})
