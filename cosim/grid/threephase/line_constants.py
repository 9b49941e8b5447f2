"""Overhead line impedance and capacitance matrices from conductor data and spacing.

Series impedance per metre with earth return by Deri's complex-depth
approximation of Carson's integral (A. Deri, A. Tevan, A. Semlyen, A. Castanheira,
"The complex ground return plane", IEEE Trans. PAS-100(8), 1981), the model
OpenDSS uses by default:

    Z_ii = R_i + j w mu0/2pi ln(2 (h_i + p) / GMR_i)
    Z_ij =       j w mu0/2pi ln(sqrt((h_i + h_j + 2p)^2 + dx^2) / D_ij)
    p    = sqrt(rho / (j w mu0))   (complex depth of the return plane)

where ``R_i`` is the conductor's AC resistance at ``w`` from the skin effect
of a solid round conductor of its DC resistance and radius (Bessel functions,
the real part of ``rho_c m I0(m r) / (2 pi r I1(m r))``, ``m = sqrt(j w mu0 /
rho_c)``), and the internal reactance comes from the GMR. Shunt capacitance
from Maxwell's potential coefficients of the conductors and their images
(``P_ii = ln(2 h_i / r_i) / (2 pi e0)``, ``P_ij = ln(S_ij / D_ij) / (2 pi
e0)``), ``C = P^-1``. Grounded neutrals are eliminated by Kron reduction
(their voltage is zero), of ``Z`` and of ``P``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.special import iv

MU0 = 4e-7 * math.pi  # H/m
EPS0 = 8.854e-12  # F/m, the value OpenDSS uses (to 2e-5 of the CODATA one)

FloatArray = NDArray[np.float64]


def skin_effect_resistance(rdc_ohm_per_m: float, radius_m: float, frequency_hz: float) -> float:
    """AC resistance of a solid round conductor with DC resistance ``rdc`` at ``frequency_hz``."""
    rho_c = rdc_ohm_per_m * math.pi * radius_m ** 2
    m = np.sqrt(1j * 2 * math.pi * frequency_hz * MU0 / rho_c)
    z = rho_c * m / (2 * math.pi * radius_m) * iv(0, m * radius_m) / iv(1, m * radius_m)
    return float(np.real(z))


def impedance_per_m(x_m: FloatArray, h_m: FloatArray, gmr_m: FloatArray, radius_m: FloatArray,
                    rdc_ohm_per_m: FloatArray, frequency_hz: float,
                    rho_ohm_m: float = 100.0) -> NDArray[np.complex128]:
    """Primitive series impedance matrix (ohm/m) of every conductor, earth return by Deri."""
    w = 2 * math.pi * frequency_hz
    p = np.sqrt(rho_ohm_m / (1j * w * MU0))
    k = 1j * w * MU0 / (2 * math.pi)
    n = len(x_m)
    z = np.zeros((n, n), dtype=complex)
    for i in range(n):
        r_ac = skin_effect_resistance(float(rdc_ohm_per_m[i]), float(radius_m[i]), frequency_hz)
        z[i, i] = r_ac + k * np.log(2 * (h_m[i] + p) / gmr_m[i])
        for j in range(i + 1, n):
            d = math.hypot(x_m[i] - x_m[j], h_m[i] - h_m[j])
            z[i, j] = z[j, i] = k * np.log(np.sqrt((h_m[i] + h_m[j] + 2 * p) ** 2
                                                   + (x_m[i] - x_m[j]) ** 2) / d)
    return z


def potential_coefficients(x_m: FloatArray, h_m: FloatArray, radius_m: FloatArray) -> FloatArray:
    """Maxwell's potential coefficient matrix (m/F) of conductors over a perfect ground plane."""
    n = len(x_m)
    p = np.zeros((n, n))
    for i in range(n):
        p[i, i] = math.log(2 * h_m[i] / radius_m[i])
        for j in range(i + 1, n):
            d = math.hypot(x_m[i] - x_m[j], h_m[i] - h_m[j])
            s = math.hypot(x_m[i] - x_m[j], h_m[i] + h_m[j])
            p[i, j] = p[j, i] = math.log(s / d)
    return p / (2 * math.pi * EPS0)


def kron(m: np.ndarray, keep: int) -> np.ndarray:
    """Eliminate every row and column after the first ``keep`` (grounded conductors)."""
    if m.shape[0] == keep:
        return m
    a, b = m[:keep, :keep], m[:keep, keep:]
    c, d = m[keep:, :keep], m[keep:, keep:]
    out: np.ndarray = a - b @ np.linalg.solve(d, c)
    return out


def line_matrices(x_m: FloatArray, h_m: FloatArray, gmr_m: FloatArray, radius_m: FloatArray,
                  rdc_ohm_per_m: FloatArray, nphases: int, frequency_hz: float,
                  rho_ohm_m: float = 100.0) -> tuple[NDArray[np.complex128], FloatArray]:
    """Phase impedance (ohm/m) and capacitance (F/m) matrices, neutrals Kron-reduced."""
    z = kron(impedance_per_m(x_m, h_m, gmr_m, radius_m, rdc_ohm_per_m, frequency_hz, rho_ohm_m),
             nphases)
    c = np.linalg.inv(kron(potential_coefficients(x_m, h_m, radius_m), nphases))
    return z, c
