"""Customer baseline load (CBL): what a DR site would have used without the event.

PJM's default rule (M11 s.10), vectorised over a whole population at once:

* Weekday event: from the 45 days before the event take the 5 most recent
  eligible weekdays (not event days, not holidays), keep the 4 with the
  highest average load over the event hours, average them interval by
  interval ("High 4 of 5"). Saturdays and Sundays/holidays use "High 2 of 3"
  over days of their own kind. The rule constants are :data:`CBL_RULES`.
* Symmetric additive adjustment: add to the whole CBL the mean of
  (actual - CBL) over the 3 hours that end 1 hour before the event starts,
  so a site running hotter (or cooler) than usual that morning gets a
  baseline shifted up (or down) by the same amount.

Arrays: ``history_kw`` is (sites, days, intervals) with days oldest first and
ending the day before the event; ``event_day_kw`` is (sites, intervals).
There is no Python loop over sites: 50,000 sites x 45 days of hourly data is a
few hundred MB and a few seconds (see benchmarks/bench_markets.py).
Not modelled: PJM's exclusion of low-usage days (< 25 % of the average) and
the extension of the window when fewer than 5 eligible days exist; sites
with fewer eligible days simply average the ones they have.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cosim.markets.rules import CBL_RULES, CblRule, DayKind

FloatArray = NDArray[np.floating]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class CblResult:
    cbl_kw: FloatArray                 # (sites, intervals), unadjusted
    adjustment_kw: FloatArray          # (sites,)
    adjusted_cbl_kw: FloatArray        # (sites, intervals)
    selected_days: NDArray[np.int64]   # (sites, X) day indices into history, -1 = none
    n_selected: NDArray[np.int64]      # (sites,)


def event_mask(n_intervals: int, start_interval: int, end_interval: int) -> BoolArray:
    """Boolean (intervals,) mask of the event, ``end_interval`` exclusive."""
    mask = np.zeros(n_intervals, dtype=bool)
    mask[start_interval:end_interval] = True
    return mask


def customer_baseline(
    history_kw: FloatArray,
    eligible: BoolArray,
    event_day_kw: FloatArray,
    start_interval: int,
    end_interval: int,
    intervals_per_hour: int = 1,
    rule: CblRule = CBL_RULES[DayKind.WEEKDAY],
    adjust: bool = True,
) -> CblResult:
    """High X of Y CBL with symmetric additive adjustment, for every site at once.

    ``eligible`` is (days,) or (sites, days): True where a day is of the event
    day's kind and not excluded (event day, holiday, outage). Loads in kW (any
    power unit works; the output is in the same unit). Raises ValueError if
    the shapes disagree or the adjustment window falls before midnight.
    """
    n_sites, n_days, n_int = history_kw.shape
    if event_day_kw.shape != (n_sites, n_int):
        raise ValueError(f"event_day_kw shape {event_day_kw.shape} != {(n_sites, n_int)}")
    elig = np.broadcast_to(np.asarray(eligible, dtype=bool), (n_sites, n_days)).copy()
    # Lookback: only the last `lookback_days` calendar days before the event.
    elig[:, : max(0, n_days - rule.lookback_days)] = False
    # Y most recent eligible days: rank eligible days from the newest backwards.
    newest_rank = np.cumsum(elig[:, ::-1], axis=1)[:, ::-1]
    candidate = elig & (newest_rank <= rule.candidate_days)

    ev = slice(start_interval, end_interval)
    score = history_kw[:, :, ev].mean(axis=2, dtype=np.float64)
    score = np.where(candidate, score, -np.inf)
    # Top X by score; stable order so ties pick the more recent day deterministically.
    order = np.argsort(-score[:, ::-1], axis=1, kind="stable")[:, : rule.selected_days]
    chosen = n_days - 1 - order
    valid = np.take_along_axis(candidate, chosen, axis=1)
    n_sel = valid.sum(axis=1)

    picked = np.take_along_axis(history_kw, chosen[:, :, None], axis=1).astype(np.float64)
    picked *= valid[:, :, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        cbl = picked.sum(axis=1) / n_sel[:, None]

    if adjust:
        a_end = start_interval - rule.adjustment_gap_hours * intervals_per_hour
        a_start = a_end - rule.adjustment_hours * intervals_per_hour
        if a_start < 0:
            raise ValueError("symmetric adjustment window starts before midnight of the event day")
        window = slice(a_start, a_end)
        adj = (event_day_kw[:, window].astype(np.float64) - cbl[:, window]).mean(axis=1)
    else:
        adj = np.zeros(n_sites)
    return CblResult(cbl, adj, cbl + adj[:, None], np.where(valid, chosen, -1), n_sel)
