"""IEEE 1366-2012 indices that need per-customer counts, and major event days: cases computed by hand
from the standard's definitions (clauses cited in cosim/reliability/ieee1366.py)."""

import math

import numpy as np
import pytest

from cosim.reliability.ieee1366 import (
    daily_saidi_minutes,
    major_event_days,
    major_event_threshold,
    momentary_events,
    outside_major_event_days,
    record_indices,
)

MIN = 60.0
SERVED = np.array([100, 200, 700])  # load points 0, 1, 2: 1000 customers
KW = np.array([100.0, 300.0, 600.0])


def test_a_reclose_sequence_ending_in_lockout_is_one_sustained_interruption_and_no_momentary_event():
    # LP0: three shots (2 s, 5 s, 10 s dead times) then lockout for 2 h; LP1: two shots, the second reclose holds
    lp = np.array([0, 0, 0, 0, 1, 1])
    start = np.array([0.0, 3.0, 10.0, 22.0, 1000.0, 1003.0])
    end = np.array([2.0, 8.0, 20.0, 22.0 + 7200.0, 1002.0, 1008.0])
    assert momentary_events(lp, start, end).tolist() == [False, False, False, False, True, False]
    result = record_indices(lp, start, end, SERVED, KW, 1.0, ns=(0, 1, 2))
    assert result.maifi_e_per_year == pytest.approx(200 / 1000)  # MAIFI would count 3*100 + 2*200
    assert result.cemi[0] == pytest.approx(100 / 1000)  # one customer group had a sustained interruption
    assert result.cemsmi[0] == pytest.approx(300 / 1000)


def test_caifi_ctaidi_cemi_asifi_asidi():
    # LP0 out twice (1 h, 3 h), LP1 out once (30 min), LP2 never; a momentary 1-min at LP2 counts only in CEMSMI
    lp = np.array([0, 0, 1, 2])
    start = np.array([0.0, 10_000.0, 20_000.0, 30_000.0])
    end = start + np.array([3600.0, 3 * 3600.0, 30 * MIN, 1 * MIN])
    result = record_indices(lp, start, end, SERVED, KW, 1.0, ns=(0, 1, 2))
    customer_interruptions = 2 * 100 + 200
    distinct = 100 + 200
    customer_hours = 100 * 4 + 200 * 0.5
    assert result.caifi == pytest.approx(customer_interruptions / distinct)
    assert result.ctaidi_hours == pytest.approx(customer_hours / distinct)
    assert result.cemi[1] == pytest.approx(100 / 1000) and result.cemi[2] == 0.0
    assert result.cemsmi[0] == pytest.approx(1.0) and result.cemsmi[1] == pytest.approx(100 / 1000)
    assert result.asifi_per_year == pytest.approx((2 * 100 + 300) / 1000)
    assert result.asidi_hours_per_year == pytest.approx((100 * 4 + 300 * 0.5) / 1000)
    assert result.maifi_e_per_year == pytest.approx(700 / 1000)


def test_nobody_interrupted():
    result = record_indices(np.zeros(0, dtype=int), np.zeros(0), np.zeros(0), SERVED, KW, 1.0)
    assert math.isnan(result.caifi) and result.maifi_e_per_year == 0.0 and result.cemi[1] == 0.0


def test_major_event_threshold_by_the_2_5_beta_method():
    # ln(daily SAIDI) of the nonzero days is 0, 1, 2 (mean 1, sample std 1): T_MED = e^(1 + 2.5) = e^3.5
    daily = np.array([1.0, math.e, math.e**2, 0.0, 0.0])
    assert major_event_threshold(daily) == pytest.approx(math.exp(3.5))
    # a storm day enters alpha and beta too: recomputed by hand with it included
    with_storm = np.append(daily, [200.0])
    logs = np.log(with_storm[with_storm > 0])
    threshold = math.exp(logs.mean() + 2.5 * logs.std(ddof=1))
    assert major_event_threshold(with_storm) == pytest.approx(threshold)
    # against a threshold set from history (the standard's practice: the past five years), a storm day stands out
    assert major_event_days(with_storm, threshold=math.exp(3.5)).tolist() == [5]


def test_daily_saidi_and_exclusion_of_major_event_days():
    day = 86_400.0
    start = np.array([100.0, day + 10.0, day + 500.0, 2 * day + 5.0])
    end = start + np.array([3600.0, 600.0, 60.0, 7200.0])  # the 60 s one is momentary: not in SAIDI
    customers = np.array([100.0, 50.0, 1000.0, 10.0])
    saidi = daily_saidi_minutes(start, end, customers, 1000.0, days=3)
    assert saidi.tolist() == pytest.approx([100 * 60 / 1000, 50 * 10 / 1000, 10 * 120 / 1000])
    assert outside_major_event_days(start, [1]).tolist() == [True, False, False, True]


def test_compute_indices_carries_the_record_indices_of_an_oms_log():
    from cosim.reliability.indices import InterruptionLog, compute_indices

    log = InterruptionLog()
    for start, end in ((0.0, 2.0), (3.0, 8.0), (10.0, 20.0), (22.0, 7222.0)):  # three shots and a lockout
        log.append("A", start, end)
    result = compute_indices(log, {"A": 100, "B": 300}, {"A": 1.0, "B": 1.0}, 1.0)
    assert result.system.maifi_per_year == pytest.approx(3 * 100 / 400)
    assert result.records is not None and result.records.maifi_e_per_year == 0.0
    assert result.records.caifi == pytest.approx(1.0)
