"""Event performance and settlement of DR per Curtailment Service Provider.

Measurement: a site's reduction in each event interval is its (adjusted) CBL
minus its metered load; a resource's event performance is the mean reduction
over the event intervals, compared with the MW it committed (M11 s.10; M18).

Settlement, per CSP, everything vectorised over sites with ``np.bincount``:

* energy payment -- economic DR reductions paid at the interval LMP
  (MWh x $/MWh); intervals where a site used *more* than its CBL count as
  zero reduction, not as a negative payment (a modelling choice);
* capacity payment -- RPM clearing price ($/MW-day) x cleared UCAP MW x days;
* Capacity Performance charge -- shortfall MWh x the Non-Performance Charge
  Rate (OATT-DD 10A: Net CONE x 365 / 30 $/MWh, see
  :func:`cosim.markets.rules.non_performance_charge_rate_usd_per_mwh`),
  where shortfall MWh = max(committed MW - delivered MW, 0) x event hours.
  Bonus payments for over-performance and the annual stop-loss are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.floating]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def interval_reduction_kw(cbl_kw: FloatArray, actual_kw: FloatArray, mask: BoolArray) -> FloatArray:
    """(sites, event intervals) reduction = CBL - actual, in the loads' unit."""
    return (cbl_kw[:, mask] - actual_kw[:, mask]).astype(np.float64)


def mean_reduction_kw(cbl_kw: FloatArray, actual_kw: FloatArray, mask: BoolArray) -> FloatArray:
    """(sites,) event performance: mean of CBL - actual over the event intervals."""
    return interval_reduction_kw(cbl_kw, actual_kw, mask).mean(axis=1)


@dataclass(frozen=True)
class CspTerms:
    """What one CSP sold and is accountable for in this settlement period."""

    csp: str
    committed_mw: float                    # MW it must deliver in the event
    cleared_ucap_mw: float                 # RPM cleared MW
    capacity_price_usd_per_mw_day: float   # RPM clearing price paid to it
    days: int                              # days in the settlement period


@dataclass(frozen=True)
class CspSettlement:
    csp: str
    delivered_mw: float
    committed_mw: float
    shortfall_mwh: float
    energy_payment_usd: float
    capacity_payment_usd: float
    non_performance_charge_usd: float

    @property
    def net_usd(self) -> float:
        return self.energy_payment_usd + self.capacity_payment_usd - self.non_performance_charge_usd


def settle_csps(
    terms: Sequence[CspTerms],
    site_csp: IntArray,
    cbl_kw: FloatArray,
    actual_kw: FloatArray,
    mask: BoolArray,
    lmp_usd_per_mwh: FloatArray,
    intervals_per_hour: int,
    penalty_rate_usd_per_mwh: float,
    economic: BoolArray | None = None,
) -> tuple[CspSettlement, ...]:
    """Settle one event for every CSP in ``terms``.

    ``site_csp`` (sites,) is each site's index into ``terms``; loads are kW,
    ``lmp_usd_per_mwh`` is (intervals,) or (sites, intervals) at each site's
    pricing node; ``economic`` (sites,) marks sites whose reductions earn the
    energy payment (default: all). Delivered MW of a CSP is the sum of its
    sites' mean reductions.
    """
    n_csp = len(terms)
    red = interval_reduction_kw(cbl_kw, actual_kw, mask)
    delivered_mw = np.bincount(site_csp, weights=red.mean(axis=1), minlength=n_csp) / 1000.0

    lmp = np.broadcast_to(np.asarray(lmp_usd_per_mwh, dtype=np.float64), cbl_kw.shape)[:, mask]
    hours_per_interval = 1.0 / intervals_per_hour
    site_energy = (np.clip(red, 0.0, None) / 1000.0 * hours_per_interval * lmp).sum(axis=1)
    if economic is not None:
        site_energy = site_energy * economic
    energy_usd = np.bincount(site_csp, weights=site_energy, minlength=n_csp)

    event_hours = mask.sum() * hours_per_interval
    out = []
    for k, t in enumerate(terms):
        shortfall_mwh = max(t.committed_mw - delivered_mw[k], 0.0) * event_hours
        out.append(CspSettlement(
            t.csp, float(delivered_mw[k]), t.committed_mw, float(shortfall_mwh),
            float(energy_usd[k]),
            t.capacity_price_usd_per_mw_day * t.cleared_ucap_mw * t.days,
            float(shortfall_mwh * penalty_rate_usd_per_mwh),
        ))
    return tuple(out)
