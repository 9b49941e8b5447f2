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
    # groups busy with economic DR report nothing available: what is left may not cover the shortfall
    assert event["dispatched_mw"] + event["uncovered_mw"] >= 20.0 and event["dispatched_mw"] > 10.0


def test_csps_notify_esis_over_mqtt_before_the_start(pjm_run):
    trace = pjm_run.table("messages")
    to_sites = [m for m in trace if m["dst"] == "dr_sites" and " esi/csp_" in m["info"] and m["kind"] == "publish"]
    assert to_sites
    # the sites' LTE link loses packets now and then: QoS 1 resends until the ESI has it
    for lost in (m for m in to_sites if m["status"] != "delivered"):
        topic = lost["info"].split()[1]
        assert any(m["status"] == "delivered" and m["info"].split()[1] == topic
                   and float(m["sent_s"]) > float(lost["sent_s"]) for m in to_sites), lost
    from_csps = {m["src"] for m in trace if m["info"].startswith("PUBLISH esi/csp_") and m["dst"] == "pjm_broker"}
    assert from_csps == {"csp_a", "csp_b", "csp_c"}
    dispatches = [m for m in trace if m["info"].startswith("PUBLISH pjm/lm/dispatch/") and m["src"] == "pjm_ops"]
    assert dispatches
    signals = [e for e in pjm_run.events("esi_signal") if e["event_id"] == "pjm_ops-LM1"]
    lm1 = {rid for r in pjm_run.table("lm_dispatch") if r["event_id"] == "pjm_ops-LM1" for rid in r["resources"].split()}
    assert {e["resource"] for e in signals} == lm1
    assert all(e["time_s"] < ZD_START_S and e["start_s"] == ZD_START_S for e in signals)


def test_premises_curtail_after_the_lead_time(pjm_run):
    response = pjm_run.series("dr_sites/ZD", "dr_response")          # LM and economic DR of the zone's groups
    hour_before = [v for t, v in response if ZD_START_S - 3600 <= t < ZD_START_S]
    first_hour = [v for t, v in response if ZD_START_S + 60 <= t < ZD_START_S + 3600]
    lm_mw = sum(float(r["mw"]) for r in pjm_run.table("lm_dispatch") if r["event_id"] == "pjm_ops-LM1")
    assert lm_mw > 10.0
    # the called groups shed what their CSPs reported available, from the event start, not before
    assert min(first_hour) - max(hour_before) == pytest.approx(lm_mw, rel=0.15)
    load = dict(pjm_run.series("dr_sites/ZD", "load"))
    baseline = dict(pjm_run.series("dr_sites/ZD", "load_baseline"))
    assert all(load[t] < baseline[t] for t, _ in response if ZD_START_S <= t < ZD_START_S + 3 * 3600)


def test_settlement_pays_energy_per_event_and_capacity_once_per_day(pjm_run):
    rows = pjm_run.table("settlement")
    lm1 = [r for r in rows if r["event_id"] == "pjm_ops-LM1"]
    assert lm1 and len({r["csp"] for r in lm1}) == len(lm1)          # one row per CSP and event
    price = {}
    for r in pjm_run.table("rpm_results"):
        if r["seller"].startswith("csp_"):
            price[r["seller"]] = price.get(r["seller"], 0.0) + float(r["price_usd_per_mw_day"]) * float(r["cleared_ucap_mw"])
    day = {r["csp"]: r for r in rows if r["event_id"] == "day0"}
    assert set(day) == {"csp_a", "csp_b", "csp_c"}
    for csp, r in day.items():
        # capacity: price x cleared MW x 1 delivery day, once, although csp_a and csp_b served two events
        assert float(r["capacity_payment_usd"]) == pytest.approx(price[csp])
        assert all(float(e["capacity_payment_usd"]) == 0.0 for e in rows if e["csp"] == csp and e["event_id"] != "day0")
        parts = [e for e in rows if e["csp"] == csp and e["event_id"] != "day0"]
        assert float(r["energy_payment_usd"]) == pytest.approx(sum(float(e["energy_payment_usd"]) for e in parts))
        assert float(r["net_usd"]) == pytest.approx(
            float(r["energy_payment_usd"]) + float(r["capacity_payment_usd"])
            - float(r["non_performance_charge_usd"]) + float(r["bonus_payment_usd"]))
    for r in lm1:
        assert float(r["delivered_mw"]) == pytest.approx(float(r["committed_mw"]), rel=0.35)
        assert float(r["energy_payment_usd"]) > 0
    bills = pjm_run.table("bills")
    assert len(bills) == 3000
    credited = [b for b in bills if float(b["dr_credit_usd"]) > 0]
    assert credited and all(b["csp"] != "prd" for b in credited)


