"""Service Provider billing: a retail tariff applied to interval meter data.

The Service Provider domain (a utility or retailer) bills each account from
its interval energy (kWh) under one tariff, and passes through the DR credit
the account earned from settlement as its own bill line. Tariffs are data
(``cosim/markets/cases/tariffs.yaml`` holds examples) of three kinds: flat,
time-of-use (price by hour of day) and real-time pass-through (the interval
LMP in $/MWh converted to $/kWh, plus a fixed adder). Vectorised over
accounts: one gather of a (tariffs, intervals) price matrix.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from importlib import resources
from typing import Any, Mapping, Sequence

import numpy as np
import yaml
from numpy.typing import NDArray

FloatArray = NDArray[np.floating]
IntArray = NDArray[np.int64]


class TariffKind(enum.Enum):
    FLAT = "flat"
    TIME_OF_USE = "time_of_use"
    REAL_TIME = "real_time"


@dataclass(frozen=True)
class TouPeriod:
    start_hour: int   # inclusive, 0-23
    end_hour: int     # exclusive, 1-24
    price_usd_per_kwh: float


@dataclass(frozen=True)
class Tariff:
    name: str
    kind: TariffKind
    fixed_usd_per_bill: float = 0.0
    flat_usd_per_kwh: float = 0.0
    tou: tuple[TouPeriod, ...] = ()
    rt_adder_usd_per_kwh: float = 0.0


@dataclass(frozen=True)
class Bill:
    account_id: str
    tariff: str
    energy_kwh: float
    energy_charge_usd: float
    fixed_charge_usd: float
    dr_credit_usd: float

    @property
    def total_usd(self) -> float:
        return self.energy_charge_usd + self.fixed_charge_usd - self.dr_credit_usd


def tariff_from_dict(raw: Mapping[str, Any]) -> Tariff:
    """Build a tariff from data; raises ValueError if the TOU hours do not tile the day."""
    kind = TariffKind(raw["kind"])
    tou = tuple(TouPeriod(int(p["start_hour"]), int(p["end_hour"]), float(p["price_usd_per_kwh"]))
                for p in raw.get("tou", []))
    if kind is TariffKind.TIME_OF_USE:
        hours = sorted(h for p in tou for h in range(p.start_hour, p.end_hour))
        if hours != list(range(24)):
            raise ValueError(f"tariff {raw['name']}: TOU periods must cover hours 0-23 exactly once")
    return Tariff(str(raw["name"]), kind, float(raw.get("fixed_usd_per_bill", 0.0)),
                  float(raw.get("flat_usd_per_kwh", 0.0)), tou, float(raw.get("rt_adder_usd_per_kwh", 0.0)))


def load_tariffs(name: str = "tariffs") -> dict[str, Tariff]:
    """Tariffs shipped in ``cosim/markets/cases/<name>.yaml``, by name."""
    text = (resources.files("cosim.markets") / "cases" / f"{name}.yaml").read_text(encoding="utf-8")
    return {t.name: t for t in (tariff_from_dict(r) for r in yaml.safe_load(text)["tariffs"])}


def interval_prices_usd_per_kwh(
    tariff: Tariff, hour_of_day: IntArray, lmp_usd_per_mwh: FloatArray | None = None
) -> FloatArray:
    """(intervals,) retail price of each interval; REAL_TIME needs the LMPs."""
    hour_of_day = np.asarray(hour_of_day)
    if tariff.kind is TariffKind.FLAT:
        return np.full(hour_of_day.shape, tariff.flat_usd_per_kwh)
    if tariff.kind is TariffKind.TIME_OF_USE:
        by_hour = np.zeros(24)
        for p in tariff.tou:
            by_hour[p.start_hour:p.end_hour] = p.price_usd_per_kwh
        return by_hour[hour_of_day]
    if lmp_usd_per_mwh is None:
        raise ValueError(f"tariff {tariff.name}: real-time pass-through needs interval LMPs")
    return np.asarray(lmp_usd_per_mwh, dtype=np.float64) / 1000.0 + tariff.rt_adder_usd_per_kwh


def hourly_mean_lmp(samples: Sequence[tuple[float, float]], day: int) -> FloatArray:
    """(24,) mean LMP of each hour of simulated ``day`` from (interval start s, $/MWh) samples; 0 where none.

    Hours are taken from the absolute time, so a run longer than a day does
    not fold the next day's midnight prices into this day's hour 0.
    """
    total, count = np.zeros(24), np.zeros(24)
    for time_s, lmp in samples:
        hour = int(time_s // 3600) - 24 * day
        if 0 <= hour < 24:
            total[hour] += lmp
            count[hour] += 1
    mean: FloatArray = np.divide(total, count, out=np.zeros(24), where=count > 0)
    return mean


def bill_accounts(
    account_ids: Sequence[str],
    energy_kwh: FloatArray,
    account_tariff: IntArray,
    tariffs: Sequence[Tariff],
    hour_of_day: IntArray,
    lmp_usd_per_mwh: FloatArray | None = None,
    dr_credit_usd: FloatArray | None = None,
) -> tuple[Bill, ...]:
    """Bill every account for one period.

    ``energy_kwh`` is (accounts, intervals); ``account_tariff`` (accounts,)
    indexes ``tariffs``; ``dr_credit_usd`` (accounts,) is the DR credit line
    (e.g. each site's share of its CSP's settlement, passed through).
    """
    prices = np.stack([interval_prices_usd_per_kwh(t, hour_of_day, lmp_usd_per_mwh) for t in tariffs])
    charge = (np.asarray(energy_kwh, dtype=np.float64) * prices[account_tariff]).sum(axis=1)
    kwh = np.asarray(energy_kwh, dtype=np.float64).sum(axis=1)
    credit = np.zeros(len(account_ids)) if dr_credit_usd is None else np.asarray(dr_credit_usd, float)
    return tuple(
        Bill(a, tariffs[k].name, float(kwh[i]), float(charge[i]), tariffs[k].fixed_usd_per_bill,
             float(credit[i]))
        for i, (a, k) in enumerate(zip(account_ids, account_tariff))
    )
