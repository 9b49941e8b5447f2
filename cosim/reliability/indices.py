"""IEEE 1366-2012 distribution reliability indices from interruption records.

One job: pure functions from interruption records (which load point or
customer group, when it went dark and came back, how many customers, how many
kW) to the indices utilities report. Used by the reliability studies here and
meant for the outage management system of the full co-simulation, which
appends to an :class:`InterruptionLog` as outages happen (times in simulated
seconds) and calls :func:`compute_indices` at the end of a run.

Definitions (IEEE Std 1366-2012, clause 3 and 4):

- an interruption is *momentary* if it lasts no longer than the momentary
  threshold (5 minutes in the standard, configurable here) and *sustained*
  otherwise -- clause 3.17/3.28: a sustained interruption "lasts more than five
  minutes";
- SAIFI = sum of customers interrupted (sustained) / customers served (4.1.1);
- SAIDI = sum of customer interruption durations / customers served (4.1.2);
- CAIDI = SAIDI / SAIFI (4.1.3);
- ASAI = customer hours of service available / customer hours demanded (4.1.6);
- MAIFI = sum of customers momentarily interrupted / customers served (4.3.1).

Energy indices follow Allan et al. (IEEE Trans. PWRS 6(2), 1991) and
Billinton & Allan, *Reliability Evaluation of Power Systems* (1996), ch. 7:
ENS = sum of (load point average load x outage duration), AENS = ENS /
customers served. ENS counts every interruption, momentary ones too (that
energy was not supplied either); ``ens_momentary_mwh_per_year`` is the part
from interruptions of the momentary threshold or shorter.

The further IEEE 1366 indices (CAIFI, CTAIDI, CEMI_n, CEMSMI_n, MAIFI_E,
ASIFI, ASIDI, major event days) need the records themselves, not only their
sums: they are in :mod:`cosim.reliability.ieee1366`. A record that is an annual rate (the analytic method) and a
record that is a simulated event are summed the same way, so both methods
report through the same functions.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .ieee1366 import RecordIndices

HOURS_PER_YEAR = 8760.0
"""Hours in a study year; the RBTS papers use 8760 h (no leap years)."""

IEEE_1366_MOMENTARY_THRESHOLD_S = 300.0
"""IEEE 1366-2012: an interruption longer than five minutes is sustained."""


@dataclass(frozen=True)
class SystemIndices:
    """Indices of a whole system, or of one feeder (its customers only)."""

    customers_served: int
    saifi_per_year: float  # interruptions per customer served per year
    saidi_hours_per_year: float  # hours per customer served per year
    caidi_hours: float  # hours per customer interruption; NaN if nobody was interrupted
    asai: float  # fraction of customer hours with service
    maifi_per_year: float  # momentary interruptions per customer served per year
    ens_mwh_per_year: float  # every interruption, momentary ones included
    aens_kwh_per_customer_year: float
    ens_momentary_mwh_per_year: float = 0.0  # the part of ENS from momentary interruptions

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class LoadPointIndices:
    """Per-load-point indices, arrays aligned with ``load_point_id``."""

    load_point_id: tuple[Hashable, ...]
    failure_rate_per_year: np.ndarray  # sustained interruptions a year
    outage_hours_per_year: np.ndarray  # annual outage time U
    average_outage_hours: np.ndarray  # r = U / lambda; NaN where lambda is 0
    momentary_per_year: np.ndarray
    ens_mwh_per_year: np.ndarray


@dataclass(frozen=True)
class ReliabilityIndices:
    """Indices of one study or run: the system, each load point, each feeder."""

    system: SystemIndices
    load_points: LoadPointIndices
    feeders: Mapping[str, SystemIndices]
    records: RecordIndices | None = None  # from the records themselves (an InterruptionLog of whole load points)


@dataclass(frozen=True)
class InterruptionTotals:
    """Sums over interruption records, per period (row) and load point (column).

    The one place where records are classified momentary/sustained and summed;
    every index is a ratio of these sums.
    """

    sustained_events: np.ndarray  # number of sustained interruptions of the load point
    customer_interruptions: np.ndarray  # customers x sustained interruptions
    outage_hours: np.ndarray  # durations of sustained interruptions (not customer-weighted)
    customer_hours: np.ndarray  # customers x hours, sustained only
    momentary_events: np.ndarray  # number of momentary interruptions of the load point
    momentary_customer_interruptions: np.ndarray
    energy_kwh: np.ndarray  # kW x hours, every interruption
    momentary_energy_kwh: np.ndarray  # kW x hours of the momentary ones


def accumulate_interruptions(
    load_point_index: np.ndarray,
    duration_hours: np.ndarray,
    customers: np.ndarray,
    load_kw: np.ndarray,
    n_load_points: int,
    *,
    period_index: np.ndarray | None = None,
    n_periods: int = 1,
    momentary_threshold_hours: float = IEEE_1366_MOMENTARY_THRESHOLD_S / 3600.0,
    weight: np.ndarray | None = None,
) -> InterruptionTotals:
    """Sum records into per-period, per-load-point totals (vectorised; any number of records).

    ``weight`` lets a record stand for a rate (the analytic method passes
    failures per year); simulated events have weight 1.
    """
    index = np.asarray(load_point_index, dtype=np.int64)
    duration = np.asarray(duration_hours, dtype=float)
    count = np.ones_like(duration) if weight is None else np.asarray(weight, dtype=float)
    period = np.zeros_like(index) if period_index is None else np.asarray(period_index, dtype=np.int64)
    cell = period * n_load_points + index
    size = n_periods * n_load_points
    momentary = duration <= momentary_threshold_hours  # IEEE 1366-2012 3.28: sustained is "more than"
    sustained_count = np.where(momentary, 0.0, count)
    customers = np.asarray(customers, dtype=float)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(cell, weights=values, minlength=size).reshape(n_periods, n_load_points)

    return InterruptionTotals(
        sustained_events=total(sustained_count),
        customer_interruptions=total(sustained_count * customers),
        outage_hours=total(sustained_count * duration),
        customer_hours=total(sustained_count * duration * customers),
        momentary_events=total(np.where(momentary, count, 0.0)),
        momentary_customer_interruptions=total(np.where(momentary, count, 0.0) * customers),
        energy_kwh=total(count * duration * np.asarray(load_kw, dtype=float)),
        momentary_energy_kwh=total(np.where(momentary, count, 0.0) * duration * np.asarray(load_kw, dtype=float)),
    )


def index_arrays(totals: InterruptionTotals, customers_served: np.ndarray, period_years: float, columns: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """System indices per period row of ``totals`` (over the chosen load-point columns), as arrays.

    Keys are the :class:`SystemIndices` field names; vectorised so that a
    Monte Carlo run can tabulate every simulated year at once.
    """
    served_by_lp = np.asarray(customers_served, dtype=float)
    cols = np.arange(served_by_lp.size) if columns is None else np.asarray(columns)
    served = float(served_by_lp[cols].sum())

    def per_year(name: str) -> np.ndarray:
        return np.asarray(getattr(totals, name)[:, cols].sum(axis=1), dtype=float) / period_years

    saifi = per_year("customer_interruptions") / served
    saidi = per_year("customer_hours") / served
    ens_kwh = per_year("energy_kwh")
    with np.errstate(invalid="ignore", divide="ignore"):
        caidi = np.where(saifi > 0, saidi / saifi, np.nan)
    return {
        "customers_served": np.full(saifi.shape, served),
        "saifi_per_year": saifi,
        "saidi_hours_per_year": saidi,
        "caidi_hours": caidi,
        "asai": 1.0 - saidi / HOURS_PER_YEAR,  # IEEE 1366 4.1.6, 8760 customer hours demanded a customer-year
        "maifi_per_year": per_year("momentary_customer_interruptions") / served,
        "ens_mwh_per_year": ens_kwh / 1000.0,
        "aens_kwh_per_customer_year": ens_kwh / served,
        "ens_momentary_mwh_per_year": per_year("momentary_energy_kwh") / 1000.0,
    }


def system_indices(totals: InterruptionTotals, customers_served: np.ndarray, period_years: float, columns: np.ndarray | None = None) -> list[SystemIndices]:
    """One :class:`SystemIndices` per period row of ``totals``, over the chosen load points."""
    arrays = index_arrays(totals, customers_served, period_years, columns)
    rows = arrays["saifi_per_year"].size
    served = int(arrays["customers_served"][0]) if rows else 0
    return [
        SystemIndices(
            customers_served=served,
            saifi_per_year=float(arrays["saifi_per_year"][row]),
            saidi_hours_per_year=float(arrays["saidi_hours_per_year"][row]),
            caidi_hours=float(arrays["caidi_hours"][row]),
            asai=float(arrays["asai"][row]),
            maifi_per_year=float(arrays["maifi_per_year"][row]),
            ens_mwh_per_year=float(arrays["ens_mwh_per_year"][row]),
            aens_kwh_per_customer_year=float(arrays["aens_kwh_per_customer_year"][row]),
            ens_momentary_mwh_per_year=float(arrays["ens_momentary_mwh_per_year"][row]),
        )
        for row in range(rows)
    ]


def reliability_indices(
    totals: InterruptionTotals,
    load_point_id: Sequence[Hashable],
    customers_served: np.ndarray,
    period_years: float,
    feeder_of_load_point: Sequence[str] | None = None,
) -> ReliabilityIndices:
    """System, per-load-point and per-feeder indices from single-period totals."""
    events = totals.sustained_events[0] / period_years
    hours = totals.outage_hours[0] / period_years
    with np.errstate(invalid="ignore", divide="ignore"):
        average = np.where(events > 0, hours / events, np.nan)
    load_points = LoadPointIndices(
        load_point_id=tuple(load_point_id),
        failure_rate_per_year=events,
        outage_hours_per_year=hours,
        average_outage_hours=average,
        momentary_per_year=totals.momentary_events[0] / period_years,
        ens_mwh_per_year=totals.energy_kwh[0] / 1000.0 / period_years,
    )
    feeders: dict[str, SystemIndices] = {}
    if feeder_of_load_point is not None:
        labels = np.asarray(feeder_of_load_point)
        for name in dict.fromkeys(labels.tolist()):
            feeders[str(name)] = system_indices(totals, customers_served, period_years, np.flatnonzero(labels == name))[0]
    return ReliabilityIndices(system_indices(totals, customers_served, period_years)[0], load_points, feeders)


class InterruptionLog:
    """Append-only record of interruptions, one row per load point or customer group.

    Times are simulated seconds (the World's clock). ``customers`` and
    ``load_kw`` default, at :func:`compute_indices` time, to the whole load
    point; pass them when only part of a load point (a customer group) lost
    supply. Rows are kept as Python lists while appending and turned into
    numpy arrays only when indices are computed.
    """

    def __init__(self) -> None:
        self._load_point: list[Hashable] = []
        self._start_s: list[float] = []
        self._end_s: list[float] = []
        self._customers: list[float] = []
        self._load_kw: list[float] = []

    def __len__(self) -> int:
        return len(self._start_s)

    def append(self, load_point: Hashable, start_s: float, end_s: float, customers: int | None = None, load_kw: float | None = None) -> None:
        """Record that ``load_point`` (or ``customers`` of it) was without supply from ``start_s`` to ``end_s``.

        Raises ``ValueError`` if the interruption ends before it starts.
        """
        if end_s < start_s:
            raise ValueError(f"interruption of {load_point!r} ends ({end_s} s) before it starts ({start_s} s)")
        self._load_point.append(load_point)
        self._start_s.append(float(start_s))
        self._end_s.append(float(end_s))
        self._customers.append(float("nan") if customers is None else float(customers))
        self._load_kw.append(float("nan") if load_kw is None else float(load_kw))

    def records(self) -> dict[str, np.ndarray]:
        """The rows as columns: ``load_point`` (object), ``start_s``, ``end_s``, ``customers``, ``load_kw`` (NaN = whole load point)."""
        return {
            "load_point": np.array(self._load_point, dtype=object),
            "start_s": np.array(self._start_s),
            "end_s": np.array(self._end_s),
            "customers": np.array(self._customers),
            "load_kw": np.array(self._load_kw),
        }


def compute_indices(
    log: InterruptionLog,
    customers_per_load_point: Mapping[Hashable, int],
    load_kw: Mapping[Hashable, float],
    period_years: float,
    momentary_threshold_s: float = IEEE_1366_MOMENTARY_THRESHOLD_S,
    feeder_of_load_point: Mapping[Hashable, str] | None = None,
) -> ReliabilityIndices:
    """IEEE 1366 indices of the interruptions in ``log`` over ``period_years`` of observation.

    ``customers_per_load_point`` gives the customers served at every load point
    (the denominator of SAIFI/SAIDI, so include load points that were never
    interrupted); ``load_kw`` the average load used for energy not supplied.
    Raises ``KeyError`` naming a load point in the log that is not in
    ``customers_per_load_point``, and ``ValueError`` for a non-positive period.
    """
    if period_years <= 0:
        raise ValueError(f"period_years must be positive, got {period_years}")
    ids = list(customers_per_load_point)
    position = {lp: i for i, lp in enumerate(ids)}
    served = np.array([customers_per_load_point[lp] for lp in ids], dtype=float)
    average_kw = np.array([load_kw[lp] for lp in ids], dtype=float)
    rows = log.records()
    try:
        index = np.array([position[lp] for lp in rows["load_point"]], dtype=np.int64)
    except KeyError as error:
        raise KeyError(f"interruption of load point {error.args[0]!r}, which is not in customers_per_load_point") from None
    group_customers = np.where(np.isnan(rows["customers"]), served[index] if index.size else 0.0, rows["customers"])
    with np.errstate(invalid="ignore", divide="ignore"):
        # a customer group carries its share of the load point's load unless told otherwise
        share_kw = average_kw[index] * group_customers / np.maximum(served[index], 1.0) if index.size else np.zeros(0)
    group_kw = np.where(np.isnan(rows["load_kw"]), share_kw, rows["load_kw"])
    totals = accumulate_interruptions(
        index,
        (rows["end_s"] - rows["start_s"]) / 3600.0,
        group_customers,
        group_kw,
        len(ids),
        momentary_threshold_hours=momentary_threshold_s / 3600.0,
    )
    feeders = None if feeder_of_load_point is None else [feeder_of_load_point[lp] for lp in ids]
    result = reliability_indices(totals, ids, served, period_years, feeders)
    if np.isnan(rows["customers"]).all() and np.isnan(rows["load_kw"]).all():
        from .ieee1366 import record_indices  # imports this module's constants

        extra = record_indices(index, rows["start_s"], rows["end_s"], served, average_kw, period_years,
                               momentary_threshold_s=momentary_threshold_s)
        result = replace(result, records=extra)
    return result
