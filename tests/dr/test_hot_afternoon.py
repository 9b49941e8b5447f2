"""The story of issue 12: a hot afternoon on the PJM 5-bus system (configs/pjm_dr.yaml), one assertion per step.

1. the LMP at D rises with the afternoon load;
2. PRD in ZD sheds along its curve as soon as the price reaches it;
3. economic DR clears at D and csp_a's ZD site groups shed for it;
4. a reserve shortfall in ZD calls Load Management, which sheds from 14:00;
5. settlement pays energy per event, capacity once for the day, and Capacity
   Performance per resource (charges and bonuses);
6. all afternoon each plant follows its basepoints within its ramp rate and
   limits, and no unit absorbs power;
7. line E-D, which the market holds at its 240 MW limit through the
   afternoon, carries no more than that plus the documented margin in any
   interval of the grid's.

The tolerances of 6 and 7 (register resolution, network latency, the 2 %
margin of docs/markets.md) are stated in ``grid_checks``.
"""

from __future__ import annotations

import numpy as np
import pytest
from dr_runs import PJM_DR
from grid_checks import (
    MARGIN_PCT,
    check_basepoints_received,
    check_enforced_branches,
    check_follows_basepoints,
    check_generator_limits,
    check_ramp,
    plants,
    read_series,
)

from cosim.markets.rules import non_performance_charge_rate_usd_per_mwh

HOUR = 3600.0


def test_1_lmp_at_d_rises_in_the_afternoon(pjm_run):
    lmp = pjm_run.series("pjm_market/D", "lmp")
    night = [v for t, v in lmp if t < 6 * HOUR]
    afternoon = [v for t, v in lmp if 12 * HOUR <= t < 18 * HOUR]
    assert max(night) < 100.0 <= max(afternoon)


def test_2_prd_sheds_along_its_curve_when_the_price_reaches_it(pjm_run):
    prd = pjm_run.series("dr_sites/ZD", "prd_response")
    lmp = pjm_run.series("pjm_market/D", "lmp")
    assert all(v == 0.0 for t, v in prd if t < 6 * HOUR)
    on = [t for t, v in prd if v > 0]
    assert on and min(s for s, v in lmp if v >= 100.0 - 1e-6) <= min(on)
    # more reduction at a higher price: along the curve, not all or nothing
    by_price = sorted((dict(lmp)[max(s for s, _ in lmp if s <= t)], v) for t, v in prd if 10 * HOUR < t < 20 * HOUR)
    reductions = {round(v, 3) for _, v in by_price if v > 0}
    assert len(reductions) > 2


def test_3_economic_dr_is_dispatched_to_the_sites(pjm_run):
    cleared = pjm_run.series("pjm_market", "economic_dr_cleared")
    assert max(v for _, v in cleared) > 0
    first = min(t for t, v in cleared if v > 0)
    calls = [e for e in pjm_run.events("esi_signal") if e["event_id"] == "csp_a.econ.D" and e["reduction_pct"] > 0]
    assert calls and min(e["time_s"] for e in calls) - first < 60.0     # the same SCED interval
    response = pjm_run.series("dr_sites/ZD", "dr_response")
    assert max(v for t, v in response if first + 60 <= t < 14 * HOUR) > 0.5 * max(v for _, v in cleared)


def test_4_load_management_is_called_for_the_reserve_shortfall(pjm_run):
    (event,) = [e for e in pjm_run.events("lm_event") if e["zone"] == "ZD"]
    assert event["start_s"] == 14 * HOUR and event["shortfall_mw"] == 20
    sent = [r for r in pjm_run.table("lm_dispatch") if r["event_id"] == event["event_id"]]
    assert sent and all(float(r["start_s"]) == 14 * HOUR for r in sent)
    response = dict(pjm_run.series("dr_sites/ZD", "dr_response"))
    before = max(v for t, v in response.items() if 13 * HOUR <= t < 14 * HOUR)
    during = min(v for t, v in response.items() if 14 * HOUR + 60 <= t < 15 * HOUR)
    assert during - before > 0.8 * sum(float(r["mw"]) for r in sent)


def test_5_settlement_pays_energy_capacity_once_and_cp(pjm_run):
    rows = pjm_run.table("settlement")
    day = {r["csp"]: r for r in rows if r["event_id"] == "day0"}
    events = [r for r in rows if r["event_id"].startswith("pjm_ops-LM")]
    assert {r["event_id"] for r in events} == {"pjm_ops-LM1", "pjm_ops-LM2"}
    assert all(float(r["capacity_payment_usd"]) == 0.0 for r in rows if r["event_id"] != "day0")
    assert all(float(r["capacity_payment_usd"]) > 0 for r in day.values())
    economic = [r for r in rows if r["event_id"].startswith("economic:")]
    assert economic and all(float(r["energy_payment_usd"]) > 0 for r in economic)
    rate = non_performance_charge_rate_usd_per_mwh(300.0)
    perf = pjm_run.table("dr_performance")
    charged = sum(float(r["non_performance_charge_usd"]) for r in perf)
    assert charged == pytest.approx(sum(float(r["shortfall_mwh"]) for r in perf) * rate)
    assert sum(float(r["non_performance_charge_usd"]) for r in day.values()) == pytest.approx(charged)
    assert 0 < sum(float(r["bonus_payment_usd"]) for r in day.values()) <= charged


def test_6_plants_follow_their_basepoints_within_ramp_and_limits(pjm_run):
    recorded = read_series(pjm_run.out)
    units = plants(PJM_DR)
    assert {u.generator for u in units} == {"gen_a", "gen_c", "gen_d", "gen_e"}
    assert check_generator_limits(PJM_DR, recorded) == 8       # no unit absorbs power (none is storage)
    for unit in units:
        check_ramp(unit, recorded)
        assert check_basepoints_received(unit, "pjm_market", recorded) >= 290     # every 5 minutes, all day
        # gen_d is the grid's slack: its measured output also carries the losses and the residual the AGC
        # removes, so its controller's set-point is what follows the orders.
        measured = "setpoint" if unit.generator == "gen_d" else "p"
        assert check_follows_basepoints(unit, "pjm_market", recorded, measured) >= 290
    # The afternoon asks something of them: gen_a ramps by more than its ramp can cover in one interval.
    _, base = recorded[("pjm_market/gen_a", "basepoint")]
    assert np.abs(np.diff(base)).max() > 4.2 * 5


def test_7_line_ed_stays_within_its_limit_and_the_margin(pjm_run):
    recorded = read_series(pjm_run.out)
    assert "E-D" in check_enforced_branches(PJM_DR, recorded)
    times, flow = recorded[("branch/E-D", "p_from")]
    afternoon = (12 * HOUR <= times) & (times < 18 * HOUR)
    market_t, market = recorded[("pjm_market/branch/E-D", "sced_flow")]
    # the market holds the line at its limit all afternoon, the grid follows to within the margin
    assert market[(12 * HOUR <= market_t) & (market_t < 18 * HOUR)].min() >= 240 - 1e-6
    assert 240 * (1 - MARGIN_PCT / 100) <= flow[afternoon].min()
    assert flow.max() <= 240 * (1 + MARGIN_PCT / 100)
