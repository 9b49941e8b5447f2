"""SCED against the published PJM 5-bus LMPs (Li & Bo, IEEE PES GM 2010)."""

import dataclasses

import numpy as np
import pytest

from cosim.markets.case import EconomicDrOffer, PrdBlock, case_from_dict, load_case
from cosim.markets.sced import solve_sced


@pytest.fixture(scope="module")
def case():
    return load_case("pjm5bus")


def check_balance(case, r, load=None):
    load = sum(d.mw for d in case.loads) if load is None else sum(load)
    supplied = sum(r.generator_mw.values()) + sum(r.dr_mw.values()) + sum(r.prd_mw.values()) + r.shortage_mw.sum()
    assert supplied == pytest.approx(load, abs=1e-6)


def test_pjm5bus_reproduces_published_lmps_to_the_cent(case):
    r = solve_sced(case)
    assert r.solved
    published = {"A": 16.98, "B": 26.38, "C": 30.00, "D": 39.94, "E": 10.00}
    assert {b: round(r.lmp(b), 2) for b in case.buses} == published
    # congestion components relative to reference bus D; loss is zero in DC
    assert np.round(r.congestion_usd_per_mwh, 2).tolist() == [-22.97, -13.56, -9.94, 0.0, -29.94]
    assert round(r.energy_usd_per_mwh, 2) == 39.94
    assert not r.loss_usd_per_mwh.any()
    assert r.generator_mw["Solitude"] == pytest.approx(323.49, abs=0.005)
    assert r.generator_mw["Brighton"] == pytest.approx(466.51, abs=0.005)
    assert r.generator_mw["Sundance"] == pytest.approx(0.0, abs=1e-6)
    flows = dict(zip(r.branch_names, np.round(r.flow_mw, 2)))
    assert flows["E-D"] == 240.0 and flows["A-B"] == 249.72
    assert r.branch_shadow_usd_per_mwh[r.branch_names.index("E-D")] > 0
    check_balance(case, r)


def test_uncongested_network_has_one_price(case):
    free = dataclasses.replace(case, branches=tuple(dataclasses.replace(b, limit_mw=None) for b in case.branches))
    r = solve_sced(free)
    assert np.allclose(r.lmp_usd_per_mwh, 30.0)   # Solitude is marginal everywhere
    assert not r.congestion_usd_per_mwh.any()
    check_balance(free, r)


def test_economic_dr_is_dispatched_like_a_generator(case):
    # Below the LMP at D (39.94) a small DR block clears in full and prices stay;
    # a large one becomes marginal and sets the LMP at D to its offer price.
    small = solve_sced(dataclasses.replace(case, dr_offers=(EconomicDrOffer("dr-D", "CSP-A", "D", 50.0, 35.0),)))
    assert small.dr_mw["dr-D"] == pytest.approx(50.0)
    assert round(small.lmp("D"), 2) == 39.94
    check_balance(case, small)
    big = solve_sced(dataclasses.replace(case, dr_offers=(EconomicDrOffer("dr-D", "CSP-A", "D", 400.0, 35.0),)))
    assert 0 < big.dr_mw["dr-D"] < 400.0
    assert big.lmp("D") == pytest.approx(35.0)
    check_balance(case, big)


def test_prd_reduces_load_once_the_lmp_crosses_its_threshold(case):
    # LMP at D is 39.94 without PRD: a 38 $/MWh threshold triggers, a 45 one does not.
    low = solve_sced(dataclasses.replace(case, prd=(PrdBlock("prd-D", "D", 20.0, 38.0),)))
    high = solve_sced(dataclasses.replace(case, prd=(PrdBlock("prd-D", "D", 20.0, 45.0),)))
    assert low.prd_mw["prd-D"] == pytest.approx(20.0)
    assert high.prd_mw["prd-D"] == pytest.approx(0.0, abs=1e-9)
    assert round(high.lmp("D"), 2) == 39.94
    # a PRD block big enough to move the price stops at its threshold (partial)
    marginal = solve_sced(dataclasses.replace(case, prd=(PrdBlock("prd-D", "D", 400.0, 38.0),)))
    assert 0 < marginal.prd_mw["prd-D"] < 400.0 and marginal.lmp("D") == pytest.approx(38.0)


def test_shortage_keeps_the_lp_feasible(case):
    r = solve_sced(case, load_mw=np.array([800.0, 800.0, 800.0]))
    assert r.solved and r.shortage_mw.sum() > 0
    check_balance(case, r, [800.0] * 3)


def test_case_loader_reports_every_problem():
    raw = {"buses": ["A"], "reference_bus": "Z", "branches": [{"name": "l", "from": "A", "to": "Q", "x_pu": 0}]}
    with pytest.raises(ValueError) as e:
        case_from_dict(raw)
    msg = str(e.value)
    assert "reference_bus" in msg and "branches[0].to" in msg and "x_pu" in msg
