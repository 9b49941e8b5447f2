"""Per-site and per-ZIP results of a CSP's Load Management day: what each site's meter says it delivered.

A Curtailment Service Provider answers to its customers site by site: for
every site it enrolled, the baseline the market's rule gives it over the
hours of each Load Management event in its zone, what its meter read over
those hours, the difference, and the credit passed on. Sites of a zone with
an event that were *not* called (outside a sub-zone's ZIP codes, another
lead time) get the same measurement, so the table shows that they did not
curtail (reduction near 0) beside the sites that did.

The baseline is PJM's weekday CBL (Manual 11 section 10, High 4 of 5 with
the symmetric additive adjustment) through :func:`cosim.markets.baseline.customer_baseline`,
the function settlement uses, so a called site's reduction here is the one
it was settled on. A site in several events gets the mean over them (as
settlement averages them). Pure functions over arrays, one row per site:
bounded work for a million sites.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..markets.baseline import customer_baseline
from ..markets.settlement import same_day_adjustment

FloatArray = NDArray[np.float64]

#: Columns of ``dr_sites.csv`` (one row per enrolled site of each CSP).
SITE_COLUMNS = ("site_id", "csp", "resource_id", "zone", "zip", "called", "events", "baseline_kw", "metered_kw",
                "reduction_kw", "credit_usd")
#: Columns of ``dr_zips.csv`` (one row per CSP, zone and ZIP code).
ZIP_COLUMNS = ("csp", "zone", "zip", "sites", "called_sites", "baseline_mw", "metered_mw", "reduction_mw",
               "credit_usd")


@dataclass(frozen=True)
class EventWindow:
    """One Load Management event as the CSP was told it: zone, window (simulated s) and the resources called."""

    event_id: str
    zone: str
    start_s: float
    end_s: float
    resource_ids: frozenset[str]


def merge_dispatches(windows: Sequence[EventWindow]) -> list[EventWindow]:
    """One window per (event, zone): the lead-time groups of one event merged (earliest start, latest end)."""
    merged: dict[tuple[str, str], EventWindow] = {}
    for w in windows:
        prior = merged.get((w.event_id, w.zone))
        merged[(w.event_id, w.zone)] = w if prior is None else EventWindow(
            w.event_id, w.zone, min(prior.start_s, w.start_s), max(prior.end_s, w.end_s),
            prior.resource_ids | w.resource_ids)
    return [merged[k] for k in sorted(merged)]


@dataclass(frozen=True)
class SiteResults:
    """Per site (aligned with the meter data's sites): event count and the mean kW over its zone's event hours."""

    events: NDArray[np.int64]    # LM events in the site's zone that day
    called: NDArray[np.bool_]    # its resource was called in at least one of them
    baseline_kw: FloatArray      # NaN where its zone had no event
    metered_kw: FloatArray

    @property
    def reduction_kw(self) -> FloatArray:
        return self.baseline_kw - self.metered_kw


def site_results(history_kwh: NDArray[np.floating], eligible: NDArray[np.bool_], event_day_kwh: NDArray[np.floating],
                 site_zone: Sequence[str] | NDArray[np.str_], site_resource_id: NDArray[np.str_],
                 windows: Sequence[EventWindow], day: int = 0) -> SiteResults:
    """Baseline and metered kW of every site over its zone's event hours of simulated ``day``.

    ``history_kwh`` is (sites, days, 24) and ``event_day_kwh`` (sites, 24)
    hourly kWh (= mean kW); ``eligible`` (days,) marks the days the CBL may
    use. An event's hours run from the hour of its start to the hour its end
    falls in (partial hours count whole, as settlement does).
    """
    n = event_day_kwh.shape[0]
    zone = np.asarray(site_zone)
    resource = np.asarray(site_resource_id)
    events = np.zeros(n, dtype=np.int64)
    called = np.zeros(n, dtype=bool)
    baseline = np.zeros(n)
    metered = np.zeros(n)
    for w in windows:
        start_h, end_h = int(w.start_s // 3600) - 24 * day, int(-(-w.end_s // 3600)) - 24 * day
        if not 0 <= start_h < end_h <= 24:
            continue
        sites = np.flatnonzero(zone == w.zone)
        if sites.size == 0:
            continue
        day_kwh = event_day_kwh[sites].astype(np.float64)
        cbl = customer_baseline(history_kwh[sites].astype(np.float64), eligible, day_kwh, start_h, end_h, 1,
                                adjust=same_day_adjustment(start_h)).adjusted_cbl_kw
        baseline[sites] += cbl[:, start_h:end_h].mean(axis=1)
        metered[sites] += day_kwh[:, start_h:end_h].mean(axis=1)
        events[sites] += 1
        called[sites] |= np.isin(resource[sites], sorted(w.resource_ids))
    with np.errstate(invalid="ignore", divide="ignore"):
        return SiteResults(events, called, baseline / events, metered / events)


def zip_totals(csp: str, site_zone: NDArray[np.str_], site_zip: NDArray[np.str_], results: SiteResults,
               credit_usd: FloatArray) -> list[NDArray[np.generic] | list[str]]:
    """Columns of ``dr_zips.csv`` for one CSP: sums over its sites per (zone, ZIP); MW over event hours only."""
    zones, zone_code = np.unique(np.asarray(site_zone, dtype=str), return_inverse=True)
    zips, zip_code = np.unique(np.asarray(site_zip, dtype=str), return_inverse=True)
    unique, inverse = np.unique(zone_code * zips.size + zip_code, return_inverse=True)
    measured = results.events > 0

    def total(values: NDArray[np.generic]) -> FloatArray:
        return np.asarray(np.bincount(inverse, weights=np.asarray(values, dtype=np.float64), minlength=unique.size),
                          dtype=np.float64)

    zone_zip = [(str(zones[k // zips.size]), str(zips[k % zips.size])) for k in unique.tolist()]
    return [[csp] * unique.size, [z for z, _ in zone_zip], [p for _, p in zone_zip],
            np.bincount(inverse, minlength=unique.size), total(results.called).astype(np.int64),
            total(np.where(measured, results.baseline_kw, 0.0)) / 1000.0,
            total(np.where(measured, results.metered_kw, 0.0)) / 1000.0,
            total(np.where(measured, results.reduction_kw, 0.0)) / 1000.0,
            total(credit_usd)]
