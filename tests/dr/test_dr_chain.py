"""The story of configs/pjm_dr.yaml: auction -> cleared DR -> dispatch -> ESI -> curtailment -> M&V -> settlement."""

from __future__ import annotations

import pytest

from cosim.markets.rules import non_performance_charge_rate_usd_per_mwh

from dr_runs import app_params, run_variant

ZD_START_S = 14 * 3600.0     # reserve_shortfall at 12:00, 120 min notice


def test_auction_clears_dr_as_supply(pjm_run):
    rows = pjm_run.table("rpm_results")
    cleared_dr = [r for r in rows if r["seller"].startswith("csp_") and float(r["cleared_ucap_mw"]) > 0]
    assert cleared_dr, "some DR must clear"
    (event,) = pjm_run.events("rpm_cleared")
    assert event["delivery_year"] == "2029/2030"
    assert event["dr_cleared_ucap_mw"] == pytest.approx(sum(float(r["cleared_ucap_mw"]) for r in cleared_dr))
    # everything that cleared is paid the clearing price (no cap binds in this scenario)
    assert {round(float(r["price_usd_per_mw_day"]), 6) for r in cleared_dr} == {round(event["price_usd_per_mw_day"], 6)}
    # each CSP learned its result over MQTT
    assert {e["csp"] for e in pjm_run.events("csp_rpm_result")} == {"csp_a", "csp_b", "csp_c"}


def test_plan_review_rejects_with_reasons(pjm_run):
    review = pjm_run.table("dr_plan_review")
    rejected = {(r["csp"], r["resource_id"]): r for r in review if r["status"] == "rejected"}
    doubles = [r for r in rejected.values() if "double_counting" in r["rule"]]
    assert {r["csp"] for r in doubles} >= {"csp_c"} and len({r["csp"] for r in doubles}) == 2
    listed = rejected[("csp_c", "csp_c.ZB.signed")]
    assert "dr_sites.000000" in listed["reason"] and "a site may back only one DR resource" in listed["reason"]
    other = next(r for r in doubles if r["csp"] != "csp_c")
    assert "csp_c/csp_c.ZB.signed" in other["reason"]          # each reason names every listing
    assert rejected[("csp_b", "csp_b.ZC.planned")]["rule"] == "planned_credit"
    assert ("csp_a", "csp_a.ZB.planned") not in rejected          # 5 MW x 5,000 $/MW = the 25,000 posted
    small = [r for r in rejected.values() if r["rule"] == "minimum_size"]
    assert small and all(float(r["mw"]) < 0.1 for r in small)
    assert len(pjm_run.events("dr_plan_rejected")) == sum(len(r["rule"].split(";")) for r in rejected.values())
    # rejected resources are not offered
    offered = {r["offer_id"] for r in pjm_run.table("rpm_results")}
    assert all(f"{csp}/{rid}" not in offered for csp, rid in rejected)


def test_dispatch_by_zone_and_lead_time(pjm_run):
    rows = [r for r in pjm_run.table("lm_dispatch") if r["event_id"] == "pjm_ops-LM1"]
    assert rows and {r["zone"] for r in rows} == {"ZD"}
    for r in rows:
        assert float(r["start_s"]) == ZD_START_S
        assert float(r["notify_at_s"]) == ZD_START_S - 60 * int(r["lead_time_min"])
        assert all(".ZD." in rid and rid.startswith(r["csp"]) for rid in r["resources"].split())
    leads = [int(r["lead_time_min"]) for r in rows]
    assert leads == sorted(leads, reverse=True)                   # longest lead time first
    (event,) = [e for e in pjm_run.events("lm_event") if e["event_id"] == "pjm_ops-LM1"]
    assert event["dispatched_mw"] >= 20.0 and event["uncovered_mw"] == 0.0


