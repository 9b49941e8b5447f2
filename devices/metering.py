"""The one meter model: energy registers of one meter or a million, integrated exactly and cut into intervals.

A meter integrates the power its premise draws. Power holds between the
moments something changes it (a grid solve, a demand step, a DR call), so
the energy of a span is the held power times its length, exactly, whatever
the sample period. :class:`EnergyRegister` does that for ``count`` meters at
once (numpy arrays; ``count`` is 1 for an individually emulated
:class:`~devices.field.meter.SmartMeterDevice` or ESI gateway, the number of
loads for :class:`~devices.field.meter_population.MeterPopulation`, the
number of sites for :class:`~devices.field.dr_population.DrSitePopulation`):

* cumulative import and export registers (Wh-type, in the caller's unit x h);
* interval data: each interval of ``interval_s`` (on multiples of it from
  time 0) is closed when time passes its end, and a span that crosses an
  interval boundary is split at the boundary, so each interval gets exactly
  its own share.

Units: power in any unit (W, kW, MW) gives energy in that unit x hours.
Simulated seconds in, no SimPy, no comm, no grid: the devices own those.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ClosedInterval:
    """One finished interval of every meter: [start_s, end_s) and the energy imported and exported in it."""

    start_s: float
    end_s: float
    import_energy: FloatArray    # (count,) power unit x h
    export_energy: FloatArray


class EnergyRegister:
    """Import/export energy of ``count`` meters, cumulative and by interval of ``interval_s`` seconds.

    Call :meth:`hold` whenever the power changes (and at least at every
    interval end you want closed): the power held since the previous call is
    integrated up to ``now_s``, then the new power is held. Closed intervals
    collect in :attr:`closed` (oldest first) until the owner takes them with
    :meth:`take_closed`.
    """

    def __init__(self, count: int, interval_s: float, start_s: float = 0.0, dtype: type = np.float64) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s}")
        self.count = count
        self.interval_s = float(interval_s)
        self.dtype = dtype
        self.import_total: FloatArray = np.zeros(count, dtype)
        self.export_total: FloatArray = np.zeros(count, dtype)
        self._import: FloatArray = np.zeros(count, dtype)       # the open interval
        self._export: FloatArray = np.zeros(count, dtype)
        self._power: FloatArray = np.zeros(count, dtype)
        self._exporting = False                      # any meter holds negative power now
        self.last_s = float(start_s)
        self.interval_index = math.floor(start_s / self.interval_s)   # open interval: [k T, (k+1) T)
        self.closed: list[ClosedInterval] = []

    @property
    def power(self) -> FloatArray:
        """The power each meter holds now (read-only view)."""
        view = self._power.view()
        view.flags.writeable = False
        return view

    def interval_end_s(self) -> float:
        """End of the open interval (simulated s)."""
        return (self.interval_index + 1) * self.interval_s

    def hold(self, now_s: float, power: ArrayLike | None = None) -> None:
        """Integrate the held power up to ``now_s`` (closing the intervals it passes), then hold ``power``."""
        while now_s >= self.interval_end_s():
            end = self.interval_end_s()
            self._accumulate(end - self.last_s)
            self.last_s = end
            self.closed.append(ClosedInterval(self.interval_index * self.interval_s, end,
                                              self._import.copy(), self._export.copy()))
            self._import[:] = 0.0
            self._export[:] = 0.0
            self.interval_index += 1
        if now_s > self.last_s:
            self._accumulate(now_s - self.last_s)
            self.last_s = now_s
        if power is not None:
            np.copyto(self._power, np.broadcast_to(np.asarray(power, dtype=self.dtype), (self.count,)))
            self._exporting = bool((self._power < 0).any())

    def _accumulate(self, span_s: float) -> None:
        if span_s <= 0:
            return
        hours = span_s / 3600.0
        if not self._exporting:   # the common case of loads: one fused pass
            step = self._power * hours
            self._import += step
            self.import_total += step
            return
        imported = np.maximum(self._power, 0.0) * hours
        exported = np.maximum(-self._power, 0.0) * hours
        self._import += imported
        self.import_total += imported
        self._export += exported
        self.export_total += exported

    def open_import(self) -> FloatArray:
        """Energy imported so far in the open interval (a copy)."""
        return self._import.copy()

    def take_closed(self) -> list[ClosedInterval]:
        """The intervals closed since the last call, oldest first."""
        out, self.closed = self.closed, []
        return out
