"""CBL on hand-made meter data: 1 site, hourly, days of constant load."""

import numpy as np
import pytest

from cosim.markets.baseline import customer_baseline
from cosim.markets.rules import CBL_RULES, DayKind


def flat_days(levels):
    return np.array(levels, dtype=float)[None, :, None] * np.ones((1, 1, 24))


def test_high_4_of_5_uses_the_five_most_recent_eligible_days():
    # 7 days, oldest first: loads 50, 10..15; day 3 (load 12) was an event day.
    hist = flat_days([50, 10, 11, 12, 13, 14, 15])
    eligible = np.array([True, True, True, False, True, True, True])
    event = np.full((1, 24), 20.0)
    r = customer_baseline(hist, eligible, event, 14, 18, adjust=False)
    # five most recent eligible: 10, 11, 13, 14, 15 -> highest four 11, 13, 14, 15
    assert r.cbl_kw[0, 14] == pytest.approx((11 + 13 + 14 + 15) / 4)
    assert sorted(r.selected_days[0].tolist()) == [2, 4, 5, 6]


def test_days_are_ranked_on_event_hours_only():
    hist = flat_days([10, 10, 10, 10, 10])
    hist[0, 0, 14:18] = 30.0    # oldest day is highest during event hours only
    hist[0, 1, 0:6] = 99.0      # day 1 is high outside the event hours: not preferred
    r = customer_baseline(hist, np.ones(5, bool), np.full((1, 24), 10.0), 14, 18, adjust=False)
    assert 0 in r.selected_days[0]
    assert r.cbl_kw[0, 15] == pytest.approx((30 + 10 + 10 + 10) / 4)


def test_symmetric_additive_adjustment_window_is_3h_ending_1h_before_start():
    hist = flat_days([10, 10, 10, 10, 10])
    event = np.full((1, 24), 10.0)
    event[0, 10:13] = [13.0, 14.0, 15.0]   # hours 10-12: the window for a 14:00 start
    event[0, 13] = 100.0                   # the skipped hour does not count
    r = customer_baseline(hist, np.ones(5, bool), event, 14, 18)
    assert r.adjustment_kw[0] == pytest.approx(4.0)
    assert r.adjusted_cbl_kw[0, 14] == pytest.approx(14.0)
    # symmetric: a cooler morning shifts the baseline down
    event[0, 10:13] = 7.0
    assert customer_baseline(hist, np.ones(5, bool), event, 14, 18).adjustment_kw[0] == pytest.approx(-3.0)


def test_weekend_high_2_of_3_and_15_minute_intervals():
    hist = np.repeat(flat_days([8, 20, 12, 16]), 4, axis=2)   # 96 intervals a day
    rule = CBL_RULES[DayKind.SATURDAY]
    r = customer_baseline(hist, np.ones(4, bool), np.full((1, 96), 16.0), 56, 72,
                          intervals_per_hour=4, rule=rule)
    assert r.cbl_kw[0, 60] == pytest.approx((20 + 16) / 2)
    assert r.adjustment_kw[0] == pytest.approx(-2.0)


def test_vectorised_over_sites_with_per_site_eligibility():
    hist = np.concatenate([flat_days([1, 2, 3, 4, 5, 6]), flat_days([6, 5, 4, 3, 2, 1])])
    elig = np.ones((2, 6), bool)
    elig[1, 0] = False
    r = customer_baseline(hist, elig, np.zeros((2, 24)), 14, 18, adjust=False)
    assert r.cbl_kw[:, 14] == pytest.approx([(6 + 5 + 4 + 3) / 4, (5 + 4 + 3 + 2) / 4])
    assert r.n_selected.tolist() == [4, 4]