def test_csps_notify_esis_over_mqtt_before_the_start(pjm_run):
    trace = pjm_run.table("messages")
    to_sites = [m for m in trace if m["dst"] == "dr_sites" and " esi/csp_" in m["info"] and m["kind"] == "publish"]
    assert to_sites and all(m["status"] == "delivered" for m in to_sites)
    from_csps = {m["src"] for m in trace if m["info"].startswith("PUBLISH esi/csp_") and m["dst"] == "pjm_broker"}
    assert from_csps == {"csp_a", "csp_b", "csp_c"}
    dispatches = [m for m in trace if m["info"].startswith("PUBLISH pjm/lm/dispatch/") and m["src"] == "pjm_ops"]
    assert dispatches
    signals = [e for e in pjm_run.events("esi_signal") if e["event_id"] == "pjm_ops-LM1"]
    lm1 = {rid for r in pjm_run.table("lm_dispatch") if r["event_id"] == "pjm_ops-LM1" for rid in r["resources"].split()}
    assert {e["resource"] for e in signals} == lm1
    assert all(e["time_s"] < ZD_START_S and e["start_s"] == ZD_START_S for e in signals)


def test_premises_curtail_after_the_lead_time(pjm_run):
    response = pjm_run.series("dr_sites/ZD", "dr_response")
    before = [v for t, v in response if t < ZD_START_S]
    during = [v for t, v in response if ZD_START_S <= t < ZD_START_S + 3 * 3600]
    after = [v for t, v in response if t >= ZD_START_S + 3 * 3600]
    assert max(before) == 0.0 and max(after) == 0.0
    assert min(during) > 15.0
    load = dict(pjm_run.series("dr_sites/ZD", "load"))
    baseline = dict(pjm_run.series("dr_sites/ZD", "load_baseline"))
    assert all(load[t] < baseline[t] for t, _ in response if ZD_START_S <= t < ZD_START_S + 3 * 3600)


def test_performance_close_to_commitment_and_settlement_amounts(pjm_run):
    settlement = [r for r in pjm_run.table("settlement") if r["event_id"] == "pjm_ops-LM1"]
    assert {r["csp"] for r in settlement} == {"csp_a", "csp_b", "csp_c"}
    price = pjm_run.events("rpm_cleared")[0]["price_usd_per_mw_day"]
    cleared = {}
    for r in pjm_run.table("rpm_results"):
        cleared[r["seller"]] = cleared.get(r["seller"], 0.0) + float(r["cleared_ucap_mw"])
    for r in settlement:
        committed, delivered = float(r["committed_mw"]), float(r["delivered_mw"])
        assert delivered == pytest.approx(committed, rel=0.2)
        assert float(r["energy_payment_usd"]) > 0
        assert float(r["capacity_payment_usd"]) == pytest.approx(price * cleared[r["csp"]] * 1)
        shortfall = max(committed - delivered, 0.0) * 3
        assert float(r["shortfall_mwh"]) == pytest.approx(shortfall)
        assert float(r["net_usd"]) == pytest.approx(float(r["energy_payment_usd"]) + float(r["capacity_payment_usd"])
                                                    - float(r["non_performance_charge_usd"]))
    bills = pjm_run.table("bills")
    assert len(bills) == 3000
    credited = [b for b in bills if float(b["dr_credit_usd"]) > 0]
    assert credited and all(b["csp"] != "prd" for b in credited)


def test_underperformance_pays_the_capacity_performance_charge(tmp_path):
    def overcommit(raw):
        app_params(raw, "dr_sites")["commit_factor"] = 1.5

    run = run_variant(tmp_path, overcommit)
    rate = non_performance_charge_rate_usd_per_mwh(300.0)
    rows = [r for r in run.table("settlement") if r["event_id"] == "pjm_ops-LM1"]
    assert rows
    for r in rows:
        short = float(r["committed_mw"]) - float(r["delivered_mw"])
        assert short > 0
        assert float(r["non_performance_charge_usd"]) == pytest.approx(short * 3 * rate)


def test_same_seed_gives_identical_dr_results(pjm_run, tmp_path):
    again = run_variant(tmp_path)
    for name in ("timeseries.csv", "messages.csv", "events.jsonl", "settlement.csv", "bills.csv", "rpm_results.csv"):
        assert (again.out / name).read_bytes() == (pjm_run.out / name).read_bytes(), name
