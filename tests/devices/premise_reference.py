"""Reference values for one premise, computed from definitions rather than from the simulation.

The premise's natural demand is the ``building`` daily shape (linear between
hours) scaled to its size; what its meter should hold is that demand over
each 5-minute step with its curtailable share shed during an event; the
reduction a CSP is paid for is PJM's High 4 of 5 weekday CBL with the
symmetric additive adjustment (PJM Manual 11, as docs/markets.md states it).
Shared by the tests that run one premise two ways (gateway + meter, and a
one-site population) and through its CSP.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from cosim.domains.profiles import HOURLY_DEMAND_PU

STEP_S = 300.0


def natural_kw(t: float, site_kw: float) -> float:
    """The premise's natural demand at simulated ``t`` (no randomness)."""
    shape = HOURLY_DEMAND_PU["building"]
    hour = int(t // 3600) % 24
    frac = t / 3600.0 % 24.0 - hour
    return site_kw * (shape[hour] * (1 - frac) + shape[(hour + 1) % 24] * frac)


def expected_metered_kwh(site_kw: float, read_at_s: float, event_s: tuple[float, float], curtail: float) -> np.ndarray:
    """Hourly kWh of the premise: the demand held over each 5-minute step, ``curtail`` of it shed in the event."""
    out = np.zeros(24)
    for t in np.arange(0.0, read_at_s, STEP_S):
        kw = natural_kw(t, site_kw) * (1.0 - curtail if event_s[0] <= t < event_s[1] else 1.0)
        out[int(t // 3600)] += kw * STEP_S / 3600.0
    return out


def pjm_weekday_cbl_reduction_kw(history: np.ndarray, weekdays: Sequence[int], metered: np.ndarray,
                                 event_s: tuple[float, float]) -> float:
    """Event-hour reduction (kW) of one site: adjusted High 4 of 5 weekday CBL minus metered load."""
    start_h, end_h = int(event_s[0] // 3600), int(event_s[1] // 3600)
    eligible = [d for d in range(len(weekdays)) if weekdays[d] < 5]
    recent = eligible[-5:]                                              # the 5 most recent weekdays
    score = {d: history[d, start_h:end_h].mean() for d in recent}
    top = sorted(recent, key=lambda d: (-score[d], -d))[:4]            # the 4 highest over the event hours
    cbl = history[top].mean(axis=0)
    window = slice(start_h - 4, start_h - 1)                          # 3 hours ending 1 hour before the start
    adjustment = (metered[window] - cbl[window]).mean()
    return float((cbl[start_h:end_h] + adjustment - metered[start_h:end_h]).mean())
