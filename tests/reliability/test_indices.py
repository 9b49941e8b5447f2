"""IEEE 1366 indices from an interruption log: a small story computed by hand."""

import math

import pytest

from cosim.reliability.indices import InterruptionLog, compute_indices

CUSTOMERS = {"A": 100, "B": 300}
LOAD_KW = {"A": 200.0, "B": 600.0}
FEEDER = {"A": "F1", "B": "F2"}
HOUR = 3600.0


def two_year_log() -> InterruptionLog:
    log = InterruptionLog()
    log.append("A", 0.0, 2 * HOUR)  # sustained, 2 h, all 100 customers
    log.append("B", 10 * HOUR, 11 * HOUR, customers=150)  # half of B for 1 h
    log.append("B", 20 * HOUR, 20 * HOUR + 300.0)  # exactly 5 min: momentary (IEEE 1366: sustained is *more than* 5 min)
    log.append("A", 30 * HOUR, 30 * HOUR + 301.0)  # 5 min 1 s: sustained
    return log


def test_system_indices_match_hand_calculation():
    result = compute_indices(two_year_log(), CUSTOMERS, LOAD_KW, period_years=2.0, feeder_of_load_point=FEEDER)
    system = result.system
    customer_interruptions = 100 + 150 + 100
    customer_hours = 100 * 2 + 150 * 1 + 100 * 301 / 3600
    assert system.customers_served == 400
    assert system.saifi_per_year == pytest.approx(customer_interruptions / 400 / 2)
    assert system.saidi_hours_per_year == pytest.approx(customer_hours / 400 / 2)
    assert system.caidi_hours == pytest.approx(customer_hours / customer_interruptions)
    assert system.asai == pytest.approx(1 - customer_hours / 400 / 2 / 8760)
    assert system.maifi_per_year == pytest.approx(300 / 400 / 2)
    momentary_kwh = 600 * 300 / 3600  # the short interruption's energy was not supplied either
    energy_kwh = 200 * 2 + 300 * 1 + 200 * 301 / 3600 + momentary_kwh  # half of B's customers carry half its load
    assert system.ens_mwh_per_year == pytest.approx(energy_kwh / 1000 / 2)
    assert system.ens_momentary_mwh_per_year == pytest.approx(momentary_kwh / 1000 / 2)
    assert system.aens_kwh_per_customer_year == pytest.approx(energy_kwh / 400 / 2)


def test_load_point_and_feeder_indices():
    result = compute_indices(two_year_log(), CUSTOMERS, LOAD_KW, period_years=2.0, feeder_of_load_point=FEEDER)
    lp = result.load_points
    assert lp.load_point_id == ("A", "B")
    assert lp.failure_rate_per_year.tolist() == pytest.approx([1.0, 0.5])
    assert lp.outage_hours_per_year.tolist() == pytest.approx([(2 + 301 / 3600) / 2, 0.5])
    assert lp.momentary_per_year.tolist() == pytest.approx([0.0, 0.5])
    assert result.feeders["F1"].saifi_per_year == pytest.approx(1.0)
    assert result.feeders["F2"].saifi_per_year == pytest.approx(150 / 300 / 2)


def test_momentary_threshold_is_configurable():
    result = compute_indices(two_year_log(), CUSTOMERS, LOAD_KW, 2.0, momentary_threshold_s=600.0)
    assert result.system.maifi_per_year == pytest.approx((300 + 100) / 400 / 2)


def test_empty_log_gives_perfect_service():
    system = compute_indices(InterruptionLog(), CUSTOMERS, LOAD_KW, 1.0).system
    assert system.saifi_per_year == 0 and system.asai == 1.0 and math.isnan(system.caidi_hours)


def test_bad_records_are_refused():
    log = InterruptionLog()
    with pytest.raises(ValueError, match="ends"):
        log.append("A", 10.0, 5.0)
    log.append("Z", 0.0, 1.0)
    with pytest.raises(KeyError, match="'Z'"):
        compute_indices(log, CUSTOMERS, LOAD_KW, 1.0)
    with pytest.raises(ValueError, match="period_years"):
        compute_indices(InterruptionLog(), CUSTOMERS, LOAD_KW, 0.0)
