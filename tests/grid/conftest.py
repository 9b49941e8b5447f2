"""Shared invariants for grid tests: every solve checks power balance."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from cosim.grid.config import GridConfig, build_network
from cosim.grid.network import Network
from cosim.grid.results import PowerFlowResult


def assert_power_balance(r: PowerFlowResult, atol_mw: float = 1e-4) -> None:
    """Generation + DER - load - shunts = losses >= 0, in P and Q, over converged islands."""
    def total(x: np.ndarray) -> float:
        return float(np.nansum(x))

    p = total(r.gen_p_mw) + total(r.der_p_mw) - total(r.load_p_mw) - total(r.shunt_p_mw)
    q = total(r.gen_q_mvar) + total(r.der_q_mvar) - total(r.load_q_mvar) - total(r.shunt_q_mvar)
    assert p == pytest.approx(r.losses_mw, abs=atol_mw)
    assert q == pytest.approx(r.losses_mvar, abs=atol_mw)
    assert r.losses_mw >= -1e-9


@pytest.fixture
def balanced() -> Callable[[PowerFlowResult], PowerFlowResult]:
    """``balanced(result)`` asserts power balance and returns the result."""
    def check(r: PowerFlowResult) -> PowerFlowResult:
        assert_power_balance(r)
        return r
    return check


@pytest.fixture
def grid() -> Callable[..., Network]:
    """``grid(**grid_section)`` builds a Network from an inline ``grid:`` section."""
    def build(**section: Any) -> Network:
        return build_network(GridConfig.model_validate(section), Path("."))
    return build
