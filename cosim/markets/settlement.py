"""Settlement of DR per Curtailment Service Provider: pure functions, vectorised over sites.

Three separate streams, as PJM keeps them (and as the market's settlement
table shows them):

* **capacity** (:func:`capacity_payments`) -- RPM clearing price ($/MW-day)
  x cleared UCAP MW x delivery days, once per delivery day whether or not
  any event is called (OATT Attachment DD; PJM Manual 18 section 8);
* **Load Management energy and Capacity Performance**
  (:func:`settle_load_management`) -- each called site's reduction is its
  adjusted CBL minus its metered load (M11 section 10: High 4 of 5 with
  symmetric additive adjustment, :mod:`cosim.markets.baseline`); the energy
  payment is the positive reduction MWh x the interval LMP at the site's
  node (an interval where a site used *more* than its CBL counts as zero,
  not as a negative payment: a modelling choice); every called resource is
  assessed per 5-minute interval with bonus and stop-loss
  (:mod:`cosim.markets.performance`);
* **economic DR energy** (:func:`economic_dr_energy`) -- M11 section 10.4:
  a reduction dispatched in the real-time market is paid the full LMP when
  the LMP is at or above the month's Net Benefits Test price threshold
  (FERC Order 745); below it, the reduction is not paid. The paid MW is the
  measured reduction, capped at the MW the SCED cleared.

Loads are kW, MW where named so, money in $.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cosim.markets.baseline import customer_baseline
from cosim.markets.rules import CBL_RULES, DayKind
from cosim.markets.performance import (
    PAI_INTERVALS_PER_HOUR,
    CpParameters,
    assess_capacity_performance,
    interval_mask,
    to_five_minute,
)

FloatArray = NDArray[np.floating]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def interval_reduction_kw(cbl_kw: FloatArray, actual_kw: FloatArray, mask: BoolArray) -> FloatArray:
    """(sites, event intervals) reduction = CBL - actual, in the loads' unit."""
    return (cbl_kw[:, mask] - actual_kw[:, mask]).astype(np.float64)


def mean_reduction_kw(cbl_kw: FloatArray, actual_kw: FloatArray, mask: BoolArray) -> FloatArray:
    """(sites,) event performance: mean of CBL - actual over the event intervals."""
    return interval_reduction_kw(cbl_kw, actual_kw, mask).mean(axis=1)


# -- capacity ---------------------------------------------------------------------------------

def capacity_payments(cleared_mw: Mapping[tuple[str, str], float], price_usd_per_mw_day: Mapping[tuple[str, str], float],
                      delivery_days: int) -> dict[str, float]:
    """$ per CSP for ``delivery_days`` days: sum over its resources of price x cleared MW x days.

    Keyed by (csp, resource_id); independent of how many events were called.
    """
    out: dict[str, float] = defaultdict(float)
    for key in sorted(cleared_mw):
        out[key[0]] += price_usd_per_mw_day.get(key, 0.0) * cleared_mw[key] * delivery_days
    return dict(out)


def same_day_adjustment(start_h: int) -> bool:
    """True if the symmetric additive adjustment window (3 h ending 1 h before the start) lies in the event day.

    An event that starts before 04:00 would need the previous day's last
    hours, which the event day's meter data does not hold: its CBL is then
    left unadjusted (a documented simplification).
    """
    rule = CBL_RULES[DayKind.WEEKDAY]
    return start_h >= rule.adjustment_hours + rule.adjustment_gap_hours


# -- Load Management ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CspMeterData:
    """Interval meter data a CSP forwarded for M&V: hourly kWh of its sites, by resource."""

    csp: str
    resources: tuple[str, ...]
    resource_zone: tuple[str, ...]        # zone of each resource
    site_index: IntArray                  # (sites,) ids within the population
    site_resource: IntArray               # (sites,) index into resources
    history_kwh: FloatArray               # (sites, days, 24)
    event_day_kwh: FloatArray             # (sites, 24)
    eligible: BoolArray                   # (days,) days that may enter the CBL


