"""The IEEE 1366 indices that need the interruption records themselves, and major event days.

One job: from interruption records (load point, start, end, in simulated
seconds) compute what sums per load point cannot give -- how many *distinct*
customers were interrupted, how many times each one was, which momentary
interruptions belong to one reclosing sequence -- and find major event days
by the 2.5 beta method. Pure functions over numpy arrays.

Definitions, IEEE Std 1366-2012:

- CAIFI = customers interrupted / distinct customers interrupted (4.1.4);
- CTAIDI = customer interruption durations / distinct customers interrupted (4.1.5);
- CEMI_n = customers with more than n sustained interruptions / customers served (4.1.8);
- CEMSMI_n = customers with more than n sustained interruptions and momentary
  interruption events / customers served (4.3.3);
- MAIFI_E = customer momentary interruption events / customers served (4.3.2).
  A momentary interruption *event* gathers every interruption that starts
  within five minutes of the first one of a sequence (3.15: "all reclosing
  operations that occur within 5 min of the first interruption"); an event
  that ends in a sustained interruption is that sustained interruption, so
  three shots and a lockout count SAIFI 1 and MAIFI_E 0 (MAIFI counts 3);
- ASIFI = connected kVA interrupted / connected kVA served (4.2.1) and
  ASIDI = connected kVA x duration / connected kVA served (4.2.2); the
  records carry average load (kW), so it stands for the connected kVA, as
  load-based indices are commonly computed when kVA ratings are not given;
- major event days (4.5): from daily SAIDI over (ideally) five years, alpha and
  beta are the mean and standard deviation of ln(daily SAIDI) over the days
  with a nonzero SAIDI, T_MED = exp(alpha + 2.5 beta), and a day whose SAIDI
  exceeds T_MED is a major event day. An interruption belongs to the day it
  begins.

CEMI_n and CEMSMI_n count interruptions over the whole period of the records
(the standard's reporting period is a year).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .indices import HOURS_PER_YEAR, IEEE_1366_MOMENTARY_THRESHOLD_S

MOMENTARY_EVENT_WINDOW_S = 300.0
"""IEEE 1366-2012 3.15: reclosing operations within 5 min of the first interruption form one event."""

SECONDS_PER_DAY = 86_400.0
MED_BETA_MULTIPLIER = 2.5  # IEEE 1366-2012 4.5.1


@dataclass(frozen=True)
class RecordIndices:
    """Indices of IEEE 1366 that need per-customer counts (see the module docstring)."""

    caifi: float  # NaN if nobody was interrupted
    ctaidi_hours: float  # NaN if nobody was interrupted
    maifi_e_per_year: float
    asifi_per_year: float
    asidi_hours_per_year: float
    cemi: dict[int, float]  # n -> CEMI_n
    cemsmi: dict[int, float]  # n -> CEMSMI_n

    def as_dict(self) -> dict[str, float]:
        flat = {name: float(getattr(self, name)) for name in ("caifi", "ctaidi_hours", "maifi_e_per_year", "asifi_per_year", "asidi_hours_per_year")}
        flat.update({f"cemi_{n}": v for n, v in self.cemi.items()})
        flat.update({f"cemsmi_{n}": v for n, v in self.cemsmi.items()})
        return flat


def momentary_events(load_point: np.ndarray, start_s: np.ndarray, end_s: np.ndarray,
                     momentary_threshold_s: float = IEEE_1366_MOMENTARY_THRESHOLD_S,
                     window_s: float = MOMENTARY_EVENT_WINDOW_S) -> np.ndarray:
    """For each record, True if it opens a momentary interruption event (False for the rest of its sequence).

    Records of one load point are grouped into sequences: a record starting
    within ``window_s`` of the first record of the current sequence joins it.
    A sequence with a sustained record is not a momentary event at all.
    """
    lp = np.asarray(load_point)
    start = np.asarray(start_s, dtype=float)
    end = np.asarray(end_s, dtype=float)
    opens = np.zeros(start.size, dtype=bool)
    order = np.lexsort((start, lp))
    current: list[int] = []

    def close(sequence: list[int]) -> None:
        if sequence and all(end[i] - start[i] <= momentary_threshold_s for i in sequence):
            opens[sequence[0]] = True

    for i in order:
        if current and lp[i] == lp[current[0]] and start[i] - start[current[0]] <= window_s:
            current.append(int(i))
        else:
            close(current)
            current = [int(i)]
    close(current)
    return opens


def record_indices(load_point_index: np.ndarray, start_s: np.ndarray, end_s: np.ndarray, customers_served: np.ndarray,
                   load_kw: np.ndarray, period_years: float, *, momentary_threshold_s: float = IEEE_1366_MOMENTARY_THRESHOLD_S,
                   ns: Sequence[int] = (1, 2, 3, 4, 5)) -> RecordIndices:
    """CAIFI, CTAIDI, MAIFI_E, ASIFI, ASIDI, CEMI_n and CEMSMI_n of whole-load-point interruption records.

    ``load_point_index`` indexes ``customers_served`` and ``load_kw`` (every
    load point served, interrupted or not). Raises ``ValueError`` for a
    non-positive period.
    """
    if period_years <= 0:
        raise ValueError(f"period_years must be positive, got {period_years}")
    index = np.asarray(load_point_index, dtype=np.int64)
    start = np.asarray(start_s, dtype=float)
    end = np.asarray(end_s, dtype=float)
    served = np.asarray(customers_served, dtype=float)
    kw = np.asarray(load_kw, dtype=float)
    hours = (end - start) / 3600.0
    sustained = (end - start) > momentary_threshold_s  # 3.28: sustained is "more than" the threshold
    events = momentary_events(index, start, end, momentary_threshold_s)
    n_lp = served.size
    sustained_count = np.bincount(index[sustained], minlength=n_lp)
    event_count = np.bincount(index[events], minlength=n_lp)
    interrupted = sustained_count > 0
    distinct = float(served[interrupted].sum())
    customer_interruptions = float((served * sustained_count).sum())
    customer_hours = float((served[index] * hours * sustained).sum())
    total_served = float(served.sum())
    total_kw = float(kw.sum())
    return RecordIndices(
        caifi=customer_interruptions / distinct if distinct else math.nan,
        ctaidi_hours=customer_hours / distinct if distinct else math.nan,
        maifi_e_per_year=float((served * event_count).sum()) / total_served / period_years,
        asifi_per_year=float((kw * sustained_count).sum()) / total_kw / period_years,
        asidi_hours_per_year=float((kw[index] * hours * sustained).sum()) / total_kw / period_years,
        cemi={n: float(served[sustained_count > n].sum()) / total_served for n in ns},
        cemsmi={n: float(served[sustained_count + event_count > n].sum()) / total_served for n in ns},
    )


def daily_saidi_minutes(start_s: np.ndarray, end_s: np.ndarray, customers: np.ndarray, customers_served: float,
                        days: int, momentary_threshold_s: float = IEEE_1366_MOMENTARY_THRESHOLD_S) -> np.ndarray:
    """SAIDI of each day (customer minutes of sustained interruptions / customers served), by day of start."""
    start = np.asarray(start_s, dtype=float)
    duration = np.asarray(end_s, dtype=float) - start
    keep = duration > momentary_threshold_s
    day = (start[keep] // SECONDS_PER_DAY).astype(np.int64)
    minutes = duration[keep] / 60.0 * np.asarray(customers, dtype=float)[keep]
    return np.bincount(day, weights=minutes, minlength=days)[:days] / customers_served


def major_event_threshold(daily_saidi: np.ndarray) -> float:
    """T_MED = exp(alpha + 2.5 beta) of the days with nonzero SAIDI (IEEE 1366-2012 4.5.1).

    Raises ``ValueError`` with fewer than two such days.
    """
    values = np.asarray(daily_saidi, dtype=float)
    logs = np.log(values[values > 0])
    if logs.size < 2:
        raise ValueError("the 2.5 beta method needs at least two days with a nonzero SAIDI")
    return float(np.exp(logs.mean() + MED_BETA_MULTIPLIER * logs.std(ddof=1)))


def major_event_days(daily_saidi: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Indices of the days whose SAIDI exceeds ``threshold`` (default: T_MED of these days)."""
    values = np.asarray(daily_saidi, dtype=float)
    limit = major_event_threshold(values) if threshold is None else threshold
    return np.flatnonzero(values > limit)


def outside_major_event_days(start_s: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Mask of the records that begin on none of ``days`` (the records kept when major event days are excluded)."""
    day = (np.asarray(start_s, dtype=float) // SECONDS_PER_DAY).astype(np.int64)
    return ~np.isin(day, np.asarray(days, dtype=np.int64))


def years_of(seconds: float) -> float:
    return seconds / (HOURS_PER_YEAR * 3600.0)
