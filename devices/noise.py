"""Measurement error of a field device: gaussian noise, then quantisation to the register resolution.

The device draws from its own stream (``world.rng("feeder3/meter/0042")``) so
its noise never shifts another component's draws. Noise is added in
engineering units; quantisation then rounds to the register's step (a
point's ``resolution``), as the transducer's ADC and the register's scale
factor would.
"""

from __future__ import annotations

import dataclasses
import math
from typing import overload

import numpy as np
import numpy.typing as npt


@dataclasses.dataclass(frozen=True)
class NoiseSpec:
    """Standard deviation of the error: ``sigma_abs`` in the measurement's unit plus ``sigma_rel`` times |value|.

    The two add in quadrature: ``sigma = sqrt(sigma_abs**2 + (sigma_rel * |value|)**2)``.
    An accuracy class of 0.5 % read as 3 sigma is ``sigma_rel = 0.005 / 3``.
    """

    sigma_abs: float = 0.0
    sigma_rel: float = 0.0

    def __post_init__(self) -> None:
        if self.sigma_abs < 0 or self.sigma_rel < 0:
            raise ValueError("noise sigmas must be >= 0")


@overload
def measure(true_value: float, rng: np.random.Generator, noise: NoiseSpec, resolution: float | None = None) -> float: ...


@overload
def measure(
    true_value: npt.NDArray[np.float64], rng: np.random.Generator, noise: NoiseSpec, resolution: float | None = None
) -> npt.NDArray[np.float64]: ...


def measure(
    true_value: float | npt.NDArray[np.float64],
    rng: np.random.Generator,
    noise: NoiseSpec,
    resolution: float | None = None,
) -> float | npt.NDArray[np.float64]:
    """A measured value (or array of values, one draw each): true value + noise, quantised.

    Draws exactly one normal variate per value, even when the sigma is zero,
    so switching noise on or off does not shift later draws of the stream.
    """
    if isinstance(true_value, (float, int)):
        # Scalar fast path (a device's one reading): same single draw as the array path.
        sigma_s = math.hypot(noise.sigma_abs, noise.sigma_rel * abs(true_value))
        noisy_s = true_value + sigma_s * float(rng.standard_normal())
        return float(quantise(noisy_s, resolution)) if resolution is not None else noisy_s
    values = np.asarray(true_value, dtype=np.float64)
    sigma = np.hypot(noise.sigma_abs, noise.sigma_rel * np.abs(values))
    noisy = values + sigma * rng.standard_normal(values.shape)
    measured = quantise(noisy, resolution) if resolution is not None else noisy
    if np.ndim(true_value) == 0:
        return float(measured)
    return measured


def quantise(value: float | npt.NDArray[np.float64], resolution: float) -> npt.NDArray[np.float64]:
    """Round to the nearest multiple of ``resolution`` (half to even, as the register store does)."""
    if not resolution > 0:
        raise ValueError(f"resolution must be > 0, got {resolution}")
    inverse = 1.0 / resolution
    if resolution < 1.0 and abs(inverse - round(inverse)) <= 1e-9 * inverse:
        # Decimal step such as 0.01: divide by 100 so 12.34 comes out as the literal 12.34.
        return np.round(np.asarray(value) * round(inverse)) / round(inverse)
    return np.round(np.asarray(value) / resolution) * resolution
