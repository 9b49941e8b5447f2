"""Price-Responsive Demand: the reduction a PRD curve gives at a nodal LMP.

A PRD provider registers a curve per zone as steps: ``mw`` of reduction once
the LMP reaches the step's price (PJM Manual 18 section 11 / OATT
Attachment DD: PRD commits to reduce along its curve, automatically, at the
nodal price). Off the steps' prices the curve's value is unique: every step
priced below the LMP in full. Where the LMP *equals* a step's price the curve
is vertical and any amount of that step lies on it; the SCED, which prices
PRD as these same steps, chose one point there, and the response takes it --
so the premises shed exactly what the market cleared, in every case.

Pure function; MW and $/MWh.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Relative tolerance for "the LMP equals a step's price" (the LP's duals carry rounding).
PRICE_RTOL = 1e-6


def prd_reduction_mw(step_mw: Sequence[float], step_price: Sequence[float], lmp_usd_per_mwh: float,
                     cleared_mw: float | None = None) -> float:
    """Reduction (MW) on the curve at ``lmp_usd_per_mwh``; ``cleared_mw``: what SCED cleared on it, if known."""
    tol = PRICE_RTOL * max(1.0, abs(lmp_usd_per_mwh))
    below = sum(mw for mw, p in zip(step_mw, step_price) if p < lmp_usd_per_mwh - tol)
    at = sum(mw for mw, p in zip(step_mw, step_price) if abs(p - lmp_usd_per_mwh) <= tol)
    if cleared_mw is None:
        return below + at
    return below + min(max(cleared_mw - below, 0.0), at)
