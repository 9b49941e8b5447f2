"""Estimators for Monte Carlo results: means with confidence intervals and convergence.

One job: turn per-year samples into estimates a study can report. Years of a
sequential simulation are treated as independent samples of the annual index
(the renewal processes restart nearly afresh each year because repairs are
short against a year), so the central limit theorem gives the interval
mean +- z * s / sqrt(n) (Billinton & Li, *Reliability Assessment of Electric
Power Systems Using Monte Carlo Methods*, 1994, ch. 2).

CAIDI is a ratio of two annual means (SAIDI/SAIFI); averaging per-year CAIDI
would weight quiet years like busy ones and is undefined in years without
interruptions, so it is estimated as a ratio of means with a delta-method
interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A sample estimate and its two-sided confidence interval."""

    mean: float
    std_error: float
    lower: float
    upper: float
    confidence: float
    samples: int

    @property
    def half_width(self) -> float:
        return (self.upper - self.lower) / 2.0

    @property
    def coefficient_of_variation(self) -> float:
        """Standard error over the mean (the usual Monte Carlo stopping criterion, beta)."""
        return self.std_error / abs(self.mean) if self.mean else float("nan")

    def contains(self, value: float) -> bool:
        return self.lower <= value <= self.upper


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def mean_estimate(samples: np.ndarray, confidence: float = 0.95) -> Estimate:
    """Mean of ``samples`` with the normal-approximation interval mean +- z * s / sqrt(n).

    Raises ``ValueError`` for fewer than two samples.
    """
    values = np.asarray(samples, dtype=float)
    if values.size < 2:
        raise ValueError("need at least two samples for a confidence interval")
    mean = float(values.mean())
    error = float(values.std(ddof=1) / np.sqrt(values.size))
    z = _z(confidence)
    return Estimate(mean, error, mean - z * error, mean + z * error, confidence, int(values.size))


def ratio_estimate(numerator: np.ndarray, denominator: np.ndarray, confidence: float = 0.95) -> Estimate:
    """Ratio of means mean(x)/mean(y) with a first-order (delta-method) interval.

    Var(R) ~ (Var(x) - 2 R Cov(x, y) + R^2 Var(y)) / (n mean(y)^2).
    """
    x = np.asarray(numerator, dtype=float)
    y = np.asarray(denominator, dtype=float)
    if x.size < 2 or x.size != y.size:
        raise ValueError("need two equally long sample arrays of at least two samples")
    mean_y = float(y.mean())
    ratio = float(x.mean() / mean_y)
    covariance = np.cov(x, y, ddof=1)
    variance = (covariance[0, 0] - 2 * ratio * covariance[0, 1] + ratio**2 * covariance[1, 1]) / (x.size * mean_y**2)
    error = float(np.sqrt(max(variance, 0.0)))
    z = _z(confidence)
    return Estimate(ratio, error, ratio - z * error, ratio + z * error, confidence, int(x.size))


def convergence_trace(samples: np.ndarray) -> np.ndarray:
    """Running coefficient of variation of the mean, beta_n = s_n / (sqrt(n) * mean_n), for n = 1..N.

    beta_1 is NaN; so is beta_n while the running mean is still zero.
    """
    values = np.asarray(samples, dtype=float)
    n = np.arange(1, values.size + 1)
    mean = np.cumsum(values) / n
    second = np.cumsum(values**2) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.maximum(second - mean**2, 0.0) * n / (n - 1)  # ddof=1
        beta = np.sqrt(variance) / (np.sqrt(n) * np.abs(mean))
    beta[0] = np.nan
    beta[mean == 0] = np.nan
    return beta
