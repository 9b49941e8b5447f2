"""Capacity Performance assessment of DR resources: per resource, per 5-minute interval.

PJM assesses every Capacity Performance resource in each 5-minute interval
of a Performance Assessment Interval (PAI), not on an event average and not
netted across a provider's resources (OATT Attachment DD section 10A; PJM
Manual 18 section 8.4A):

* expected performance of a Load Management resource is its committed MW in
  each interval it was dispatched for, and 0 in a PAI interval it was not
  dispatched for (dispatch is what makes DR accountable);
* its performance shortfall in an interval is ``max(expected - actual, 0)``
  MW; the Non-Performance Charge is shortfall MW x interval hours x the
  Non-Performance Charge Rate (Net CONE x 365 / 30 $/MWh);
* its bonus performance is ``max(actual - expected, 0)`` MW; the charges
  collected in an interval are paid out to the interval's bonus performers
  pro rata to their bonus MWh (the Performance Bonus Payment);
* a resource's charges are capped by the stop-loss: 1.5 x Net CONE ($/MW-day)
  x 365 x its committed UCAP MW per delivery year, less what it was already
  charged this year. The cap scales all of its intervals' charges alike, and
  only what is collected goes into the bonus pool.

Where meter data is hourly, PJM applies the hourly reduction to each 5-minute
interval of the hour (M18 8.4A), which :func:`to_five_minute` does.

Pure functions over numpy arrays; MW and $ throughout; intervals are columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cosim.markets.rules import CP_EXPECTED_PAI_HOURS

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Assessment intervals per hour: PAIs are assessed per 5-minute interval (OATT-DD 10A).
PAI_INTERVALS_PER_HOUR = 12
#: Stop-loss multiple of annual Net CONE x UCAP (OATT-DD 10A(e)).
CP_STOP_LOSS_MULTIPLE = 1.5


@dataclass(frozen=True)
class CpParameters:
    """Auction data behind the CP charge: Net CONE in $/MW-day of UCAP (OATT-DD 10A)."""

    net_cone_usd_per_mw_day: float
    expected_pai_hours: float = CP_EXPECTED_PAI_HOURS
    stop_loss_multiple: float = CP_STOP_LOSS_MULTIPLE

    @property
    def charge_rate_usd_per_mwh(self) -> float:
        """Non-Performance Charge Rate: one year of Net CONE over the expected PAI hours."""
        return self.net_cone_usd_per_mw_day * 365.0 / self.expected_pai_hours

    def stop_loss_usd(self, ucap_mw: FloatArray) -> FloatArray:
        """Annual stop-loss of each resource, $ (1.5 x Net CONE x 365 x committed UCAP)."""
        return self.stop_loss_multiple * self.net_cone_usd_per_mw_day * 365.0 * np.asarray(ucap_mw, dtype=np.float64)


@dataclass(frozen=True)
class CpAssessment:
    """Per resource (rows) and interval (columns) results of one assessment; $ and MWh."""

    shortfall_mwh: FloatArray       # (resources, intervals)
    bonus_mwh: FloatArray           # (resources, intervals)
    charge_usd: FloatArray          # (resources, intervals), after the stop-loss
    bonus_usd: FloatArray           # (resources, intervals)
    stop_loss_applied: BoolArray    # (resources,)

    def totals(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(shortfall MWh, bonus MWh, charge $, bonus $) per resource."""
        return (self.shortfall_mwh.sum(axis=1), self.bonus_mwh.sum(axis=1),
                self.charge_usd.sum(axis=1), self.bonus_usd.sum(axis=1))


def to_five_minute(hourly: FloatArray) -> FloatArray:
    """(rows, 24 h) hourly values to (rows, 288) 5-minute values, each hour's value in its 12 intervals."""
    return np.repeat(np.asarray(hourly, dtype=np.float64), PAI_INTERVALS_PER_HOUR, axis=-1)


def interval_mask(n_intervals: int, start_s: float, end_s: float, intervals_per_hour: int) -> BoolArray:
    """Intervals of the day that lie inside [start_s, end_s) (an interval counts if it starts inside)."""
    width_s = 3600.0 / intervals_per_hour
    starts = np.arange(n_intervals) * width_s
    return (starts >= start_s - 1e-9 * max(1.0, abs(start_s))) & (starts < end_s - 1e-9 * max(1.0, abs(end_s)))


def assess_capacity_performance(
    expected_mw: FloatArray,
    actual_mw: FloatArray,
    pai: BoolArray,
    ucap_mw: FloatArray,
    params: CpParameters,
    intervals_per_hour: int = PAI_INTERVALS_PER_HOUR,
    charged_this_year_usd: FloatArray | None = None,
) -> CpAssessment:
    """Assess every resource in every PAI interval; see the module docstring for the rules.

    ``expected_mw`` and ``actual_mw`` are (resources, intervals) MW; ``pai``
    (intervals,) or (resources, intervals) marks the Performance Assessment
    Intervals (of every resource, or of each); ``ucap_mw``
    (resources,) is each resource's committed UCAP (for its stop-loss).
    """
    expected = np.asarray(expected_mw, dtype=np.float64)
    actual = np.asarray(actual_mw, dtype=np.float64)
    in_pai = np.asarray(pai, dtype=bool)
    if in_pai.ndim == 1:
        in_pai = in_pai[None, :]
    hours = 1.0 / intervals_per_hour
    shortfall = np.where(in_pai, np.clip(expected - actual, 0.0, None), 0.0) * hours
    bonus = np.where(in_pai, np.clip(actual - expected, 0.0, None), 0.0) * hours
    charge = shortfall * params.charge_rate_usd_per_mwh
    room = params.stop_loss_usd(ucap_mw)
    if charged_this_year_usd is not None:
        room = np.clip(room - np.asarray(charged_this_year_usd, dtype=np.float64), 0.0, None)
    total = charge.sum(axis=1)
    capped = total > room
    scale = np.divide(room, total, out=np.ones_like(total), where=capped)
    charge = charge * scale[:, None]
    pool = charge.sum(axis=0)
    bonus_total = bonus.sum(axis=0)
    rate = np.divide(pool, bonus_total, out=np.zeros_like(pool), where=bonus_total > 0)
    return CpAssessment(shortfall, bonus, charge, bonus * rate[None, :], capped)
