"""Invariant: the exact merit-order walk agrees with a welfare-maximising LP.

The LP (scipy HiGHS) approximates each sloped VRR segment by many small steps
and maximises area under the demand steps minus offer cost, with the product
caps as constraints. Its cleared quantity and welfare must match the walk's to
within the discretisation error, on random auctions from a fixed seed.
"""

import numpy as np
import pytest
from scipy.optimize import linprog

from cosim.markets.rpm import CapacityOffer, DemandPoint, ProductCap, clear_rpm, demand_price
from cosim.markets.rules import ResourceType as R

STEPS = 400  # per sloped segment


def lp_clear(curve, offers, caps):
    widths, prices = [], []
    for a, b in zip(curve, curve[1:]):
        w = b.ucap_mw - a.ucap_mw
        if w <= 0:
            continue
        n = STEPS if a.price_usd_per_mw_day != b.price_usd_per_mw_day else 1
        edges = np.linspace(0, 1, n + 1)
        mids = (edges[:-1] + edges[1:]) / 2
        widths += [w / n] * n
        prices += list(a.price_usd_per_mw_day + mids * (b.price_usd_per_mw_day - a.price_usd_per_mw_day))
    n_d, n_s = len(widths), len(offers)
    c = np.concatenate([-np.array(prices), [o.price_usd_per_mw_day for o in offers]])
    a_eq = np.concatenate([np.ones(n_d), -np.ones(n_s)])[None, :]
    a_ub = [np.concatenate([np.zeros(n_d), [1.0 if o.resource_type in cap.resource_types else 0.0 for o in offers]])
            for cap in caps]
    res = linprog(c, A_ub=np.array(a_ub) if caps else None, b_ub=[cap.max_ucap_mw for cap in caps] or None,
                  A_eq=a_eq, b_eq=[0.0], bounds=list(zip([0] * (n_d + n_s), widths + [o.ucap_mw for o in offers])),
                  method="highs")
    assert res.status == 0
    return float(res.x[:n_d].sum()), -float(res.fun)


def welfare(curve, result, offers):
    xs = np.linspace(0, result.cleared_ucap_mw, 20001)
    ys = np.array([demand_price(curve, x) for x in xs])
    area = float(((ys[1:] + ys[:-1]) / 2 * np.diff(xs)).sum())  # trapezoid rule
    return area - sum(result.cleared_mw[o.offer_id] * o.price_usd_per_mw_day for o in offers)


@pytest.mark.parametrize("seed", range(8))
def test_walk_matches_lp(seed):
    rng = np.random.default_rng(seed)
    curve = (DemandPoint(0, 400), DemandPoint(900, 400), DemandPoint(1100, 150),
             DemandPoint(1300, 50), DemandPoint(1300, 0))
    kinds = [R.GENERATION, R.ANNUAL, R.LIMITED, R.EXTENDED_SUMMER]
    offers = [CapacityOffer(f"o{i}", "s", kinds[rng.integers(0, 4)], float(rng.uniform(20, 200)),
                            float(rng.uniform(0, 350))) for i in range(25)]
    caps = [ProductCap("lim", frozenset({R.LIMITED}), 60.0),
            ProductCap("summer", frozenset({R.LIMITED, R.EXTENDED_SUMMER}), 150.0)]
    walk = clear_rpm(curve, offers, caps=caps)
    q_lp, w_lp = lp_clear(curve, offers, caps)
    assert walk.cleared_ucap_mw == pytest.approx(q_lp, abs=1.0)
    assert welfare(curve, walk, offers) == pytest.approx(w_lp, rel=1e-4)
