"""Capacity Performance assessment per resource per 5-minute interval (OATT Attachment DD 10A).

Reference values are the tariff's formulas worked by hand: Non-Performance
Charge Rate = Net CONE x 365 / 30 $/MWh, bonus pool = charges collected in
the interval shared pro rata to bonus MWh, stop-loss = 1.5 x Net CONE x 365 x UCAP.
"""

import numpy as np
import pytest

from cosim.markets.performance import CpParameters, assess_capacity_performance, interval_mask, to_five_minute

CP = CpParameters(net_cone_usd_per_mw_day=300.0)
RATE = 300.0 * 365 / 30        # 3,650 $/MWh


def test_rate_and_stop_loss_follow_net_cone():
    assert CP.charge_rate_usd_per_mwh == pytest.approx(RATE)
    assert CP.stop_loss_usd(np.array([10.0])).tolist() == pytest.approx([1.5 * 300 * 365 * 10])


def test_shortfall_is_charged_and_the_charges_pay_the_over_performer():
    expected = np.array([[10.0] * 12, [5.0] * 12])
    actual = np.array([[8.0] * 12, [7.0] * 12])
    out = assess_capacity_performance(expected, actual, np.ones(12, bool), np.array([10.0, 5.0]), CP)
    short, bonus, charge, paid = out.totals()
    assert short.tolist() == pytest.approx([2.0, 0.0])           # 2 MW short for one hour
    assert bonus.tolist() == pytest.approx([0.0, 2.0])
    assert charge.tolist() == pytest.approx([2.0 * RATE, 0.0])
    assert paid.tolist() == pytest.approx([0.0, 2.0 * RATE])      # the only bonus performer takes the pool


def test_each_interval_counts_on_its_own_not_the_event_average():
    expected = np.full((1, 12), 10.0)
    actual = np.array([[12.0] * 6 + [8.0] * 6])                   # average = expected
    out = assess_capacity_performance(expected, actual, np.ones(12, bool), np.array([10.0]), CP)
    assert out.shortfall_mwh.sum() == pytest.approx(2.0 * 0.5)    # 2 MW short for half an hour
    assert out.charge_usd.sum() == pytest.approx(RATE)
    # the first half's bonus MWh earn nothing: no charge was collected in those intervals
    assert out.bonus_mwh.sum() == pytest.approx(1.0) and out.bonus_usd.sum() == 0.0


def test_only_performance_assessment_intervals_count():
    pai = np.zeros(12, bool)
    pai[:3] = True
    out = assess_capacity_performance(np.full((1, 12), 10.0), np.zeros((1, 12)), pai, np.array([10.0]), CP)
    assert out.shortfall_mwh.sum() == pytest.approx(10.0 * 3 / 12)


def test_stop_loss_caps_the_year_and_only_collected_money_is_paid_out():
    expected = np.array([[10.0] * 12, [0.0] * 12])
    actual = np.array([[0.0] * 12, [4.0] * 12])
    stop_loss = 1.5 * 300 * 365 * 10
    out = assess_capacity_performance(expected, actual, np.ones(12, bool), np.array([10.0, 1.0]), CP,
                                      charged_this_year_usd=np.array([stop_loss - 2500.0, 0.0]))
    assert out.stop_loss_applied.tolist() == [True, False]
    assert out.charge_usd.sum() == pytest.approx(2500.0)
    assert out.bonus_usd.sum() == pytest.approx(2500.0)


def test_hourly_values_fill_their_five_minute_intervals():
    five = to_five_minute(np.arange(24.0)[None, :])
    assert five.shape == (1, 288) and five[0, 12 * 14:12 * 15].tolist() == [14.0] * 12
    mask = interval_mask(288, 14 * 3600.0, 17 * 3600.0, 12)
    assert mask.sum() == 36 and mask[12 * 14] and not mask[12 * 17]
