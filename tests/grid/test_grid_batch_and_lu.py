"""Batch solves, LU back-ends and reused factorisations give the answers of plain Newton."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cosim.grid.acflow import prepare, solve_ac
from cosim.grid.actions import ScaleLoad
from cosim.grid.batch import solve_batch
from cosim.grid.config import CASES_DIR
from cosim.grid.matpower import load_case
from cosim.grid.newton import jacobian_pattern
from cosim.grid.service import GridService
from cosim.grid.sparse_lu import HAVE_KLU, SparseLU


def test_batch_steps_equal_single_solves() -> None:
    net = load_case(CASES_DIR / "case118.m")
    rng = np.random.default_rng(3)
    scale = rng.uniform(0.6, 1.3, (12, len(net.loads)))
    p, q = net.loads.p_mw * scale, net.loads.q_mvar * scale
    batch = solve_batch(net, load_p_mw=p, load_q_mvar=q, tolerance_pu=1e-10)
    assert batch.converged.all()
    for k in (0, 5, 11):
        one = solve_ac(replace(net, loads=replace(net.loads, p_mw=p[k], q_mvar=q[k])),
                       tolerance_pu=1e-10)
        np.testing.assert_allclose(batch.vm_pu[k], one.vm_pu, rtol=0, atol=1e-8)
        np.testing.assert_allclose(batch.va_deg[k], one.va_deg, rtol=0, atol=1e-6)
        np.testing.assert_allclose(batch.p_from_mw[k], one.p_from_mw, rtol=0, atol=1e-5)
        assert batch.losses_mw[k] == pytest.approx(one.losses_mw, abs=1e-5)


def test_batch_rejects_a_profile_of_the_wrong_shape() -> None:
    net = load_case(CASES_DIR / "case14.json")
    with pytest.raises(ValueError, match=r"load_q_mvar: expected shape \(3, 11\)"):
        solve_batch(net, load_p_mw=np.ones((3, 11)), load_q_mvar=np.ones((3, 4)))


@pytest.mark.skipif(not HAVE_KLU, reason="kvxopt (a dependency) is not installed")
def test_klu_and_superlu_solve_the_same_jacobian() -> None:
    net = load_case(CASES_DIR / "case300.m")
    prep = prepare(net)
    pat = prep.pattern
    rng = np.random.default_rng(0)
    data = rng.uniform(1.0, 2.0, len(pat.indices))
    b = rng.normal(size=pat.size)
    x = [SparseLU(pat.indices, pat.indptr, pat.size, use_klu=k).factor(data).solve(b)
         for k in (True, False)]
    np.testing.assert_allclose(x[0], x[1], rtol=1e-9, atol=1e-12)
    assert jacobian_pattern(prep.admittance.ybus, prep.split.pv, prep.split.pq).lu.last is None


def test_a_reused_factorisation_gives_the_cold_answer_after_a_large_change() -> None:
    net = load_case(CASES_DIR / "case118.m")
    svc = GridService(net)
    svc.solve_if_changed()
    svc.apply(ScaleLoad(1.4))  # far from the last point: the stale LU is refreshed
    warm = svc.solve_if_changed()
    cold = solve_ac(svc.network)
    assert warm.converged and warm.factorisations >= 1
    np.testing.assert_allclose(warm.vm_pu, cold.vm_pu, rtol=0, atol=1e-7)