def test_capacity_performance_is_assessed_per_resource_with_bonus(pjm_run):
    rate = non_performance_charge_rate_usd_per_mwh(300.0)
    perf = pjm_run.table("dr_performance")
    assert perf
    for r in perf:
        assert float(r["non_performance_charge_usd"]) == pytest.approx(float(r["shortfall_mwh"]) * rate)
    charges = sum(float(r["non_performance_charge_usd"]) for r in perf)
    bonuses = sum(float(r["bonus_payment_usd"]) for r in perf)
    # over-performers share what under-performers paid, never more
    assert 0 < bonuses <= charges + 1e-6
    # not netted: a CSP can pay charges on one resource while another of its resources over-performs
    by_csp = {}
    for r in perf:
        by_csp.setdefault((r["event_id"], r["csp"]), []).append(r)
    assert any(any(float(r["shortfall_mwh"]) > 0 for r in rs) and any(float(r["bonus_mwh"]) > 0 for r in rs)
               for rs in by_csp.values())


def test_a_day_without_events_still_pays_capacity(tmp_path):
    def no_events(raw):
        raw["events"] = [e for e in raw["events"] if e["kind"] != "reserve_shortfall"]

    run = run_variant(tmp_path, no_events)
    rows = run.table("settlement")
    day = [r for r in rows if r["event_id"] == "day0"]
    assert {r["csp"] for r in day} == {"csp_a", "csp_b", "csp_c"}
    assert all(float(r["capacity_payment_usd"]) > 0 for r in day)
    assert not [r for r in rows if r["event_id"].startswith("pjm_ops-LM")]


def test_underperformance_pays_the_capacity_performance_charge(tmp_path):
    def overcommit(raw):
        app_params(raw, "dr_sites")["commit_factor"] = 1.5

    run = run_variant(tmp_path, overcommit)
    rate = non_performance_charge_rate_usd_per_mwh(300.0)
    perf = [r for r in run.table("dr_performance") if r["event_id"] == "pjm_ops-LM1"]
    short = [r for r in perf if float(r["committed_mw"]) > float(r["delivered_mw"])]
    assert len(short) > len(perf) / 2
    for r in short:
        assert float(r["shortfall_mwh"]) > 0
        assert float(r["non_performance_charge_usd"]) == pytest.approx(float(r["shortfall_mwh"]) * rate)


def test_same_seed_gives_identical_dr_results(pjm_run, tmp_path):
    again = run_variant(tmp_path)
    for name in ("timeseries.csv", "messages.csv", "events.jsonl", "settlement.csv", "bills.csv", "rpm_results.csv"):
        assert (again.out / name).read_bytes() == (pjm_run.out / name).read_bytes(), name


def test_every_dr_message_decodes_as_its_typed_record(pjm_run):
    # Handlers decode each payload into its record (cosim/markets/messages.py); one that is not an encoding of
    # that record is logged dr_bad_payload. The whole chain, enrolment to bill credit, speaks the records.
    assert pjm_run.events("dr_bad_payload") == []
    topics = {"/".join(row["info"].split()[1].split("/")[:2]) for row in pjm_run.table("messages")
              if row["protocol"] == "mqtt" and row["kind"] == "publish" and row["status"] == "delivered"}
    assert {"pjm/enrol", "esi/status", "pjm/rpm", "ami/dr_sites", "pjm/mv", "sp/credit"} <= topics
