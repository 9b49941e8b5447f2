"""Confidence intervals and the convergence trace."""

import numpy as np
import pytest

from cosim.reliability.statistics import convergence_trace, mean_estimate, ratio_estimate


def test_mean_interval():
    estimate = mean_estimate(np.array([1.0, 2.0, 3.0, 4.0]))
    assert estimate.mean == 2.5
    assert estimate.std_error == pytest.approx(np.std([1, 2, 3, 4], ddof=1) / 2)
    assert estimate.half_width == pytest.approx(1.959964 * estimate.std_error, rel=1e-5)
    assert estimate.contains(2.5) and not estimate.contains(10.0)


def test_ratio_interval_of_a_constant_ratio_is_a_point():
    x = np.array([1.0, 2.0, 4.0])
    estimate = ratio_estimate(3 * x, x)
    assert estimate.mean == pytest.approx(3.0) and estimate.half_width == pytest.approx(0.0, abs=1e-12)


def test_convergence_trace_matches_direct_computation():
    values = np.random.default_rng(0).exponential(size=200)
    beta = convergence_trace(values)
    assert np.isnan(beta[0])
    for n in (2, 50, 200):
        direct = values[:n].std(ddof=1) / np.sqrt(n) / values[:n].mean()
        assert beta[n - 1] == pytest.approx(direct)


def test_bad_inputs():
    with pytest.raises(ValueError):
        mean_estimate(np.array([1.0]))
    with pytest.raises(ValueError):
        mean_estimate(np.array([1.0, 2.0]), confidence=1.5)
