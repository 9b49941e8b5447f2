import numpy as np
import pytest

from cosim.markets.baseline import event_mask
from cosim.markets.rules import non_performance_charge_rate_usd_per_mwh
from cosim.markets.settlement import CspTerms, mean_reduction_kw, settle_csps


def test_non_performance_rate_is_net_cone_over_30_hours_a_year():
    assert non_performance_charge_rate_usd_per_mwh(300.0) == pytest.approx(300.0 * 365 / 30)


def test_settlement_per_csp():
    mask = event_mask(24, 14, 16)                    # two event hours
    cbl = np.full((3, 24), 1000.0)                   # kW
    actual = cbl.copy()
    actual[0, 14:16] = [200.0, 400.0]                # site 0 (CSP-A): 800, 600 kW off
    actual[1, 14:16] = [600.0, 600.0]                # site 1 (CSP-A): 400 kW off
    actual[2, 14:16] = [1100.0, 900.0]               # site 2 (CSP-B): -100, +100 kW
    lmp = np.full(24, 100.0)
    lmp[15] = 200.0
    terms = [CspTerms("CSP-A", committed_mw=1.0, cleared_ucap_mw=1.0,
                      capacity_price_usd_per_mw_day=100.0, days=30),
             CspTerms("CSP-B", committed_mw=0.5, cleared_ucap_mw=0.5,
                      capacity_price_usd_per_mw_day=100.0, days=30)]
    a, b = settle_csps(terms, np.array([0, 0, 1]), cbl, actual, mask, lmp, 1, penalty_rate_usd_per_mwh=3000.0)
    assert mean_reduction_kw(cbl, actual, mask).tolist() == [700.0, 400.0, 0.0]
    assert a.delivered_mw == pytest.approx(1.1) and a.shortfall_mwh == 0.0
    # energy: site 0 0.8*100 + 0.6*200, site 1 0.4*100 + 0.4*200
    assert a.energy_payment_usd == pytest.approx(80 + 120 + 40 + 80)
    assert a.capacity_payment_usd == pytest.approx(3000.0)
    assert a.net_usd == pytest.approx(3320.0)
    # CSP-B delivered 0 MW on average: 0.5 MW short for 2 h; the +100 kW hour still earns energy
    assert b.shortfall_mwh == pytest.approx(1.0)
    assert b.non_performance_charge_usd == pytest.approx(3000.0)
    assert b.energy_payment_usd == pytest.approx(0.1 * 200)
    assert b.net_usd == pytest.approx(1500.0 + 20.0 - 3000.0)