@dataclass(frozen=True)
class LmCall:
    """One CSP's part of one Load Management event."""

    event_id: str
    csp: str
    resource_ids: frozenset[str]
    start_s: float
    end_s: float


@dataclass(frozen=True)
class ResourcePerformance:
    event_id: str
    csp: str
    resource_id: str
    zone: str
    committed_mw: float
    delivered_mw: float          # mean reduction over the event
    shortfall_mwh: float
    bonus_mwh: float
    non_performance_charge_usd: float
    bonus_payment_usd: float


@dataclass(frozen=True)
class EventSettlement:
    """One CSP in one Load Management event (sums over its called resources)."""

    event_id: str
    csp: str
    committed_mw: float
    delivered_mw: float
    shortfall_mwh: float
    bonus_mwh: float
    energy_payment_usd: float
    non_performance_charge_usd: float
    bonus_payment_usd: float


@dataclass(frozen=True)
class LmSettlement:
    events: tuple[EventSettlement, ...]
    resources: tuple[ResourcePerformance, ...]
    site_reduction_kw: Mapping[str, tuple[IntArray, FloatArray]]   # csp -> (site ids, mean reduction kW)


def settle_load_management(
    calls: Sequence[LmCall],
    meters: Mapping[str, CspMeterData],
    committed_mw: Mapping[tuple[str, str], float],
    zone_hourly_lmp: Mapping[str, FloatArray],
    cp: CpParameters,
) -> LmSettlement:
    """Energy payment and CP assessment of every called resource; CSPs without meter data are skipped.

    ``committed_mw`` is keyed by (csp, resource_id) (the RPM cleared MW);
    ``zone_hourly_lmp`` gives each zone's 24 hourly LMPs of the event day.
    A resource's expected performance is its committed MW in the 5-minute
    intervals of the events it was called in; its actual performance is the
    sum of its sites' CBL - metered load, the hourly value in each 5-minute
    interval of the hour (M18 8.4A).
    """
    n5 = 24 * PAI_INTERVALS_PER_HOUR
    rows: dict[tuple[str, str], int] = {}
    expected: list[FloatArray] = []
    actual: list[FloatArray] = []
    pai: list[BoolArray] = []
    zone_of: dict[tuple[str, str], str] = {}
    per_call: list[tuple[LmCall, list[tuple[str, str]], BoolArray, float]] = []
    site_parts: dict[str, list[tuple[IntArray, FloatArray]]] = defaultdict(list)
    merged: dict[tuple[str, str], LmCall] = {}
    for c in calls:   # one CSP's groups of one event (several lead times) settle together
        prior = merged.get((c.event_id, c.csp))
        merged[(c.event_id, c.csp)] = c if prior is None else LmCall(
            c.event_id, c.csp, prior.resource_ids | c.resource_ids, min(prior.start_s, c.start_s),
            max(prior.end_s, c.end_s))
    for call in merged.values():
        m = meters.get(call.csp)
        if m is None:
            continue
        chosen = np.array([r in call.resource_ids for r in m.resources], dtype=bool)
        sites = np.flatnonzero(chosen[m.site_resource]) if len(m.resources) else np.array([], dtype=np.int64)
        if sites.size == 0:
            continue
        start_h, end_h = int(call.start_s // 3600), int(-(-call.end_s // 3600))
        history = m.history_kwh[sites].astype(np.float64)
        metered = m.event_day_kwh[sites].astype(np.float64)
        cbl = customer_baseline(history, m.eligible.astype(bool), metered, start_h, end_h, 1,
                                adjust=same_day_adjustment(start_h)).adjusted_cbl_kw
        reduction_kw = cbl - metered                                           # (sites, 24)
        hours = np.zeros(24, dtype=bool)
        hours[start_h:end_h] = True
        lmp = np.stack([np.asarray(zone_hourly_lmp.get(m.resource_zone[r], np.zeros(24)), dtype=np.float64)
                        for r in m.site_resource[sites]])
        energy = float((np.clip(reduction_kw[:, hours], 0.0, None) / 1000.0 * lmp[:, hours]).sum())
        local = m.site_resource[sites]
        called = sorted({int(r) for r in local})
        window = interval_mask(n5, call.start_s, call.end_s, PAI_INTERVALS_PER_HOUR)
        keys = []
        for r in called:
            key = (call.csp, m.resources[r])
            hourly_mw = reduction_kw[local == r].sum(axis=0) / 1000.0
            row = rows.get(key)
            if row is None:
                row = rows[key] = len(expected)
                expected.append(np.zeros(n5))
                actual.append(np.zeros(n5))
                pai.append(np.zeros(n5, dtype=bool))
                zone_of[key] = m.resource_zone[r]
            expected[row][window] = committed_mw.get(key, 0.0)
            actual[row][window] = to_five_minute(hourly_mw)[window]
            pai[row] |= window
            keys.append(key)
        per_call.append((call, keys, np.asarray(window), energy))
        site_parts[call.csp].append((m.site_index[sites], reduction_kw[:, hours].mean(axis=1)))
    if not expected:
        return LmSettlement((), (), {})
    keys_all = sorted(rows, key=rows.__getitem__)
    ucap = np.array([committed_mw.get(k, 0.0) for k in keys_all])
    result = assess_capacity_performance(np.stack(expected), np.stack(actual), np.stack(pai), ucap, cp)
    events, resources = [], []
    for call, keys, window, energy in per_call:
        idx = [rows[k] for k in keys]
        short = result.shortfall_mwh[idx][:, window].sum(axis=1)
        bonus = result.bonus_mwh[idx][:, window].sum(axis=1)
        charge = result.charge_usd[idx][:, window].sum(axis=1)
        paid = result.bonus_usd[idx][:, window].sum(axis=1)
        delivered = np.array([actual[i][window].mean() for i in idx])
        for j, key in enumerate(keys):
            resources.append(ResourcePerformance(call.event_id, call.csp, key[1], zone_of[key], committed_mw.get(key, 0.0),
                                                 float(delivered[j]), float(short[j]), float(bonus[j]), float(charge[j]),
                                                 float(paid[j])))
        events.append(EventSettlement(call.event_id, call.csp, float(sum(committed_mw.get(k, 0.0) for k in keys)),
                                      float(delivered.sum()), float(short.sum()), float(bonus.sum()), energy,
                                      float(charge.sum()), float(paid.sum())))
    site_reduction = {}
    for csp, parts in site_parts.items():   # a site called in several events: its mean over them
        ids, inverse = np.unique(np.concatenate([p[0] for p in parts]), return_inverse=True)
        total = np.bincount(inverse, weights=np.concatenate([p[1] for p in parts]), minlength=ids.size)
        site_reduction[csp] = (ids, total / np.bincount(inverse, minlength=ids.size))
    return LmSettlement(tuple(events), tuple(resources), site_reduction)


# -- economic DR -------------------------------------------------------------------------------

def economic_dr_energy(reduction_mw: FloatArray, cleared_mw: FloatArray, lmp_usd_per_mwh: FloatArray,
                       interval_h: float, nbt_threshold_usd_per_mwh: float) -> tuple[float, float]:
    """(paid MWh, $) of one economic DR resource over its SCED intervals (M11 10.4; FERC Order 745).

    Each interval pays min(measured reduction, cleared MW) at the full LMP if
    the LMP is at or above the Net Benefits Test threshold; an interval below
    it, or with nothing cleared, pays nothing.
    """
    reduction = np.clip(np.asarray(reduction_mw, dtype=np.float64), 0.0, None)
    paid_mw = np.minimum(reduction, np.clip(np.asarray(cleared_mw, dtype=np.float64), 0.0, None))
    lmp = np.asarray(lmp_usd_per_mwh, dtype=np.float64)
    paid_mw = np.where(lmp >= nbt_threshold_usd_per_mwh, paid_mw, 0.0)
    mwh = paid_mw * interval_h
    return float(mwh.sum()), float((mwh * lmp).sum())


@dataclass(frozen=True)
class EconomicSettlement:
    csp: str
    offer: str
    hours: int                   # hours the offer was dispatched
    reduction_mwh: float         # measured, over those hours
    paid_mwh: float
    energy_payment_usd: float


def settle_economic_dr(meter: CspMeterData, economic_hours: NDArray[np.uint8], resource_offer: Sequence[str],
                       cleared_mw: Mapping[str, FloatArray], zone_hourly_lmp: Mapping[str, FloatArray],
                       nbt_threshold_usd_per_mwh: float) -> tuple[EconomicSettlement, ...]:
    """Economic DR of one CSP, per offer, from hourly meter data (M11 10.4).

    ``economic_hours`` (resources, 24) marks the hours each site group ran
    economic DR; ``resource_offer`` names each group's offer; ``cleared_mw``
    gives each offer's hourly mean cleared MW. The CBL window of an offer runs
    from its first to its last dispatched hour; an hour's reduction is the sum
    over the groups that ran in it of CBL - metered load.
    """
    out = []
    hours_run = np.asarray(economic_hours, dtype=bool)
    for offer in sorted({o for o in resource_offer if o}):
        groups = np.array([o == offer for o in resource_offer]) & hours_run.any(axis=1)
        if not groups.any() or offer not in cleared_mw:
            continue
        sites = np.flatnonzero(groups[meter.site_resource])
        ran = hours_run[groups].any(axis=0)
        start_h, end_h = int(np.flatnonzero(ran)[0]), int(np.flatnonzero(ran)[-1]) + 1
        metered = meter.event_day_kwh[sites].astype(np.float64)
        cbl = customer_baseline(meter.history_kwh[sites].astype(np.float64), meter.eligible.astype(bool), metered,
                                start_h, end_h, 1, adjust=same_day_adjustment(start_h)).adjusted_cbl_kw
        site_ran = hours_run[meter.site_resource[sites]]                       # (sites, 24)
        reduction_mw = ((cbl - metered) * site_ran).sum(axis=0) / 1000.0       # (24,)
        zone = meter.resource_zone[int(np.flatnonzero(groups)[0])]
        lmp = np.asarray(zone_hourly_lmp.get(zone, np.zeros(24)), dtype=np.float64)
        cleared = np.where(ran, np.asarray(cleared_mw[offer], dtype=np.float64), 0.0)
        paid_mwh, usd = economic_dr_energy(np.where(ran, reduction_mw, 0.0), cleared, lmp, 1.0,
                                           nbt_threshold_usd_per_mwh)
        out.append(EconomicSettlement(meter.csp, offer, int(ran.sum()), float(reduction_mw[ran].sum()), paid_mwh, usd))
    return tuple(out)


# -- totals ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CspSettlement:
    """A CSP's total for the settlement period."""

    csp: str
    energy_payment_usd: float
    economic_energy_usd: float
    capacity_payment_usd: float
    non_performance_charge_usd: float
    bonus_payment_usd: float

    @property
    def net_usd(self) -> float:
        return (self.energy_payment_usd + self.economic_energy_usd + self.capacity_payment_usd
                - self.non_performance_charge_usd + self.bonus_payment_usd)


def csp_totals(csps: Sequence[str], lm: LmSettlement, capacity_usd: Mapping[str, float],
               economic_usd: Mapping[str, float]) -> tuple[CspSettlement, ...]:
    """One total per CSP (sorted), capacity counted once whatever the number of events."""
    out = []
    for csp in sorted(set(csps)):
        rows = [e for e in lm.events if e.csp == csp]
        out.append(CspSettlement(csp, sum(e.energy_payment_usd for e in rows), economic_usd.get(csp, 0.0),
                                 capacity_usd.get(csp, 0.0), sum(e.non_performance_charge_usd for e in rows),
                                 sum(e.bonus_payment_usd for e in rows)))
    return tuple(out)
