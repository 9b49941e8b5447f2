"""Daily demand and solar shapes, as data.

Hourly per-unit demand (1.0 = the customer's peak) for the three customer
sub-domains of the NIST model. They are illustrative shapes with the usual
features -- a residential evening peak, a commercial working-day plateau, a
flat industrial three-shift profile -- not measurements of a real utility;
replace them with a utility's load research data for a study.
"""

from __future__ import annotations

import math

import numpy as np

HOURLY_DEMAND_PU: dict[str, tuple[float, ...]] = {
    "home": (
        0.42, 0.38, 0.36, 0.35, 0.36, 0.42, 0.55, 0.66, 0.62, 0.55, 0.52, 0.52,
        0.53, 0.52, 0.53, 0.57, 0.66, 0.82, 0.96, 1.00, 0.95, 0.84, 0.68, 0.52,
    ),
    "building": (
        0.35, 0.34, 0.33, 0.33, 0.34, 0.38, 0.50, 0.70, 0.88, 0.96, 0.99, 1.00,
        0.98, 0.99, 1.00, 0.98, 0.93, 0.82, 0.64, 0.52, 0.45, 0.41, 0.38, 0.36,
    ),
    "industrial": (
        0.78, 0.77, 0.76, 0.76, 0.77, 0.80, 0.88, 0.95, 0.98, 1.00, 1.00, 0.99,
        0.96, 0.99, 1.00, 0.99, 0.97, 0.93, 0.89, 0.86, 0.84, 0.82, 0.80, 0.79,
    ),
}


def demand_pu(shape: tuple[float, ...], time_s: float) -> float:
    """Per-unit demand at ``time_s`` (seconds since midnight of day 0), linear between hours."""
    hours = (time_s / 3600.0) % 24.0
    low = int(hours)
    fraction = hours - low
    return shape[low] * (1.0 - fraction) + shape[(low + 1) % 24] * fraction


def clear_sky_pu(time_s: float, sunrise_h: float = 6.0, sunset_h: float = 18.0) -> float:
    """Per-unit PV output under a clear sky: a half-sine between sunrise and sunset."""
    hours = (time_s / 3600.0) % 24.0
    if not sunrise_h < hours < sunset_h:
        return 0.0
    return math.sin(math.pi * (hours - sunrise_h) / (sunset_h - sunrise_h))


def cloud_factor(rng: np.random.Generator, previous: float, persistence: float, mean: float, sigma: float) -> float:
    """Next value of a mean-reverting cloud-cover factor in [0, 1] (AR(1), one draw per step)."""
    value = mean + persistence * (previous - mean) + sigma * rng.standard_normal()
    return min(1.0, max(0.0, value))
