"""DR settlement as pure functions: capacity once per day, LM energy and CP per resource, economic DR at LMP.

Reference values are worked by hand from the rules (RPM price x MW x days;
reduction = CBL - metered load; PJM's CP charge rate Net CONE x 365 / 30;
M11 economic DR paid at LMP at or above the Net Benefits Test threshold).
"""

import numpy as np
import pytest

from cosim.markets.performance import CpParameters
from cosim.markets.settlement import (
    CspMeterData,
    LmCall,
    capacity_payments,
    csp_totals,
    economic_dr_energy,
    settle_load_management,
)

CP = CpParameters(300.0)
RATE = 300.0 * 365 / 30


def meter_data():
    """Two sites of csp_a, flat 1,000 kW on ten eligible history days; site 0 in r0, site 1 in r1."""
    history = np.full((2, 10, 24), 1000.0, dtype=np.float32)
    event_day = np.full((2, 24), 1000.0, dtype=np.float32)
    event_day[0, 14:16] = 200.0          # r0 sheds 800 kW for two hours
    event_day[1, 14:16] = 600.0          # r1 sheds 400 kW
    event_day[1, 20] = 500.0             # and 500 kW at 20 h
    return CspMeterData("csp_a", ("r0", "r1"), ("ZD", "ZD"), np.array([5, 9]), np.array([0, 1]), history, event_day,
                        np.ones(10, bool))


def test_capacity_is_paid_once_per_delivery_day_whatever_the_events():
    cleared = {("csp_a", "r0"): 2.0, ("csp_a", "r1"): 3.0, ("csp_b", "x"): 1.0}
    price = {("csp_a", "r0"): 100.0, ("csp_a", "r1"): 120.0, ("csp_b", "x"): 50.0}
    assert capacity_payments(cleared, price, 1) == pytest.approx({"csp_a": 560.0, "csp_b": 50.0})
    assert capacity_payments(cleared, price, 30)["csp_a"] == pytest.approx(16_800.0)


def test_load_management_energy_charge_and_bonus_per_resource():
    lmp = {"ZD": np.full(24, 100.0)}
    committed = {("csp_a", "r0"): 0.5, ("csp_a", "r1"): 0.6}
    call = LmCall("LM1", "csp_a", frozenset({"r0", "r1"}), 14 * 3600.0, 16 * 3600.0)
    out = settle_load_management([call], {"csp_a": meter_data()}, committed, lmp, CP)
    r0, r1 = out.resources
    assert (r0.delivered_mw, r1.delivered_mw) == pytest.approx((0.8, 0.4))
    assert r0.shortfall_mwh == 0.0 and r0.bonus_mwh == pytest.approx(0.3 * 2)
    assert r1.shortfall_mwh == pytest.approx(0.2 * 2)               # not netted against r0's surplus
    assert r1.non_performance_charge_usd == pytest.approx(0.4 * RATE)
    assert r0.bonus_payment_usd == pytest.approx(0.4 * RATE)          # the charges collected pay the bonus
    (event,) = out.events
    assert event.energy_payment_usd == pytest.approx((0.8 + 0.4) * 2 * 100.0)
    ids, reduction = out.site_reduction_kw["csp_a"]
    assert ids.tolist() == [5, 9] and reduction.tolist() == pytest.approx([800.0, 400.0])


def test_two_events_one_capacity_payment():
    lmp = {"ZD": np.full(24, 100.0)}
    committed = {("csp_a", "r0"): 0.5, ("csp_a", "r1"): 0.5}
    calls = [LmCall("LM1", "csp_a", frozenset({"r0"}), 14 * 3600.0, 16 * 3600.0),
             LmCall("LM2", "csp_a", frozenset({"r1"}), 20 * 3600.0, 21 * 3600.0)]
    out = settle_load_management(calls, {"csp_a": meter_data()}, committed, lmp, CP)
    assert [e.event_id for e in out.events] == ["LM1", "LM2"]
    capacity = capacity_payments(committed, {k: 100.0 for k in committed}, 1)
    (total,) = csp_totals(["csp_a"], out, capacity, {})
    assert total.capacity_payment_usd == pytest.approx(100.0)
    assert total.energy_payment_usd == pytest.approx(0.8 * 2 * 100.0 + 0.5 * 1 * 100.0)
    assert total.net_usd == pytest.approx(total.energy_payment_usd + 100.0)


def test_a_day_without_events_still_pays_capacity():
    capacity = capacity_payments({("csp_a", "r0"): 2.0}, {("csp_a", "r0"): 100.0}, 1)
    empty = settle_load_management([], {}, {}, {}, CP)
    (total,) = csp_totals(["csp_a"], empty, capacity, {})
    assert total.net_usd == pytest.approx(200.0)


def test_economic_dr_is_paid_at_lmp_only_at_or_above_the_net_benefits_threshold():
    mwh, usd = economic_dr_energy(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0]),
                                  np.array([20.0, 50.0, 60.0]), 1 / 12, nbt_threshold_usd_per_mwh=30.0)
    assert mwh == pytest.approx(4 / 12)                                 # first interval below the threshold
    assert usd == pytest.approx((2 * 50 + 2 * 60) / 12)                  # paid MW capped at what cleared


def test_economic_dr_before_4am_is_settled_on_an_unadjusted_cbl():
    from cosim.markets.settlement import settle_economic_dr

    meter = meter_data()
    meter.event_day_kwh[0, 1] = 700.0                       # r0 sheds 300 kW at 01:00
    hours = np.zeros((2, 24), dtype=np.uint8)
    hours[0, 1] = 1
    cleared = {"offer": np.where(np.arange(24) == 1, 0.5, 0.0)}
    (out,) = settle_economic_dr(meter, hours, ["offer", ""], cleared, {"ZD": np.full(24, 40.0)}, 30.0)
    assert out.reduction_mwh == pytest.approx(0.3) and out.energy_payment_usd == pytest.approx(0.3 * 40.0)
