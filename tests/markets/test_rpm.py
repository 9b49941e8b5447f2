"""RPM clearing on hand-built auctions whose answers can be read off a sketch."""

import pytest

from cosim.markets.rpm import (
    CapacityOffer, DemandPoint, PrdCommitment, ProductCap, clear_rpm, shift_for_prd,
)
from cosim.markets.rules import ResourceType as R

# Price cap 300 up to 1000 MW (point a), slope -1 $/MW-day per MW to (1200, 100)
# (point b), then to (1400, 0) (point c).
SLOPED = (DemandPoint(0, 300), DemandPoint(1000, 300), DemandPoint(1200, 100), DemandPoint(1400, 0))
VERTICAL = (DemandPoint(0, 300), DemandPoint(1000, 300), DemandPoint(1000, 0))


def gen(i, mw, price, kind=R.GENERATION):
    return CapacityOffer(i, f"seller-{i}", kind, mw, price)


def test_vertical_demand_meets_an_offer_step():
    r = clear_rpm(VERTICAL, [gen("g1", 600, 50), gen("g2", 600, 80)])
    assert r.clearing_price_usd_per_mw_day == 80
    assert r.cleared_mw == {"g1": 600, "g2": pytest.approx(400)}
    assert r.cleared_ucap_mw == pytest.approx(1000)


def test_sloped_demand_sets_the_price_between_offers():
    r = clear_rpm(SLOPED, [gen("g1", 1100, 50), gen("g2", 300, 250)])
    assert r.clearing_price_usd_per_mw_day == pytest.approx(200)  # 300 - (1100 - 1000)
    assert r.cleared_mw == {"g1": 1100, "g2": 0.0}
    assert r.marginal_offer_id is None


def test_marginal_offer_clears_partially_and_sets_price():
    r = clear_rpm(SLOPED, [gen("g1", 900, 50), gen("dr1", 300, 150, R.ANNUAL)])
    assert r.clearing_price_usd_per_mw_day == 150
    assert r.cleared_mw["dr1"] == pytest.approx(250)  # D(1150) = 150
    assert r.marginal_offer_id == "dr1"
    assert r.offer_price_paid_usd_per_mw_day["g1"] == 150


def test_limited_dr_cap_binds_with_price_separation():
    cap = ProductCap("limited", frozenset({R.LIMITED}), 100)
    offers = [gen("lim1", 150, 10, R.LIMITED), gen("g1", 1000, 100), gen("g2", 300, 120)]
    r = clear_rpm(SLOPED, offers, caps=[cap])
    assert r.cleared_mw["lim1"] == pytest.approx(100)
    assert r.cleared_mw["g1"] == pytest.approx(1000)
    assert r.cleared_mw["g2"] == pytest.approx(80)    # D(1180) = 120
    assert r.clearing_price_usd_per_mw_day == 120
    (out,) = r.caps
    assert out.binding and out.cleared_ucap_mw == pytest.approx(100)
    assert out.price_usd_per_mw_day == 10
    assert r.offer_price_paid_usd_per_mw_day["lim1"] == 10
    # without the cap all 150 MW of Limited DR would clear
    assert clear_rpm(SLOPED, offers).cleared_mw["lim1"] == 150


def test_nested_caps_count_limited_in_both():
    caps = [ProductCap("limited", frozenset({R.LIMITED}), 80),
            ProductCap("summer", frozenset({R.LIMITED, R.EXTENDED_SUMMER}), 100)]
    offers = [gen("lim", 200, 5, R.LIMITED), gen("es", 200, 6, R.EXTENDED_SUMMER), gen("g", 2000, 50)]
    r = clear_rpm(SLOPED, offers, caps=caps)
    assert r.cleared_mw["lim"] == pytest.approx(80)
    assert r.cleared_mw["es"] == pytest.approx(20)
    assert all(c.binding for c in r.caps)


def test_prd_shifts_the_curve_and_lowers_the_price():
    offers = [gen("g1", 1100, 50), gen("g2", 300, 250)]
    base = clear_rpm(SLOPED, offers)
    with_prd = clear_rpm(SLOPED, offers, prd=[PrdCommitment("prd1", 50, 100)])
    assert base.clearing_price_usd_per_mw_day == pytest.approx(200)
    # Q'(p) = Q(p) - 50 for p >= 100: Q(p) = 1150 at p = 150.
    assert with_prd.clearing_price_usd_per_mw_day == pytest.approx(150)


def test_prd_above_the_price_cap_changes_nothing():
    assert shift_for_prd(SLOPED, [PrdCommitment("p", 50, 400)]) == SLOPED


def test_shortage_pays_the_curve_price():
    r = clear_rpm(SLOPED, [gen("g1", 500, 40)])
    assert r.clearing_price_usd_per_mw_day == 300


def test_bad_curve_is_rejected():
    with pytest.raises(ValueError, match="non-increasing"):
        clear_rpm((DemandPoint(0, 100), DemandPoint(10, 200)), [])


def test_availability_windows_are_data():
    from cosim.markets.rules import AVAILABILITY

    assert AVAILABILITY[R.ANNUAL].covers(month=1, weekday=False, hour=3)
    assert not AVAILABILITY[R.LIMITED].covers(month=1, weekday=True, hour=14)
    assert not AVAILABILITY[R.LIMITED].covers(month=7, weekday=False, hour=14)
    assert AVAILABILITY[R.LIMITED].covers(month=7, weekday=True, hour=14)
